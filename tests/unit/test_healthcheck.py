"""web/healthcheck.py: the image's health check, and Swarm's "ready once, then alive"."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "web" / "healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _App:
    """A stand-in app on a free loopback port whose answers the test sets per path."""

    def __init__(self) -> None:
        self.status: dict[str, int] = {}
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(app.status.get(self.path, 404))
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]


@pytest.fixture
def app() -> Iterator[_App]:
    stand_in = _App()
    thread = threading.Thread(target=stand_in.server.serve_forever, daemon=True)
    thread.start()
    yield stand_in
    stand_in.server.shutdown()


def test_one_path_is_healthy_only_while_it_answers_200(app: _App, tmp_path: Path) -> None:
    check = _module()
    app.status["/healthz"] = 200
    assert check.main([], app.port, tmp_path / "m") == 0
    app.status["/healthz"] = 503
    assert check.main([], app.port, tmp_path / "m") == 1
    assert not (tmp_path / "m").exists()


def test_ready_once_then_only_alive(app: _App, tmp_path: Path) -> None:
    check, marker = _module(), tmp_path / "ready-once"
    app.status.update({"/readyz": 503, "/healthz": 200})
    # Not ready yet (say, the schema is behind): unhealthy, so no traffic.
    assert check.main(["/readyz", "/healthz"], app.port, marker) == 1
    assert not marker.exists()
    app.status["/readyz"] = 200
    assert check.main(["/readyz", "/healthz"], app.port, marker) == 0
    assert marker.exists()
    # The database goes away: not ready, but alive, so the task is not killed.
    app.status["/readyz"] = 503
    assert check.main(["/readyz", "/healthz"], app.port, marker) == 0
    # The process itself stops answering: unhealthy.
    app.status["/healthz"] = 500
    assert check.main(["/readyz", "/healthz"], app.port, marker) == 1


def test_nothing_listening_is_unhealthy_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check = _module()
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    assert check.main(["/healthz"], port, tmp_path / "m") == 1
    assert "/healthz:" in capsys.readouterr().err


def test_under_a_url_prefix_it_asks_where_the_app_serves_the_probes(
    app: _App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app mounted at URL_PREFIX answers 404 outside it (app/http/prefix.py).
    check = _module()
    app.status["/healthz"] = 404
    app.status["/notes/healthz"] = 200
    monkeypatch.setenv("URL_PREFIX", "/notes")
    assert check.main([], app.port, tmp_path / "m") == 0
    monkeypatch.setenv("URL_PREFIX", "")
    assert check.main([], app.port, tmp_path / "m") == 1
