"""One journey with Notes under a path (URL_PREFIX=/apps/notes), on gunicorn alone: sign up,
write a note, see it, tag it and search in place (htmx), tick a task (app.js), log out.

Every request the browser makes, pages, forms, htmx, fetch and static files
alike, must stay under the prefix: a URL that forgot it would be answered
404 here (the app serves nothing outside its prefix), or worse, sent to
whatever else the domain hosts.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from tests.helpers.browser import register, write_note

pytestmark = pytest.mark.browser

PREFIX = "/apps/notes"


def test_register_write_see_and_log_out_under_a_prefix(browser, prefix_server):
    base = prefix_server.url
    assert base.endswith(PREFIX)
    origin = base.removesuffix(PREFIX)
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    asked, errors, refused = [], [], []
    page.on("request", lambda r: asked.append(r.url))
    page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        # In through the root, as a person typing the host would come.
        page.goto(origin + "/")
        expect(page).to_have_url(re.compile(re.escape(base) + r"/auth/login\?next=.*"))
        register(page, url=base + "/auth/register")
        expect(page).to_have_url(base + "/notes/")

        path = write_note(page, "Groceries", "- [ ] milk\n- [ ] **eggs**")
        expect(page).to_have_url(base + path)
        expect(page.locator(".note-header h1")).to_have_text("Groceries")
        assert page.locator(".markdown strong").inner_text() == "eggs"

        # Tags saved in place (htmx), then a task ticked (app.js fetches the URL the page gives).
        page.fill("#tags", "shopping")
        page.click("#save-tags")
        expect(page.locator("#flashes")).to_have_text("Tags saved.")
        box = page.locator(".markdown input[type=checkbox]").first
        with page.expect_response(lambda r: "/tasks/" in r.url) as ticked:
            box.check()
        assert ticked.value.ok
        page.reload()
        expect(page.locator(".markdown input[type=checkbox]").first).to_be_checked()

        # The list, searched as one types (htmx pushes the URL).
        page.click("nav a:has-text('All notes')")
        expect(page).to_have_url(base + "/notes/")
        expect(page.get_by_role("link", name="Groceries")).to_be_visible()
        page.fill("#q", "milk")
        expect(page).to_have_url(re.compile(re.escape(base) + r"/notes/\?.*q=milk"))
        expect(page.locator("#result-count")).to_contain_text("1 result")

        page.click("button:has-text('Log out')")
        expect(page).to_have_url(re.compile(re.escape(base) + r"/auth/login"))
        page.goto(base + "/notes/")
        expect(page).to_have_url(re.compile(re.escape(base) + r"/auth/login\?next="))
    finally:
        context.close()

    outside = [url for url in asked if not (url.startswith(base + "/") or url == origin + "/")]
    assert outside == [], outside
    assert refused == [], refused
    assert errors == [], errors
