"""Every main page, in the light and the dark scheme: an axe-core scan with no
serious or critical violation, and screenshots (desktop and phone) saved under
tests/browser/artifacts/ for people to look at.

axe is vendored (tests/browser/vendor/axe-core) and injected as an inline
script, which the app's CSP (script-src 'self') rightly blocks, so these
contexts bypass the CSP. The journeys run with the CSP on and fail on any
violation, so nothing here hides a CSP problem.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from tests.helpers.browser import ARTIFACTS, PASSWORD, log_in, register, shoot_to, write_note

pytestmark = pytest.mark.browser
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Mobile/15E148 Safari/604.1"
)

SEED = [
    (
        "Weekly groceries",
        "For Saturday's market run.\n\n- [x] Sourdough loaf\n- [ ] Tomatoes, basil, mozzarella\n"
        "- [ ] Oat milk\n- [ ] Coffee beans (medium roast)",
        "home, shopping",
    ),
    (
        "Q3 planning",
        "## Goals\n\n1. Ship the **import/export** feature\n2. Cut p95 latency below 200 ms\n\n"
        "> Keep the scope small; measure first.\n\n"
        "| Owner | Task |\n|---|---|\n| Dana | API review |\n| Sam | Load test |",
        "work, planning",
    ),
    (
        "Lisbon trip",
        "Flights booked for 12 May. Stay in Alfama, try the pastéis de nata in Belém, "
        "take tram 28 early in the morning before the crowds.",
        "travel",
    ),
    (
        "Sourdough starter",
        "Feed 1:1:1 with rye flour every morning; keep at 24 °C. Ready when it doubles in 4–6 hours.",
        "home, recipes",
    ),
    ("Book list", "- *The Left Hand of Darkness*\n- *Piranesi*\n- *A Psalm for the Wild-Built*", "reading"),
    (
        "Meeting notes: API design",
        "Agreed on cursor pagination and `ETag` + `If-Match` for edits. "
        "Open question: rate limits per token or per user?",
        "work, ideas",
    ),
]


def _seed(page) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """An account with realistic notes: one pinned, one archived, one in the trash; its email and the notes' URLs."""
    email = register(page)
    urls = {title: write_note(page, title, content, tags) for title, content, tags in SEED}
    page.goto(urls["Q3 planning"])
    page.click("#pin")
    expect(page.locator("#pin")).to_have_text("Unpin")
    for title, button in (("Book list", "#archive"), ("Meeting notes: API design", "#pin")):
        page.goto(urls[title])
        page.click(button)
        expect(page.locator(button)).not_to_have_text(re.compile(r"^(Archive|Pin)$"))
    trashed = write_note(page, "Old draft", "Nothing worth keeping.", "ideas")
    page.click("button:has-text('Move to trash')")
    page.wait_for_url("**/notes/")
    return email, {**urls, "Old draft": trashed}


def _axe(page) -> list[dict]:  # type: ignore[no-untyped-def]
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '')),
            }));
        }"""
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_main_page_is_accessible_and_photographed(new_context, scheme):
    context = new_context(color_scheme=scheme, viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    email, urls = _seed(page)
    # Logged in on a phone too, so the account page lists a session to end.
    log_in(new_context(user_agent=IPHONE).new_page(), email)
    view = urls["Weekly groceries"]
    pages = [
        ("notes", "/notes/"),
        ("search", "/notes/?q=sourdough"),
        ("tag-filter", "/notes/?tag=work"),
        ("note-view", view),
        ("note-view-table", urls["Q3 planning"]),
        ("edit", view + "/edit"),
        ("new", "/notes/new"),
        ("archive", "/notes/archive"),
        ("trash", "/notes/trash"),
        ("tags", "/notes/tags"),
        ("account", "/account/"),
        ("not-found", "/notes/999999"),
    ]
    report: dict[str, list[dict]] = {}
    for name, url in pages:
        page.goto(url)
        report[name] = _axe(page)
        shoot_to(page, f"{name}-{scheme}")
        if name in ("notes", "note-view", "edit"):
            page.set_viewport_size(PHONE)
            shoot_to(page, f"{name}-{scheme}-phone")
            page.set_viewport_size(DESKTOP)
        if name == "notes" and scheme == "light":
            # The picture for README.md (docs/notes-list.png is a copy of it).
            page.screenshot(path=str(ARTIFACTS / "readme-notes-list.png"), full_page=False)

    # The edit-conflict page: a save over a version someone else replaced.
    page.goto(view + "/edit")
    other = context.new_page()
    other.goto(view + "/edit")
    other.fill("#content", "Saved from another tab:\n\n- [ ] Tomatoes\n- [ ] Oat milk")
    other.click("form.note-form button.primary")
    expect(other.locator("#flashes")).to_have_text("Note saved.")
    other.close()
    page.fill("#title", "Weekly groceries (mine)")
    page.click("form.note-form button.primary")
    expect(page.locator(".conflict")).to_be_visible()
    report["edit-conflict"] = _axe(page)
    shoot_to(page, f"edit-conflict-{scheme}")

    # The pages of someone not signed in.
    page.click("text=Log out")
    for name, url in (("login", "/auth/login"), ("register", "/auth/register")):
        page.goto(url)
        report[name] = _axe(page)
        shoot_to(page, f"{name}-{scheme}")
    page.fill("#email", "nobody@example.com")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD + " typo")
    page.click("button.primary")
    expect(page.locator(".errors")).to_be_visible()
    report["register-errors"] = _axe(page)
    shoot_to(page, f"register-errors-{scheme}")

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{scheme}.json").write_text(json.dumps(report, indent=2))
    blocking = {name: [v for v in found if v["impact"] in BLOCKING] for name, found in report.items()}
    blocking = {name: found for name, found in blocking.items() if found}
    assert not blocking, json.dumps(blocking, indent=2)
    # Dark really is dark, light really is light.
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(17, 20, 24)" if scheme == "dark" else "rgb(244, 245, 247)")
