"""web/gunicorn.conf.py as gunicorn reads it: the app is built once, in the master, and workers are forked from it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"

FACTORY = """
import os
from app import create_app

def make():
    print(f"built in {os.getpid()}", flush=True)
    return create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "METRICS_PORT": int(os.environ.get("METRICS_PORT") or 0),
        "LOG_FORMAT": os.environ.get("LOG_FORMAT") or "text",
        "ACCESS_LOG": True,
    })
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


@contextmanager
def _gunicorn(
    tmp_path: Path, workers: int = 2, **settings: str
) -> Iterator[tuple[subprocess.Popen[str], int, list[str]]]:
    """gunicorn with web/gunicorn.conf.py serving a test app on a free loopback port.

    Yields the server, its port and, once it has stopped, its output (the
    list is filled on the way out).
    """
    (tmp_path / "factory.py").write_text(FACTORY)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(WEB)]),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_CONTROL_SOCKET": "off",
        **settings,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(WEB / "gunicorn.conf.py"), "factory:make()"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while len(_children(server.pid)) < workers:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start {workers} workers: {server.communicate(timeout=5)[0][-2000:]}")
            time.sleep(0.1)
        yield server, port, output
    finally:
        server.send_signal(signal.SIGTERM)
        output.append(server.communicate(timeout=30)[0])


def test_workers_are_forked_from_the_app_the_master_built(tmp_path: Path) -> None:
    """A worker (re)start then costs a fork, not building the app again (docs/performance.md)."""
    with _gunicorn(tmp_path) as (server, _, output):
        deadline = time.monotonic() + 30
        workers = _children(server.pid)
        os.kill(workers[0], signal.SIGTERM)  # as max_requests recycling does, the master replaces it
        while workers[0] in _children(server.pid) or len(_children(server.pid)) < 2:
            if time.monotonic() > deadline:
                pytest.fail("gunicorn did not replace the stopped worker")
            time.sleep(0.1)

    built = [line for line in output[0].splitlines() if line.startswith("built in ")]
    assert built == [f"built in {server.pid}"], output[0][-2000:]


def test_requests_gunicorn_refuses_itself_get_a_problem_not_an_html_page(tmp_path: Path) -> None:
    """A request line over gunicorn's limit never reaches the app; the answer is still problem+json."""
    with (
        _gunicorn(tmp_path, workers=1) as (_, port, _),
        socket.create_connection(("127.0.0.1", port), timeout=10) as conn,
    ):
        conn.sendall(b"GET /api/v1/notes?q=" + b"a" * 8000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 414 ")
    assert "Content-Type: application/problem+json" in lines
    problem = json.loads(body)
    assert problem["status"] == 414
    assert problem["type"] == "about:blank"
    assert "Request Line is too large" in problem["detail"]


def test_the_access_log_never_holds_a_secret_link(tmp_path: Path) -> None:
    """An invitation (or reset) link's secret is redacted from gunicorn's access line."""
    secret = "inv_" + "S3cr3tInv1te" * 3
    with (
        _gunicorn(tmp_path, workers=1) as (_, port, output),
        socket.create_connection(("127.0.0.1", port), timeout=10) as conn,
    ):
        conn.sendall(
            f"GET /auth/register?invite={secret} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
        )
        while conn.recv(65536):
            pass
    access = [line for line in output[0].splitlines() if "/auth/register" in line]
    assert access, output[0][-2000:]
    assert secret not in output[0]
    assert "invite=inv_[redacted]" in access[0]


def _get(port: int, path: str) -> tuple[int, str]:
    """One request on a connection of its own, so gunicorn may hand each to another worker."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body.decode()


def _metric(text: str, line_start: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start)]
    assert len(values) == 1, f"{line_start!r} in:\n{text[:3000]}"
    return values[0]


HEALTHZ = 'notes_http_requests_total{endpoint="health.healthz",method="GET",status="200"}'


def test_metrics_add_up_every_worker_and_only_the_metrics_port_serves_them(tmp_path: Path) -> None:
    """Multiprocess mode: whichever worker answers the scrape, it counts every worker's requests."""
    metrics_port = _free_port()
    multiproc = tmp_path / "multiproc"
    multiproc.mkdir()
    (multiproc / "counter_999999.db").write_bytes(b"left over from a previous run")
    settings = {"METRICS_PORT": str(metrics_port), "PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    with _gunicorn(tmp_path, workers=2, **settings) as (server, port, _):
        assert not (multiproc / "counter_999999.db").exists()  # emptied when the master started
        for _ in range(20):
            assert _get(port, "/healthz")[0] == 200
        assert _get(port, "/metrics")[0] == 404  # the app's port has no metrics
        scrapes = [_get(metrics_port, "/metrics") for _ in range(6)]
        assert {status for status, _ in scrapes} == {200}
        assert {_metric(text, HEALTHZ) for _, text in scrapes} == {20.0}
        assert _get(metrics_port, "/healthz")[0] == 404  # and the metrics port nothing else

        # A worker that exits stops counting in the gauges (child_exit). The
        # scrapes made the series, and so the gauge files, of a worker at least.
        live = [pid for pid in _children(server.pid) if any(_live_gauges(multiproc, pid))]
        assert live, _names(multiproc)
        os.kill(live[0], signal.SIGTERM)
        deadline = time.monotonic() + 30
        while any(_live_gauges(multiproc, live[0])):
            if time.monotonic() > deadline:
                pytest.fail(f"the exited worker's live gauges stayed: {_names(multiproc)}")
            time.sleep(0.1)
        assert _metric(_get(metrics_port, "/metrics")[1], HEALTHZ) == 20.0  # counters keep what it counted


def _names(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def _live_gauges(directory: Path, pid: int) -> list[str]:
    return [name for name in _names(directory) if name.startswith("gauge_live") and name.endswith(f"_{pid}.db")]


def test_json_logs_carry_the_request_id_and_duration_and_no_secret(tmp_path: Path) -> None:
    """LOG_FORMAT=json: gunicorn's error and access lines are JSON objects, one a line."""
    secret = "rst_" + "S3cr3tR3set" * 3
    with (
        _gunicorn(tmp_path, workers=1, LOG_FORMAT="json") as (_, port, output),
        socket.create_connection(("127.0.0.1", port), timeout=10) as conn,
    ):
        conn.sendall(
            f"GET /auth/reset/{secret} HTTP/1.1\r\nHost: localhost\r\nX-Request-ID: trace-json-1\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        while conn.recv(65536):
            pass
    lines = [line for line in output[0].splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    # Every line gunicorn and the app wrote is JSON (the test factory's own print aside).
    assert [line for line in lines if not line.startswith("{") and not line.startswith("built in ")] == []
    assert any(e["logger"] == "gunicorn.error" and "Booting worker" in e["message"] for e in entries)
    [access] = [e for e in entries if e["logger"] == "gunicorn.access"]
    assert access["request_id"] == "trace-json-1"
    assert access["method"] == "GET"
    assert access["path"] == "/auth/reset/rst_[redacted]"
    assert isinstance(access["status"], int)
    assert isinstance(access["duration_ms"], float)
    assert "user_id" not in access  # nobody logged in
    assert secret not in output[0]
