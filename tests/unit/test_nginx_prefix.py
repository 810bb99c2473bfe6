"""nginx's part of URL_PREFIX (nginx/docker-entrypoint.d/35-notes-prefix.sh): what it answers
outside the prefix, and a bad prefix stops nginx's start. tests/stack/prefix/ runs it in the
real nginx image, behind which the app is served under /notes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1].parent
SCRIPT = ROOT / "nginx" / "docker-entrypoint.d" / "35-notes-prefix.sh"
TEMPLATE = ROOT / "nginx" / "templates" / "notes.conf.template"


def run(prefix: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "URL_PREFIX": prefix, "NOTES_PREFIX_CONF": str(out)}
    return subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=10, check=False)


@pytest.mark.parametrize("prefix", ["", "/"])
def test_at_the_root_nothing_is_added(tmp_path, prefix):
    out = tmp_path / "prefix.conf"
    assert run(prefix, out).returncode == 0
    assert "location" not in out.read_text()


def test_under_a_prefix_the_root_redirects_into_it_and_the_rest_is_a_404(tmp_path):
    out = tmp_path / "prefix.conf"
    result = run("/apps/notes", out)
    assert result.returncode == 0, result.stderr
    conf = out.read_text()
    assert "location = / {\n    return 302 https://$host$notes_https_port/apps/notes/;" in conf
    assert "location = /apps/notes {\n    return 308 https://$host$notes_https_port/apps/notes/$is_args$args;" in conf
    assert "location / {\n    return 404;" in conf


@pytest.mark.parametrize("prefix", ["notes", "/notes/", "/no tes", "/a//b", "/a/../b", "/..", "/a;b", "/a$host"])
def test_a_bad_prefix_stops_the_start_saying_what_to_set(tmp_path, prefix):
    out = tmp_path / "prefix.conf"
    result = run(prefix, out)
    assert result.returncode == 1
    assert "set it like URL_PREFIX=/notes" in result.stderr
    assert not out.exists()


def test_every_location_of_the_app_starts_with_the_prefix():
    """notes.conf's HTTPS server: only the health server's, the named and the internal locations are left unprefixed."""
    text = TEMPLATE.read_text()
    https = text[text.index("# --- port 443: the app.") : text.index("# --- container healthcheck only")]
    locations = re.findall(r"^\s*location\s+(?:[=^~]+\s+)?(\S+)\s*\{", https, re.MULTILINE)
    assert len(locations) > 10
    for path in locations:
        if path == "/_attachments/":
            # Reached only by the app's X-Accel-Redirect, never by a client's path.
            block = https[https.index("location /_attachments/ {") :]
            assert "internal;" in block[: block.index("}")]
            continue
        assert path.startswith(("${URL_PREFIX}/", "^${URL_PREFIX}/", "@")), path
    assert "include /etc/nginx/notes/prefix.conf;" in https
