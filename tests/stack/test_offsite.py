"""Off-site copies: the pgBackRest repository, copied by restic, survives losing every volume.

A stack of its own, whose backup service copies the repository with restic
after every base backup to /offsite: a host directory here (OFFSITE_VOLUME),
standing in for the remote, so that `docker compose down -v` cannot touch
it. The schedule is sped up (a differential backup every 36 s) so that the
test also sees the service take one by itself. Then every volume is
destroyed, `make restore-offsite` puts the copy back, pgBackRest verifies
it, and `make restore-pitr TIME=latest` rebuilds the database from it.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from tests.helpers.pitr import backups, run_make, wait_for_backup
from tests.helpers.stack import UNTHROTTLED, Account, Stack, running_stack

pytestmark = pytest.mark.stack

PASSWORD = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("offsite")
    path.chmod(0o777)  # the backup service writes as the image's postgres user
    return path


@pytest.fixture(scope="module")
def offsite_stack(compose_available: None, remote: Path) -> Iterator[Stack]:
    settings = {
        "RESTIC_REPOSITORY": "/offsite",
        "RESTIC_PASSWORD": PASSWORD,
        "OFFSITE_VOLUME": str(remote),
        "BACKUP_CHECK_SECONDS": "5",
        "BACKUP_DIFF_EVERY_HOURS": "0.01",
    }
    with running_stack(**settings, **UNTHROTTLED) as stack:
        yield stack


def snapshot_times(stack: Stack) -> list[float]:
    """When each restic snapshot was taken (restic writes nanoseconds; Python reads microseconds)."""
    out = stack.compose("exec", "-T", "backup", "restic", "snapshots", "--no-lock", "--json").stdout
    return [
        datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", s["time"]).replace("Z", "+00:00")).timestamp()
        for s in json.loads(out) or []
    ]


def test_a_restic_copy_rebuilds_everything_after_all_volumes_are_lost(offsite_stack: Stack, remote: Path) -> None:
    stack = offsite_stack
    account = Account(stack, f"offsite-{secrets.token_hex(4)}@example.com")
    assert account.register().status_code == 302
    account.create_token()
    api = account.api()
    titles = [f"offsite-{secrets.token_hex(4)}-{n}" for n in range(3)]
    ids = []
    for title in titles:
        created = api.post(stack.url("/api/v1/notes"), json={"title": title, "content": "kept off-site"}, timeout=10)
        assert created.status_code == 201, created.text[:300]
        ids.append(created.json()["id"])

    # A file on a note: its bytes live in the attachments volume, not the database.
    attached = api.post(
        stack.url(f"/api/v1/notes/{ids[0]}/attachments"), files={"file": ("kept.txt", b"kept off-site too")}, timeout=30
    )
    assert attached.status_code == 201, attached.text[:300]
    key = attached.json()["key"]

    # The schedule takes a differential backup by itself, and copies it off-site.
    written = time.time()
    diff = wait_for_backup(stack, newer_than=written, kind="diff", timeout=150)
    deadline = time.monotonic() + 120
    while not any(taken > diff["timestamp"]["stop"] for taken in snapshot_times(stack)):
        assert time.monotonic() < deadline, stack.logs("backup")[-3000:]
        time.sleep(3)
    # And on demand: make backup-offsite takes a new snapshot (forget keeps one a day, the newest).
    newest = max(snapshot_times(stack))
    now = run_make(stack, "backup-offsite")
    assert now.returncode == 0, now.stdout + now.stderr
    assert max(snapshot_times(stack)) > newest
    copied = {b["label"] for b in backups(stack)}
    assert diff["label"] in copied
    # The snapshot holds the attachments volume too.
    listed = stack.compose(
        "exec", "-T", "backup", "restic", "ls", "--recursive", "--host", "notes", "latest", "/attachments"
    )
    assert f"/attachments/{key[:2]}/{key}" in listed.stdout, listed.stdout[-2000:]

    # Encrypted: the remote holds restic's files only, no note text, and another password opens nothing.
    assert (remote / "config").is_file() and (remote / "keys").is_dir()
    for path in remote.rglob("*"):
        if path.is_file():
            assert titles[0].encode() not in path.read_bytes(), f"{path} holds a note title in clear"
    wrong = stack.compose(
        "exec", "-T", "-e", "RESTIC_PASSWORD=not-the-password", "backup", "notes-offsite", "snapshots", check=False
    )
    assert wrong.returncode != 0 and "wrong password" in wrong.stderr, wrong.stdout + wrong.stderr

    # A repository that holds backups is not overwritten without FORCE=1.
    refused = run_make(stack, "restore-offsite")
    assert refused.returncode != 0 and "refusing" in refused.stderr, refused.stdout + refused.stderr
    assert stack.container_ids("backup"), "restore-offsite left the backup service stopped"

    # Every volume gone: database, pgBackRest repository, certificates.
    stack.compose("down", "-v", "--timeout", "30", timeout=180)

    restored = run_make(stack, "restore-offsite")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "restored snapshot" in restored.stdout
    verify = stack.compose("run", "--rm", "--no-deps", "-T", "backup", "pgbackrest", "--stanza=notes", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    labels = {b["label"] for b in backups(stack)}
    assert diff["label"] in labels and labels <= copied, (labels, copied)

    rebuilt = run_make(stack, "restore-pitr", TIME="latest")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    stack.compose("cp", "nginx:/etc/nginx/certs/fullchain.pem", stack.ca)  # a new self-signed certificate
    stack.wait_ready()
    for note_id, title in zip(ids, titles, strict=True):
        got = api.get(stack.url(f"/api/v1/notes/{note_id}"), timeout=10)
        assert got.status_code == 200 and got.json()["title"] == title, got.text[:300]
