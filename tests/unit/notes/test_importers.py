"""Notes from other apps (app.notes.importers), each format from a small archive built here."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from app.notes.importers import (
    ImportProblem,
    foreign_file,
    foreign_zip,
    hashtags,
    read_enex,
    read_memos,
)


def _zip(files: dict[str, str | bytes]) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 10))
            archive.writestr(info, body)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def _read(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bytes:
    return archive.read(entry)


def _by_title(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["title"]: r for r in records}


# --- Markdown --------------------------------------------------------------------


def test_markdown_files_with_and_without_front_matter() -> None:
    source = foreign_zip(
        _zip(
            {
                "vault/Plans.md": "---\ntitle: Summer plans\ntags: [travel, 2024]\npinned: true\n"
                "created: 2024-01-02T03:04:05Z\n---\n\nGo to the coast.\n",
                "vault/ideas/Recipes.markdown": "# Bread\n\nFlour, water, #baking and #kitchen/tools.\n",
                "vault/plain.txt": "Just text, no heading.\n",
                "vault/photo.jpg": b"\xff\xd8\xff",
                "vault/.obsidian/app.json": "{}",
                "__MACOSX/vault/._Plans.md": b"\x00\x05",
            }
        ),
        _read,
    )
    assert source is not None and source.name == "a zip of Markdown files"
    notes = _by_title(source.records)
    assert set(notes) == {"Summer plans", "Bread", "plain"}
    plans = notes["Summer plans"]
    assert (plans["content"], plans["tags"], plans["pinned"]) == ("Go to the coast.", ["travel", "2024"], True)
    assert plans["created_at"] == "2024-01-02T03:04:05+00:00"
    bread = notes["Bread"]
    assert bread["content"] == "Flour, water, #baking and #kitchen/tools."
    assert bread["tags"] == ["baking", "kitchen/tools"]
    assert bread["updated_at"] == "2024-05-06T07:08:10+00:00"  # the file's own time
    assert notes["plain"]["content"] == "Just text, no heading."
    assert source.skipped == ["1 file that is not Markdown or text"]


def test_a_markdown_file_that_is_not_utf8_or_has_broken_front_matter_is_skipped_and_named() -> None:
    source = foreign_zip(
        _zip({"a.md": "fine", "b.md": "caf\xe9".encode("latin-1"), "c.md": "---\ntitle: [unclosed\n---\nx"}), _read
    )
    assert source is not None
    assert [r["title"] for r in source.records] == ["a"]
    assert source.skipped == ["b.md: not UTF-8 text", "c.md: its front matter is not valid YAML"]


def test_hashtags_are_words_after_a_hash_not_headings_or_numbers() -> None:
    assert hashtags("# Heading\n#one two #three, and#not #4 #x-y/") == ["one", "three", "x-y"]


# --- Google Keep ---------------------------------------------------------------------


def _keep(**fields: Any) -> str:
    base = {
        "title": "",
        "textContent": "",
        "isPinned": False,
        "isArchived": False,
        "isTrashed": False,
        "createdTimestampUsec": 1_700_000_000_000_000,
        "userEditedTimestampUsec": 1_700_000_100_000_000,
    }
    return json.dumps({**base, **fields})


def test_keep_notes_checklists_labels_and_what_is_left_out() -> None:
    source = foreign_zip(
        _zip(
            {
                "Takeout/Keep/Shopping.json": _keep(
                    title="Shopping",
                    listContent=[{"text": "milk", "isChecked": True}, {"text": "eggs", "isChecked": False}],
                    labels=[{"name": "home"}],
                    isPinned=True,
                ),
                "Takeout/Keep/Untitled.json": _keep(textContent="Call Ann\nabout Sunday", isArchived=True),
                "Takeout/Keep/Old.json": _keep(title="Old", textContent="gone", isTrashed=True),
                "Takeout/Keep/Photo.json": _keep(title="Photo", textContent="see", attachments=[{"filePath": "a.png"}]),
                "Takeout/Keep/Shopping.html": "<html></html>",
                "Takeout/Keep/Labels.txt": "home",
            }
        ),
        _read,
    )
    assert source is not None and source.name == "Google Keep"
    notes = _by_title(source.records)
    assert set(notes) == {"Shopping", "Call Ann", "Photo"}
    shopping = notes["Shopping"]
    assert shopping["content"] == "- [x] milk\n- [ ] eggs"
    assert (shopping["tags"], shopping["pinned"]) == (["home"], True)
    assert shopping["created_at"] == "2023-11-14T22:13:20+00:00"
    assert (notes["Call Ann"]["content"], notes["Call Ann"]["archived"]) == ("about Sunday", True)
    assert "Old.json: in Keep's trash" in source.skipped
    assert "Photo.json: 1 attachment(s) not imported (the text was)" in source.skipped
    assert "2 other Takeout files (HTML copies, media, labels)" in source.skipped


def test_a_long_title_is_cut_at_a_word_and_kept_whole_in_the_content() -> None:
    long_title = " ".join(["word"] * 60)
    source = foreign_zip(_zip({"Keep/Long.json": _keep(title=long_title, textContent="body")}), _read)
    assert source is not None
    (record,) = source.records
    assert record["title"].endswith("…") and len(record["title"]) <= 200
    assert record["content"] == f"{long_title}\n\nbody"


def test_too_many_or_unusable_tags_are_left_out_and_named() -> None:
    labels = [{"name": f"t{i}"} for i in range(22)] + [{"name": "a,b"}]
    source = foreign_zip(_zip({"Keep/Tags.json": _keep(title="Tags", textContent="x", labels=labels)}), _read)
    assert source is not None
    assert source.records[0]["tags"] == [f"t{i}" for i in range(20)]
    assert any("the tag 'a,b' was left out" in s for s in source.skipped)
    assert any("2 tags beyond the 20 a note may have were left out (t20, t21)" in s for s in source.skipped)


# --- memos -----------------------------------------------------------------------


def test_memos_take_their_title_from_the_first_line() -> None:
    data = json.dumps(
        {
            "memos": [
                {"content": "Standup notes\n- shipped #release", "createTime": "2024-03-01T09:00:00Z",
                 "updateTime": "2024-03-01T10:00:00Z", "pinned": True, "state": "NORMAL", "tags": ["release"]},
                {"content": "old thought #idea", "createTime": "2023-01-01T00:00:00Z", "rowStatus": "ARCHIVED"},
                {"content": "   "},
                "not a memo",
            ]
        }
    ).encode()  # fmt: skip
    source = foreign_file(data)
    assert source is not None and source.name == "memos"
    notes = _by_title(source.records)
    assert notes["Standup notes"]["content"] == "- shipped #release"
    assert notes["Standup notes"]["pinned"] is True and notes["Standup notes"]["tags"] == ["release"]
    assert notes["Standup notes"]["updated_at"] == "2024-03-01T10:00:00+00:00"
    assert notes["old thought #idea"]["archived"] is True and notes["old thought #idea"]["tags"] == ["idea"]
    assert source.skipped == ["memo 3: empty", "memo 4: not a memo"]


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"{not json", "not valid JSON"), (b'{"notes": []}', 'has no "memos" list'), (b"\xff\xfe{", "not valid JSON")],
)
def test_a_bad_memos_file_says_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(ImportProblem, match=message):
        read_memos(data)


# --- Evernote ---------------------------------------------------------------------

ENEX = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE en-export SYSTEM "http://xml.evernote.com/pub/evernote-export4.dtd">
<en-export export-date="20240101T000000Z" application="Evernote" version="10">
  <note>
    <title>Trip</title>
    <created>20231224T101500Z</created>
    <updated>20231225T080000Z</updated>
    <tag>travel</tag><tag>family</tag>
    <content><![CDATA[<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE en-note SYSTEM "http://xml.evernote.com/pub/enml2.dtd">
<en-note><h1>Packing</h1><ul><li><en-todo checked="true"/>passport</li><li><en-todo/>charger</li></ul>
<div>See <a href="https://example.org/map">the map</a> and <b>book</b> the ferry.</div>
<en-media type="image/png" hash="abc"/></en-note>]]></content>
    <resource><data encoding="base64">iVBORw0KGgo=</data></resource>
  </note>
  <note><title></title><content><![CDATA[<en-note><div>No title here</div></en-note>]]></content></note>
</en-export>"""


