"""Upgrading keeps yesterday's data.

The previous release, found in CHANGELOG.md (a clone may carry no git tags),
is taken out of this clone's history, built and started; an account is
seeded through its API with notes, tags, pinned, archived and trashed notes
and tokens. Then the current checkout's images take over the same compose
project and volumes, as `make up` (and `make deploy`) do: every note, tag and
token must read back exactly as before, and the old tokens must still work.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from tests.helpers.docker_env import free_port, write_stack_env
from tests.helpers.stack import ROOT, UP_TIMEOUT, Account, Stack

CHANGELOG = ROOT / "CHANGELOG.md"
# "## v0.1.0 - 2026-11-30 - commit 0123abc..." (see CHANGELOG.md's header)
RELEASE_LINE = re.compile(r"^## v(\d+\.\d+\.\d+)\b.*\bcommit ([0-9a-f]{7,40})\b", re.MULTILINE)


def previous_release() -> tuple[str, str]:
    """The newest release recorded in CHANGELOG.md: its version and commit.

    Fails (rather than skips) when there is none, or when this clone lacks
    the commit (a shallow clone): the upgrade cannot be tested then.
    """
    releases = RELEASE_LINE.findall(CHANGELOG.read_text())
    assert releases, f"{CHANGELOG.name} records no release as '## vX.Y.Z ... commit <id>'"
    version, commit = releases[0]
    known = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True, check=False
    )
    assert known.returncode == 0, f"release v{version}'s commit {commit} is not in this clone (a shallow clone?)"
    return version, commit


def checkout(commit: str, into: Path) -> Path:
    """The files of ``commit`` in ``into`` (git archive: no worktree, no index)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="tar")
    return into


def everything(api: requests.Session, stack: Stack) -> dict[str, Any]:
    """What the account holds, as the API answers it: live, archived and trashed notes, tags, tokens."""

    def get(path: str) -> Any:
        response = api.get(stack.url(path), timeout=15)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response.json()

    return {
        "live": get("/api/v1/notes?limit=100"),
        "archived": get("/api/v1/notes?limit=100&archived=true"),
        "trashed": get("/api/v1/notes?limit=100&trashed=true"),
        "tags": get("/api/v1/tags"),
        "tokens": get("/api/v1/tokens"),
    }


def seed(account: Account) -> list[str]:
    """Notes of every kind through the API; the account's tokens (the first made on the page)."""
    api = account.api()
    url = account.stack.url

    def create(**note: Any) -> dict[str, Any]:
        response = api.post(url("/api/v1/notes"), json=note, timeout=15)
        assert response.status_code == 201, response.text[:300]
        return response.json()

    create(title="Groceries", content="- milk\n- bread\n\n**urgent**", tags=["home", "list"], pinned=True)
    create(title="Ünïcode ✓", content="emoji 🎉, CJK 漢字, RTL עברית", tags=["i18n"])
    create(title="Old plans", content="archived", tags=["home"], archived=True)
    gone = create(title="To the trash", content="bye", tags=["scratch"])
    assert api.delete(url(f"/api/v1/notes/{gone['id']}"), timeout=15).status_code == 204
    second = account.create_token("second token")
    return [account.token, second]


@pytest.fixture
def upgrade_project() -> Iterator[tuple[Stack, Stack]]:
    """The previous release's stack and the current one: one compose project, one .env, two checkouts."""
    version, commit = previous_release()
    workdir = Path(tempfile.mkdtemp(prefix="notes-upgrade-"))
    project = f"notes-upgrade-{uuid.uuid4().hex[:8]}"
    http_port, https_port = free_port(), free_port()
    old_env = write_stack_env(
        workdir / "old.env", http_port=http_port, https_port=https_port, image_tag=f"v{version}", REGISTRATION="open"
    )
    new_env = workdir / "new.env"
    new_env.write_text(old_env.read_text().replace(f"NOTES_IMAGE_TAG=v{version}", "NOTES_IMAGE_TAG=upgrade-test"))
    new_env.chmod(0o600)
    old_root = checkout(commit, workdir / "old")
    ca = workdir / "ca.pem"
    old = Stack(project, old_env, http_port, https_port, ca, root=old_root)
    new = Stack(project, new_env, http_port, https_port, ca)
    try:
        yield old, new
    finally:
        try:
            print(new.compose("logs", "--no-color", "--tail", "100", check=False).stdout[-10000:])
        finally:
            new.compose("down", "-v", "--remove-orphans", "--timeout", "30", check=False, timeout=180)
            shutil.rmtree(workdir, ignore_errors=True)


def test_an_upgrade_keeps_every_note_tag_and_token(upgrade_project: tuple[Stack, Stack]) -> None:
    old, new = upgrade_project
    old.compose("build", timeout=UP_TIMEOUT)
    old.up()
    old.compose("cp", "nginx:/etc/nginx/certs/fullchain.pem", old.ca)
    old.wait_ready()
    account = Account(old, f"upgrade-{uuid.uuid4().hex[:8]}@example.com")
    assert account.register().status_code == 302
    account.create_token("first token")
    tokens = seed(account)
    before = everything(account.api(), old)
    assert len(before["live"]["items"]) == 2 and len(before["archived"]["items"]) == 1
    assert len(before["trashed"]["items"]) == 1 and len(before["tokens"]["items"]) == 2

    # The current release over the same project and volumes, as `make up` runs it.
    new.compose("build", timeout=UP_TIMEOUT)
    new.up()
    new.wait_ready()
    built = {(row["Repository"], row["Tag"]) for row in json.loads(new.compose("images", "--format", "json").stdout)}
    assert ("notes-web", "upgrade-test") in built and ("notes-nginx", "upgrade-test") in built
    assert not any(tag.startswith("v") for repo, tag in built if repo.startswith("notes-")), built

    for token in tokens:
        account.token = token
        after = everything(account.api(), new)
        # Last-used times move as the tokens are used to read; everything else is as it was.
        for listing in (before, after):
            for row in listing["tokens"]["items"]:
                row.pop("last_used_at", None)
        assert after == before
    # A note written before the upgrade can be changed after it, with its ETag.
    note = before["live"]["items"][0]
    api = account.api()
    current = api.get(new.url(f"/api/v1/notes/{note['id']}"), timeout=15)
    changed = api.patch(
        new.url(f"/api/v1/notes/{note['id']}"),
        json={"content": note["content"] + "\n- eggs"},
        headers={"If-Match": current.headers["ETag"]},
        timeout=15,
    )
    assert changed.status_code == 200, changed.text[:300]
