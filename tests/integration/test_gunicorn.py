"""web/gunicorn.conf.py as gunicorn reads it: the app is built once, in the master, and workers are forked from it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"

FACTORY = """
import os
from app import create_app

def make():
    print(f"built in {os.getpid()}", flush=True)
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid``, from /proc (the test image has no procps)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        state, parent = fields[0], int(fields[1])
        if parent == pid and state != "Z":
            children.append(int(stat.parent.name))
    return children


def test_workers_are_forked_from_the_app_the_master_built(tmp_path: Path) -> None:
    """A worker (re)start then costs a fork, not building the app again (docs/performance.md)."""
    (tmp_path / "factory.py").write_text(FACTORY)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(WEB)]),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_CONTROL_SOCKET": "off",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(WEB / "gunicorn.conf.py"), "factory:make()"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(_children(server.pid)) < 2:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start two workers: {server.communicate(timeout=5)[0][-2000:]}")
            time.sleep(0.1)
        workers = _children(server.pid)
        os.kill(workers[0], signal.SIGTERM)  # as max_requests recycling does, the master replaces it
        while workers[0] in _children(server.pid) or len(_children(server.pid)) < 2:
            if time.monotonic() > deadline:
                pytest.fail("gunicorn did not replace the stopped worker")
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0]

    built = [line for line in output.splitlines() if line.startswith("built in ")]
    assert built == [f"built in {server.pid}"], output[-2000:]
