"""Steps the browser tests share: sign up, log in, write a note, tell a reload from an
in-place update, save a screenshot."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pyotp

ARTIFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts"
PASSWORD = "correct horse battery"


def register(page, email: str | None = None, url: str = "/auth/register") -> str:  # type: ignore[no-untyped-def]
    """Sign up through the form at ``url`` (an invitation link, say); return the email."""
    email = email or f"person-{uuid.uuid4().hex[:10]}@example.com"
    page.goto(url)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/notes/")
    return email


def log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    """Log ``email`` in through the form, in this page's browser context."""
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/notes/")


def write_note(page, title: str, content: str, tags: str = "") -> str:  # type: ignore[no-untyped-def]
    """Create a note through the header's New note button; return its URL path."""
    page.click("a[data-key=n]")
    page.wait_for_url("**/notes/new")
    page.fill("#title", title)
    page.fill("#content", content)
    if tags:
        page.fill("#tags", tags)
    page.click("form.note-form button.primary")
    page.wait_for_url(re.compile(r".*/notes/\d+$"))
    return "/notes/" + page.url.rsplit("/", 1)[1]


def drafts(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The unsaved drafts app.js keeps in this browser's localStorage (their keys)."""
    return list(page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('notes-draft:'))"))


def wait_for_draft(page, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    """Until app.js has kept a draft (it waits for a pause in typing); AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not drafts(page):
        assert time.monotonic() < deadline, f"no draft kept within {timeout:g}s"
        page.wait_for_timeout(100)


def mark_document(page) -> None:  # type: ignore[no-untyped-def]
    """Tag the current document: if it is still there later, nothing reloaded."""
    page.evaluate("window.__sameDocument = true")


def same_document(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("window.__sameDocument === true"))


def shoot_to(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save a full-page screenshot as tests/browser/artifacts/<name>.png (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def dialogs_after(page, count: int = 1, timeout_ms: int = 5000) -> list[str]:  # type: ignore[no-untyped-def]
    """The messages of the dialogs ``page`` opened, once ``count`` have come or ``timeout_ms`` passed.

    A dialog reaches Playwright as an event, which may arrive after the key
    press or click that opened it has returned.
    """
    waited = 0
    while len(page.dialogs) < count and waited < timeout_ms:
        page.wait_for_timeout(50)
        waited += 50
    return list(page.dialogs)


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app computes from ``secret`` (the library the server uses), ``steps_ahead`` steps on.

    The server takes one step either side of now, and each step once: a test
    that already used the code on screen uses the next one.
    """
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def enrol_two_factor(page) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Turn two-factor login on from the Account page, as a person would; the secret shown and the recovery codes."""
    page.goto("/account/")
    page.get_by_role("link", name="Set up two-factor login").click()
    page.wait_for_url("**/account/2fa")
    page.get_by_role("button", name="Set up two-factor login").click()
    page.wait_for_url("**/account/2fa")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#code", totp_code(secret))
    page.fill("#enable-password", PASSWORD)
    page.get_by_role("button", name="Turn on two-factor login").click()
    codes = [code.strip() for code in page.locator("#recovery-codes code").all_inner_texts()]
    return secret, codes


def submit_password(page, email: str) -> None:  # type: ignore[no-untyped-def]
    """The login form's first step, email and password, without waiting to land anywhere (a code may follow)."""
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
