"""Through nginx, an import may be larger than any other request (120 MiB:
20 MiB of notes and a full attachment quota, against 1 MiB), and an export
comes back byte for byte after a round trip."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from tests.helpers.stack import Account, Stack

pytestmark = pytest.mark.stack

MIB = 1024 * 1024


def _archive_over_one_mib() -> bytes:
    """A valid export of one note whose zip is 2 MiB (stored, not deflated)."""
    note = {
        "title": "Big",
        "content": "x" * 90_000,
        "tags": ["bulk"],
        "pinned": False,
        "archived": False,
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "deleted_at": None,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("notes.json", json.dumps({"format": "notes-export", "version": 1, "notes": [note]}))
        archive.writestr("notes/padding.md", "p" * (2 * MIB))
    return buffer.getvalue()


def test_an_import_over_one_mib_reaches_the_app(stack: Stack, account: Account) -> None:
    data = _archive_over_one_mib()
    assert len(data) > MIB
    response = account.api().post(
        stack.url("/api/v1/import"), data=data, headers={"Content-Type": "application/zip"}, timeout=60
    )
    assert response.status_code == 201, response.text[:300]
    assert response.json() == {"imported": 1, "source": "a Notes export", "skipped": []}


def test_other_requests_still_stop_at_one_mib(stack: Stack, account: Account) -> None:
    response = account.api().post(
        stack.url("/api/v1/notes"), data=b"x" * (MIB + 10), headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 413


def test_an_import_over_twenty_mib_reaches_the_app_which_judges_it(stack: Stack, account: Account) -> None:
    """Room for a full quota of files: nginx lets it through, and the app refuses what is not an export."""
    response = account.api().post(
        stack.url("/api/v1/import"), data=b"x" * (21 * MIB), headers={"Content-Type": "application/zip"}, timeout=60
    )
    assert response.status_code == 422, response.text[:300]
    assert "Notes cannot read this file" in response.json()["detail"]


def test_an_import_over_nginxs_limit_is_refused_by_nginx(stack: Stack, account: Account) -> None:
    response = account.api().post(
        stack.url("/api/v1/import"), data=b"x" * (121 * MIB), headers={"Content-Type": "application/zip"}, timeout=120
    )
    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "120 MiB for an import" in response.json()["detail"]


def _location_blocks(config: str) -> dict[str, str]:
    """Each location of nginx's running HTTPS server, as `nginx -T` prints it, by its match."""
    blocks = {}
    for match in re.finditer(r"\n    location ([^{]+?) \{\n(.*?)\n    \}", config, re.S):
        blocks[match.group(1).strip()] = match.group(2)
    return blocks


def test_exports_and_imports_may_take_minutes_other_requests_35_s(stack: Stack) -> None:
    """A large account's export is built before its first byte, and its import answers once every
    note is written: nginx waits 300 s for those, and 35 s (past gunicorn's 30) for the rest."""
    config = stack.compose("exec", "-T", "nginx", "nginx", "-T").stdout
    server = config[config.index("listen 443 ssl;") :]
    server = server[: server.index("\n}\n")]
    assert re.search(r"\n    proxy_read_timeout 35s;", server)
    blocks = _location_blocks(server)
    transfers = ["= /api/v1/import", "= /account/import", "~ ^/(api/v1|account)/export$"]
    for location in transfers:
        assert "proxy_read_timeout 300s;" in blocks[location], location
        assert "proxy_send_timeout 300s;" in blocks[location], location
    others = [body for location, body in blocks.items() if location not in transfers]
    assert others and not any("proxy_read_timeout" in body for body in others)
    # A slow export is not started again on another replica: that would spend a second export.
    assert re.search(r"\n    proxy_next_upstream error timeout;", server)
    assert "proxy_next_upstream error;" in blocks["~ ^/(api/v1|account)/export$"]
