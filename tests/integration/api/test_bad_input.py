"""Hostile and unusual input: bad bytes, any Unicode, SQL-looking text, huge ids."""

from __future__ import annotations

import sqlalchemy as sa
from tests.helpers.api import API, assert_problem, count, fresh_note

from app.models import Note, db


def test_invalid_utf8_body_is_400_and_stores_nothing(client, headers, subtests):
    for payload in [
        b'{"title": "caf\xe9"}',  # Latin-1, not UTF-8
        b'{"title": "\xff\xfe"}',
        b'{"title": "x", "content": "\xc3"}',  # truncated sequence
    ]:
        with subtests.test(payload=payload):
            response = client.post(f"{API}/notes", data=payload, content_type="application/json", headers=headers)
            body = assert_problem(response, 400)
            assert "UTF-8" in body["detail"]
            assert count(Note) == 0


TEXTS = {
    "emoji": "Plan 🚀🔥 with family 👨‍👩‍👧‍👦 and flag 🇳🇿",
    "cjk": "会議のメモ 中文笔记 한국어 메모",
    "rtl": "שלום עולם مرحبا بالعالم",
    "combining": "e\u0301 Z\u0351\u0362\u0314a\u0300l\u0308g\u030co",
    "mixed_bidi": "abc \u202eevil\u202c def",
    "astral": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𓀀",
}


def test_unicode_round_trips_exactly(client, headers, subtests):
    for name, text in TEXTS.items():
        with subtests.test(name=name):
            created = client.post(f"{API}/notes", json={"title": text, "content": text * 3}, headers=headers)
            assert created.status_code == 201

            got = client.get(created.headers["Location"], headers=headers).get_json()
            assert got["title"] == text
            assert got["content"] == text * 3
            stored = fresh_note(got["id"])
            assert stored is not None and stored.title == text and stored.content == text * 3


def test_unicode_sent_unescaped_round_trips(client, headers):
    # Clients that write raw UTF-8 rather than \u escapes must work too.
    text = TEXTS["emoji"] + TEXTS["cjk"]
    body = '{"title": "TEXT"}'.replace("TEXT", text).encode()
    created = client.post(f"{API}/notes", data=body, content_type="application/json", headers=headers)
    assert created.status_code == 201
    assert created.get_json()["title"] == text


def test_title_length_counts_characters_not_bytes(client, headers):
    title = "📝" * 200  # 800 bytes of UTF-8, but 200 characters
    assert client.post(f"{API}/notes", json={"title": title}, headers=headers).status_code == 201
    assert_problem(client.post(f"{API}/notes", json={"title": "📝" * 201}, headers=headers), 422)
    assert count(Note) == 1


def test_sql_looking_text_is_stored_verbatim_and_harms_nothing(client, headers, factory, user, subtests):
    other = factory.note(user, title="Bystander")
    for rows, text in enumerate(
        [
            "'; DROP TABLE notes; --",
            "1 OR 1=1",
            '" OR ""="',
            "Robert'); DELETE FROM users WHERE ('1'='1",
            "%' UNION SELECT token_hash FROM api_tokens --",
        ],
        start=2,
    ):
        with subtests.test(text=text):
            created = client.post(f"{API}/notes", json={"title": text, "content": text}, headers=headers)
            assert created.status_code == 201

            got = client.get(created.headers["Location"], headers=headers).get_json()
            assert (got["title"], got["content"]) == (text, text)
            assert count(Note) == rows
            assert fresh_note(other.id) is not None
            assert db.session.scalar(sa.text("SELECT count(*) FROM users")) == 1
            titles = [n["title"] for n in client.get(f"{API}/notes?limit=100", headers=headers).get_json()["items"]]
            assert titles[0] == text and "Bystander" in titles


def test_sql_looking_query_arguments_are_rejected_not_run(client, headers, factory, user):
    factory.note(user)
    assert_problem(client.get(f"{API}/notes", query_string={"limit": "1 OR 1=1"}, headers=headers), 422)
    assert_problem(client.get(f"{API}/notes", query_string={"cursor": "' OR 1=1 --"}, headers=headers), 400)
    assert count(Note) == 1


def test_very_long_single_line_content_within_limit_is_accepted(client, headers):
    content = ("lorem-ipsum " * 10_000)[:100_000]
    assert "\n" not in content and len(content) == 100_000
    created = client.post(f"{API}/notes", json={"title": "Long", "content": content}, headers=headers)
    assert created.status_code == 201
    assert client.get(created.headers["Location"], headers=headers).get_json()["content"] == content


def test_control_characters_other_than_nul_are_kept(client, headers):
    content = "tab\tnew\nline\r\nbell\x07"
    created = client.post(f"{API}/notes", json={"title": "Ctl", "content": content}, headers=headers)
    assert created.status_code == 201
    assert created.get_json()["content"] == content


def test_ids_beyond_the_database_range_are_404_not_500(client, headers, subtests):
    for note_id in [2**31, 2**63, 10**20]:
        with subtests.test(note_id=note_id):
            assert_problem(client.get(f"{API}/notes/{note_id}", headers=headers), 404)
            assert_problem(client.delete(f"{API}/trash/{note_id}", headers=headers), 404)
            assert_problem(client.get(f"{API}/tokens/{note_id}", headers=headers), 404)


def test_json_that_parses_but_cannot_be_used_is_400_and_stores_nothing(client, headers, factory, user, subtests):
    """Deep nesting, huge integers and lone surrogates were 500s; each is a 400 saying why."""
    note = factory.note(user, title="kept")
    bodies = {
        "nested": ("[" * 10_000 + "]" * 10_000, "nested too deeply"),
        "digits": ('{"title": "x", "pinned": ' + "9" * 5000 + "}", "too many digits"),
        "surrogate": ('{"title": "\\ud800"}', "lone UTF-16 surrogate"),
        "surrogate in a tag": ('{"title": "x", "tags": ["\\udfff"]}', "lone UTF-16 surrogate"),
    }
    for name, (body, reason) in bodies.items():
        for method, path, extra in [
            ("post", f"{API}/notes", {}),
            ("patch", f"{API}/notes/{note.id}", {"If-Match": "*"}),
            ("post", f"{API}/tokens", {}),
        ]:
            with subtests.test(body=name, method=method, path=path):
                response = client.open(
                    path, method=method, data=body, content_type="application/json", headers={**headers, **extra}
                )
                assert reason in assert_problem(response, 400)["detail"]
    assert count(Note) == 1
    assert fresh_note(note.id).title == "kept"
