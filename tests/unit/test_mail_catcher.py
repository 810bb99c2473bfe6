"""The compose `mail` profile's catcher (mail/catcher.py), run here without Docker:
what it is sent over SMTP is listed, escaped, on a page that takes no writes."""

from __future__ import annotations

import importlib.util
import json
import smtplib
import sys
import threading
import urllib.error
import urllib.request
from email.message import EmailMessage
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from tests.helpers.docker_env import free_port

CATCHER = Path(__file__).resolve().parents[2] / "mail" / "catcher.py"


def _load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("mail_catcher", CATCHER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def catcher():  # type: ignore[no-untyped-def]
    module = _load()
    inbox = module.Inbox(limit=3)
    smtp = Controller(module.SmtpHandler(inbox), hostname="127.0.0.1", port=free_port())
    smtp.start()
    web = ThreadingHTTPServer(("127.0.0.1", 0), module.make_handler(inbox))
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    yield smtp.port, f"http://127.0.0.1:{web.server_port}", inbox
    web.shutdown()
    web.server_close()
    smtp.stop()


def _send(port: int, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = "notes@localhost"
    message["To"] = "alice@example.com"
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.send_message(message)


def test_caught_mail_is_listed_newest_first_and_escaped(catcher):
    port, url, _ = catcher
    _send(port, "First", "hello")
    _send(port, "Reset <b>now</b>", "Open https://notes.example.org/auth/reset/rst_abc <script>alert(1)</script>")
    with urllib.request.urlopen(url + "/", timeout=5) as response:  # noqa: S310 - our own loopback server
        page = response.read().decode()
        assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert page.index("Reset &lt;b&gt;now&lt;/b&gt;") < page.index("First")
    assert "https://notes.example.org/auth/reset/rst_abc" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "to alice@example.com" in page


def test_caught_mail_is_listed_as_json_for_programs(catcher):
    port, url, _ = catcher
    _send(port, "First", "hello")
    _send(port, "Reset", "Open https://notes.example.org/auth/reset/rst_abc <script>alert(1)</script>")
    with urllib.request.urlopen(url + "/messages.json", timeout=5) as response:  # noqa: S310 - our own loopback server
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'"
        listed = json.loads(response.read())
    assert [m["subject"] for m in listed] == ["Reset", "First"]
    assert listed[0]["recipients"] == ["alice@example.com"]
    assert listed[0]["sender"] == "notes@localhost"
    assert listed[0]["body"].strip() == "Open https://notes.example.org/auth/reset/rst_abc <script>alert(1)</script>"


def test_only_the_last_messages_are_kept(catcher):
    port, _, inbox = catcher
    for n in range(5):
        _send(port, f"message {n}", "x")
    assert [m.subject for m in inbox.messages()] == ["message 4", "message 3", "message 2"]


@pytest.mark.parametrize("path", ["/", "/messages.json"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_the_page_is_read_only(catcher, method, path):
    _, url, _ = catcher
    request = urllib.request.Request(url + path, method=method, data=b"x")  # noqa: S310 - our own loopback server
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - our own loopback server
    with refused.value:
        assert refused.value.code == 405
        assert refused.value.headers["Allow"] == "GET, HEAD"
