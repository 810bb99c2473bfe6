"""nginx's certificate watcher (nginx/docker-entrypoint.d/41-notes-cert-watch.sh),
run here with a stand-in `nginx` that records what it is asked: a new pair is
tested and then reloaded once; a pair that does not load is never reloaded
and is reported once; nothing happens while the files stay as they are.
tests/stack/test_acme.py runs it in the real nginx image."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

WATCHER = Path(__file__).resolve().parents[2] / "nginx" / "docker-entrypoint.d" / "41-notes-cert-watch.sh"
FAKE_NGINX = """#!/bin/sh
echo "$*" >> "{calls}"
if [ "$1" = "-t" ] && [ -e "{broken}" ]; then
    echo "nginx: [emerg] SSL_CTX_use_PrivateKey() failed (key values mismatch)" >&2
    exit 1
fi
exit 0
"""


class Watched:
    def __init__(self, root: Path) -> None:
        self.certs = root / "certs"
        self.calls = root / "calls"
        self.broken = root / "broken"
        self.log = root / "watcher.log"

    def replace(self, name: str, text: str) -> None:
        """As the acme service does: a new file renamed over the old one."""
        tmp = self.certs / f".{name}.tmp"
        tmp.write_text(text)
        os.replace(tmp, self.certs / name)

    def asked(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []


def wait_until(probe: Callable[[], object], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.05)
    raise AssertionError("not within the time allowed")


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Watched]:
    w = Watched(tmp_path)
    w.certs.mkdir()
    (w.certs / "fullchain.pem").write_text("cert 1")
    (w.certs / "privkey.pem").write_text("key 1")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nginx").write_text(FAKE_NGINX.format(calls=w.calls, broken=w.broken))
    (bin_dir / "nginx").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "NOTES_CERT_DIR": str(w.certs),
        "NOTES_CERT_WATCH_INTERVAL": "0.2",
    }
    with open(w.log, "w") as log:
        # The entrypoint runs it and moves on; its loop lives in the background.
        # `wait` keeps that loop in this process group, so the test can end it.
        proc = subprocess.Popen(
            ["sh", "-c", f". {WATCHER}; echo started; wait"], env=env, stdout=log, stderr=log, start_new_session=True
        )
    try:
        wait_until(lambda: "started" in w.log.read_text())  # it has taken the pair's signature
        yield w
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def test_nothing_happens_while_the_pair_stays_as_it_is(watched: Watched) -> None:
    time.sleep(1)
    assert watched.asked() == []


def test_a_new_pair_is_tested_then_reloaded_once(watched: Watched) -> None:
    watched.replace("privkey.pem", "key 2")
    watched.replace("fullchain.pem", "cert 2")
    wait_until(lambda: "-s reload" in watched.asked())
    time.sleep(1)  # and not again: the new pair is now the one it knows
    assert watched.asked() == ["-t -q", "-s reload"]
    assert "changed; reloading nginx" in watched.log.read_text()


def test_a_pair_that_does_not_load_is_not_reloaded_and_is_reported_once(watched: Watched) -> None:
    watched.broken.touch()
    watched.replace("privkey.pem", "key from another certificate")
    wait_until(lambda: "does not load" in watched.log.read_text())
    time.sleep(1)
    assert "-s reload" not in watched.asked()
    log = watched.log.read_text()
    assert log.count("does not load") == 1
    assert "key values mismatch" in log

    watched.broken.unlink()  # the matching certificate arrives
    watched.replace("fullchain.pem", "cert 2")
    wait_until(lambda: "-s reload" in watched.asked())
