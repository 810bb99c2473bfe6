"""Steps the browser tests share: sign up, log in, write a note, tell a reload from an
in-place update, save a screenshot."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts"
PASSWORD = "correct horse battery"


def register(page, email: str | None = None) -> str:  # type: ignore[no-untyped-def]
    email = email or f"person-{uuid.uuid4().hex[:10]}@example.com"
    page.goto("/auth/register")
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