def test_enex_notes_become_markdown_with_tasks_links_and_tags() -> None:
    source = foreign_file(ENEX.encode())
    assert source is not None and source.name == "Evernote"
    notes = _by_title(source.records)
    trip = notes["Trip"]
    assert "# Packing" in trip["content"]
    assert "- [x] passport" in trip["content"] and "- [ ] charger" in trip["content"]
    assert "[the map](https://example.org/map)" in trip["content"] and "**book**" in trip["content"]
    assert trip["tags"] == ["travel", "family"]
    assert (trip["created_at"], trip["updated_at"]) == ("2023-12-24T10:15:00+00:00", "2023-12-25T08:00:00+00:00")
    assert "No title here" in notes
    assert source.skipped == ["note 1 (Trip): 1 attachment(s) not imported (the text was)"]


@pytest.mark.parametrize(
    "data",
    [
        # Entity expansion (billion laughs) and an external entity: refused, never expanded or fetched.
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<en-export><note><title>&b;</title></note></en-export>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<en-export><note><title>&e;</title></note></en-export>",
        b"<en-export><note><title>unclosed</note>",
    ],
)
def test_hostile_or_broken_xml_is_refused(data: bytes) -> None:
    with pytest.raises(ImportProblem, match="cannot be read"):
        read_enex(data)


def test_xml_that_is_not_an_enex_is_refused() -> None:
    with pytest.raises(ImportProblem, match="not an Evernote export"):
        read_enex(b"<html><body>hi</body></html>")


def test_an_unknown_upload_is_nobodys() -> None:
    assert foreign_file(b"just some text") is None
    assert foreign_zip(_zip({"a.pdf": b"%PDF"}), _read) is None
