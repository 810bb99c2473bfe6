"""What a person does in a real browser: sign up, write, organise, and stay safe."""

from __future__ import annotations

import itertools

import pytest

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
_n = itertools.count()


def register(page) -> str:  # type: ignore[no-untyped-def]
    email = f"person{next(_n)}@example.com"
    page.goto("/auth/register")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/notes/")
    return email


def write_note(page, title: str, content: str) -> None:  # type: ignore[no-untyped-def]
    page.click("text=New note")
    page.fill("#title", title)
    page.fill("#content", content)
    page.click("button.primary")
    page.wait_for_url("**/notes/*")


def test_register_write_markdown_and_see_it_rendered(page, shoot):
    register(page)
    assert "No notes yet" in page.inner_text("main")
    write_note(page, "Groceries", "# Today\n\n- **milk**\n- eggs\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert page.inner_text("h1") == "Groceries"
    assert page.locator(".markdown h1").inner_text() == "Today"
    assert page.locator(".markdown strong").inner_text() == "milk"
    assert page.locator(".markdown table td").count() == 2
    assert page.title() == "Groceries · Notes"
    shoot(page, "note-view")


def test_edit_pin_archive_trash_and_restore(page, shoot):
    register(page)
    write_note(page, "First", "one")
    page.goto("/notes/")
    write_note(page, "Second", "two")
    page.click("text=Edit")
    page.fill("#title", "Second, edited")
    page.click("button.primary")
    assert page.inner_text("h1") == "Second, edited"

    page.goto("/notes/")
    page.locator(".note", has_text="First").locator("button", has_text="Pin").click()
    assert page.locator(".note").first.locator(".note-title").inner_text() == "First"
    shoot(page, "notes-list")

    page.locator(".note", has_text="Second, edited").locator("button", has_text="Archive").click()
    page.goto("/notes/archive")
    assert page.locator(".note-title").all_inner_texts() == ["Second, edited"]

    page.goto("/notes/")
    page.click("text=First")
    page.click("button:has-text('Move to trash')")
    assert "Note moved to the trash" in page.inner_text("main")
    page.goto("/notes/trash")
    page.locator(".note", has_text="First").locator("button", has_text="Restore").click()
    page.goto("/notes/")
    assert "First" in page.locator(".note-title").all_inner_texts()


XSS = [
    "<script>alert('xss-1')</script>",
    "<img src=x onerror=alert('xss-2')>",
    "[click](javascript:alert('xss-3'))",
    "<svg onload=alert('xss-4')></svg>",
    "<iframe src=\"javascript:alert('xss-5')\"></iframe>",
    "![img](javascript:alert('xss-6'))",
]


def test_xss_in_a_note_renders_inert(page):
    register(page)
    write_note(page, "<b onmouseover=alert('t')>title</b>", "\n\n".join(XSS))
    page.hover("h1")
    for link in page.locator(".markdown a").all():
        link.click(no_wait_after=True)
    page.wait_for_timeout(300)
    assert page.dialogs == []
    assert page.locator(".markdown script, .markdown iframe, .markdown svg, .markdown img[onerror]").count() == 0
    # The text is still there, shown as text.
    assert "<script>alert('xss-1')</script>" in page.inner_text(".markdown")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_main_pages(browser, live_server, shoot, scheme):
    context = browser.new_context(base_url=live_server, color_scheme=scheme, viewport={"width": 1100, "height": 800})
    page = context.new_page()
    register(page)
    write_note(page, "Welcome", "Notes in **Markdown**.")
    for name, url in [("notes", "/notes/"), ("account", "/account/"), ("login", "/auth/login")]:
        if name == "login":
            page.click("text=Log out")
        page.goto(url)
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == (
            "rgb(22, 23, 26)" if scheme == "dark" else "rgb(247, 247, 245)"
        )
        shoot(page, f"{name}-{scheme}")
    context.close()
