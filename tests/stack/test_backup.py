"""`make backup` / `make restore` against the running stack.

The targets are called exactly as a user would, with COMPOSE pointed at the
test's project and BACKUP_DIR at a temporary directory. The full cycle makes
notes, backs up, destroys every volume (`down -v`), brings the stack back,
restores, and compares the tables byte for byte.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import pytest
from tests.helpers.images import png
from tests.helpers.load import psql
from tests.helpers.stack import COMPOSE_FILE, ROOT, Account, Stack

pytestmark = pytest.mark.stack

# Content that a lossy encoding, a collation or a trimming step would change.
NOTES = [
    ("Einkaufsliste 🛒", "- 🍎 Äpfel\n- 🍌 Bananen\n- 👨\u200d👩\u200d👧\u200d👦 family pack\n"),
    ("会議メモ：来週の予定", "## 議題\n1. 予算 📈\n2. 採用\n\n中文：你好，世界。한국어: 안녕하세요"),
    (
        "Markdown *all* the things",
        "# Heading\n\n```python\nprint('x')  # <b>not bold</b>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "> quote with trailing spaces   \n\ttab\r\nCRLF line\nمرحبا بالعالم\ne\u0301 (combining)",
    ),
    ("  edge: untrimmed content  ", "   leading and trailing whitespace   \n\n\n"),
]


CHART = png(32, 16, (10, 200, 90))


def make(stack: Stack, target: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """`make <target>` from the repository root with COMPOSE aimed at the test stack."""
    compose = (
        f"docker compose -p {stack.project} --project-directory {ROOT} -f {COMPOSE_FILE} --env-file {stack.env_file}"
    )
    args = [f"{name}={value}" for name, value in variables.items()]
    return subprocess.run(
        ["make", "--no-print-directory", target, f"COMPOSE={compose}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def table_dump(stack: Stack) -> str:
    """Every row of the tables a restore must bring back, as COPY text (exact values)."""
    parts = []
    for table in ("users", "notes", "api_tokens", "note_attachments"):
        sql = f"COPY (SELECT * FROM {table} ORDER BY id) TO STDOUT"  # noqa: S608 - fixed table names
        parts.append(f"-- {table}\n" + psql(stack, sql))
    return "\n".join(parts)


def refresh_ca(stack: Stack) -> None:
    """`down -v` removed the certificate volume; trust the new self-signed one."""
    stack.compose("cp", "nginx:/etc/nginx/certs/fullchain.pem", stack.ca)


def test_restore_explains_bad_input(stack: Stack, tmp_path: Path) -> None:
    missing = make(stack, "restore")
    assert missing.returncode != 0
    assert "make restore FILE=" in missing.stderr

    absent = make(stack, "restore", FILE=str(tmp_path / "nope.dump"))
    assert absent.returncode != 0
    assert "is not a readable file" in absent.stderr

    junk = tmp_path / "junk.dump"
    junk.write_text("not a dump\n")
    wrong = make(stack, "restore", FILE=str(junk))
    assert wrong.returncode != 0
    assert "not a pg_dump custom-format file" in wrong.stderr


def test_backup_destroy_restore_round_trip(stack: Stack, account: Account, tmp_path: Path) -> None:
    api = account.api()
    ids = []
    for title, content in NOTES:
        created = api.post(stack.url("/api/v1/notes"), json={"title": title, "content": content}, timeout=10)
        assert created.status_code == 201, created.text[:300]
        ids.append(created.json()["id"])
    # Some state beyond the defaults: an edited (version 2) pinned note, an
    # archived one, one in the trash.
    etag = api.get(stack.url(f"/api/v1/notes/{ids[0]}"), timeout=10).headers["ETag"]
    edited = api.patch(
        stack.url(f"/api/v1/notes/{ids[0]}"),
        json={"content": NOTES[0][1] + "- 🥛 Milch\n", "pinned": True},
        headers={"If-Match": etag},
        timeout=10,
    )
    assert edited.status_code == 200, edited.text[:300]
    etag = api.get(stack.url(f"/api/v1/notes/{ids[1]}"), timeout=10).headers["ETag"]
    archived = api.patch(
        stack.url(f"/api/v1/notes/{ids[1]}"), json={"archived": True}, headers={"If-Match": etag}, timeout=10
    )
    assert archived.status_code == 200, archived.text[:300]
    assert api.delete(stack.url(f"/api/v1/notes/{ids[3]}"), timeout=10).status_code in (200, 204)

    # A file on a note: its row is in the dump, its bytes in the tar beside it.
    attached = api.post(
        stack.url(f"/api/v1/notes/{ids[2]}/attachments"), files={"file": ("chart.png", CHART)}, timeout=30
    )
    assert attached.status_code == 201, attached.text[:300]
    file_url = stack.base + attached.json()["content_url"]

    before_api = {i: api.get(stack.url(f"/api/v1/notes/{i}"), timeout=10).json() for i in ids}
    assert before_api[ids[0]]["version"] >= 2
    for (title, content), i in zip(NOTES[1:3], ids[1:3], strict=True):
        assert (before_api[i]["title"], before_api[i]["content"]) == (title.strip(), content)

    backup_dir = tmp_path / "backups"
    made = make(stack, "backup", BACKUP_DIR=str(backup_dir))
    assert made.returncode == 0, made.stderr
    # No API call from here to the comparisons: a token's last_used_at would move.
    before_rows = table_dump(stack)
    dumps = sorted(backup_dir.glob("*.dump"))
    assert len(dumps) == 1 and not list(backup_dir.glob("*.partial"))
    assert re.fullmatch(r"notes-\d{8}T\d{6}Z\.dump", dumps[0].name)
    assert dumps[0].read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert f"wrote {dumps[0]}" in made.stdout
    archives = sorted(backup_dir.glob("*.attachments.tar"))
    assert [a.name for a in archives] == [dumps[0].name.replace(".dump", ".attachments.tar")]

    # A database with data is never overwritten without FORCE=1.
    refused = make(stack, "restore", FILE=str(dumps[0]))
    assert refused.returncode != 0
    assert "refusing to overwrite a database that holds" in refused.stderr
    assert "FORCE=1" in refused.stderr
    assert table_dump(stack) == before_rows

    # Destroy everything, come back empty, restore.
    stack.compose("down", "-v", "--timeout", "30", timeout=180)
    stack.up()
    refresh_ca(stack)
    stack.wait_ready()
    assert psql(stack, "SELECT count(*) FROM notes").strip() == "0"
    assert psql(stack, "SELECT count(*) FROM users").strip() == "0"

    restored = make(stack, "restore", FILE=str(dumps[0]))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "restore: restored" in restored.stdout
    assert "restored the attachments" in restored.stdout
    stack.wait_ready()
    assert table_dump(stack) == before_rows
    # The volume was destroyed too: the file is back from the tar, byte for byte.
    again = api.get(file_url, timeout=10)
    assert again.status_code == 200 and again.content == CHART
    after_api = {i: api.get(stack.url(f"/api/v1/notes/{i}"), timeout=10).json() for i in ids}
    assert after_api == before_api

    # Over data, FORCE=1 replaces it: a note made after the backup is gone.
    extra = api.post(stack.url("/api/v1/notes"), json={"title": f"after-{uuid.uuid4().hex[:6]}"}, timeout=10)
    assert extra.status_code == 201
    assert make(stack, "restore", FILE=str(dumps[0])).returncode != 0
    forced = make(stack, "restore", FILE=str(dumps[0]), FORCE="1")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "FORCE=1: replacing" in forced.stdout
    stack.wait_ready()
    assert table_dump(stack) == before_rows
    assert api.get(stack.url(f"/api/v1/notes/{extra.json()['id']}"), timeout=10).status_code == 404
