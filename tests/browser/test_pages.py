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
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect
from tests.helpers.browser import (
    ARTIFACTS,
    PASSWORD,
    log_in,
    register,
    shoot_to,
    submit_password,
    totp_code,
    wait_for_draft,
    write_note,
)
from tests.helpers.images import png

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


def _seed(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An account with realistic notes: one pinned, one archived, one in the trash (its email under "email")."""
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
    return {**urls, "Old draft": trashed, "email": email}


def _blocking(report: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The serious and critical violations of each page that has any."""
    found = {name: [v for v in violations if v["impact"] in BLOCKING] for name, violations in report.items()}
    return {name: violations for name, violations in found.items() if violations}


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
def test_every_main_page_is_accessible_and_photographed(new_context, scheme, mail_inbox, oidc_provider):
    context = new_context(color_scheme=scheme, viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    urls = _seed(page)
    email = urls["email"]
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

    # Quick capture sent empty: the list again, the reason under the box.
    page.goto("/notes/")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("#quick-text-errors")).to_contain_text("Write something first")
    report["quick-note-error"] = _axe(page)
    shoot_to(page, f"quick-note-error-{scheme}")

    # A draft left in the editor, offered back on the next visit; the preview filled in.
    page.goto("/notes/new")
    page.fill("#title", "Unsent")
    page.fill("#content", "## A plan\n\n- first *this*\n- then that")
    expect(page.locator("#preview .markdown h2")).to_have_text("A plan")
    wait_for_draft(page)
    page.goto("/notes/new")
    expect(page.locator(".draft-bar")).to_be_visible()
    report["draft-offer"] = _axe(page)
    shoot_to(page, f"draft-offer-{scheme}")
    page.get_by_role("button", name="Restore it").click()
    expect(page.locator("#preview .markdown h2")).to_have_text("A plan")
    report["edit-preview"] = _axe(page)
    shoot_to(page, f"edit-preview-{scheme}")
    expect(page.locator(".draft-bar")).to_have_count(0)
    page.evaluate("localStorage.clear()")

    # History: the other tab's save kept the version it replaced.
    page.goto(view + "/history")
    expect(page.locator("#revisions li")).not_to_have_count(0)
    report["history"] = _axe(page)
    shoot_to(page, f"history-{scheme}")
    page.get_by_role("link", name="Compare with current").first.click()
    expect(page.locator("#diff")).to_be_visible()
    report["history-diff"] = _axe(page)
    shoot_to(page, f"history-diff-{scheme}")

    # Sharing: the note with its new link, the page a visitor sees (and the
    # one a dead link shows), and the account's list of shared links.
    page.goto(view)
    page.click("#make-share")
    link = page.locator("#share-url").input_value()
    report["note-shared"] = _axe(page)
    shoot_to(page, f"note-shared-{scheme}")
    visitor = new_context(color_scheme=scheme, viewport=DESKTOP, bypass_csp=True).new_page()
    visitor.goto(link)
    expect(visitor.locator("h1")).to_have_text("Weekly groceries")
    report["shared-note"] = _axe(visitor)
    shoot_to(visitor, f"shared-note-{scheme}")
    visitor.goto(link + "x")
    expect(visitor.locator("h1")).to_have_text("Not found")
    report["shared-missing"] = _axe(visitor)
    page.goto("/notes/shares")
    expect(page.locator(".share-table tbody tr")).to_have_count(1)
    report["shared-links"] = _axe(page)
    shoot_to(page, f"shared-links-{scheme}")

    # Files: attached in the editor (the script puts its line in the text), the
    # note showing the image, and the editor listing the file.
    page.goto(view + "/edit")
    page.set_input_files("#file", {"name": "chart.png", "mimeType": "image/png", "buffer": png(60, 40)})
    page.get_by_role("button", name="Attach", exact=True).click()
    expect(page.locator("#upload-status")).to_have_text("Attached chart.png.")
    page.click("form.note-form button.primary")
    expect(page.locator(".markdown img")).to_have_attribute("alt", "chart")
    report["note-with-image"] = _axe(page)
    shoot_to(page, f"note-with-image-{scheme}")
    page.goto(view + "/edit")
    expect(page.locator(".file-list li")).to_have_count(1)
    report["edit-files"] = _axe(page)
    shoot_to(page, f"edit-files-{scheme}")
    page.evaluate("localStorage.clear()")

    # Two-factor login: off, the set-up with its QR code (and a wrong code),
    # the recovery codes, the login's code step, and on.
    page.goto("/account/")
    email = page.locator("text=Signed in as").first.inner_text().removeprefix("Signed in as ").rstrip(".")
    page.goto("/account/2fa")
    report["two-factor-off"] = _axe(page)
    page.get_by_role("button", name="Set up two-factor login").click()
    expect(page.locator(".qr svg")).to_be_visible()
    report["two-factor-setup"] = _axe(page)
    shoot_to(page, f"two-factor-setup-{scheme}")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#code", "000000" if totp_code(secret) != "000000" else "111111")
    page.fill("#enable-password", PASSWORD)
    page.get_by_role("button", name="Turn on two-factor login").click()
    expect(page.locator("#code-errors")).to_be_visible()
    report["two-factor-setup-error"] = _axe(page)
    page.fill("#code", totp_code(secret))
    page.fill("#enable-password", PASSWORD)  # a password field is never filled in again by the page
    page.get_by_role("button", name="Turn on two-factor login").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    report["two-factor-recovery-codes"] = _axe(page)
    shoot_to(page, f"two-factor-recovery-codes-{scheme}")
    page.goto("/account/2fa")
    report["two-factor-on"] = _axe(page)
    page.click("text=Log out")
    submit_password(page, email)
    page.wait_for_url("**/auth/login/code")
    report["login-code"] = _axe(page)
    shoot_to(page, f"login-code-{scheme}")
    page.fill("#code", "000000" if totp_code(secret, 1) != "000000" else "111111")
    page.click("button.primary")
    expect(page.locator("#code-errors")).to_be_visible()
    report["login-code-error"] = _axe(page)
    page.fill("#code", totp_code(secret, steps_ahead=1))
    page.click("button.primary")
    page.wait_for_url("**/notes/")

    # The pages of someone not signed in.
    page.click("text=Log out")
    for name, url in (("login", "/auth/login"), ("register", "/auth/register")):
        page.goto(url)
        report[name] = _axe(page)
        shoot_to(page, f"{name}-{scheme}")
    if oidc_provider is not None:
        # Single sign-on naming the seeded account's email, vouched for by the
        # provider (email_verified): the page that asks for its password.
        oidc_provider.set_user(email, email=email, email_verified=True)
        page.goto("/auth/login")
        page.click("#sso-login")
        page.fill("input[name=sub]", email)
        page.click("button:has-text('Authorize')")
        page.wait_for_url("**/auth/oidc/link")
        report["sso-link"] = _axe(page)
        shoot_to(page, f"sso-link-{scheme}")
        # An account made by single sign-on: no password, so its account
        # page offers "Confirm with SSO", and says when it has been.
        only_sso = f"sso-only-{scheme}-{uuid.uuid4().hex[:8]}@example.com"
        oidc_provider.set_user(only_sso, email=only_sso, email_verified=True)
        page.goto("/auth/login")
        page.click("#sso-login")
        page.fill("input[name=sub]", only_sso)
        page.click("button:has-text('Authorize')")
        page.wait_for_url("**/notes/")
        page.goto("/account/")
        expect(page.locator("#sso-confirm")).to_be_visible()
        report["account-without-password"] = _axe(page)
        shoot_to(page, f"account-without-password-{scheme}")
        page.click("#sso-confirm")
        page.fill("input[name=sub]", only_sso)
        page.click("button:has-text('Authorize')")
        page.wait_for_url("**/account/")
        expect(page.locator("#proof-status")).to_contain_text("Confirmed with single sign-on")
        report["account-confirmed-with-sso"] = _axe(page)
        page.click("text=Log out")
        page.goto("/auth/register")
    page.fill("#email", "nobody@example.com")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD + " typo")
    page.click("button.primary")
    expect(page.locator(".errors")).to_be_visible()
    report["register-errors"] = _axe(page)
    shoot_to(page, f"register-errors-{scheme}")

    # Forgot password: the form, what it answers, the mailed link's page and a dead link's.
    page.goto("/auth/forgot")
    report["forgot"] = _axe(page)
    shoot_to(page, f"forgot-{scheme}")
    if mail_inbox is not None:  # the local and stack modes, where the tests can read the app's mail
        page.fill("#email", urls["email"])
        sent_before = len(mail_inbox.messages)  # the app mails in the background; others may have mailed
        page.click("button.primary")
        expect(page.locator("h1")).to_have_text("Check your email")
        report["forgot-sent"] = _axe(page)
        shoot_to(page, f"forgot-sent-{scheme}")
        sent = mail_inbox.wait_for(sent_before + 1)
        link = next(m.link for m in reversed(sent) if m.recipients == [urls["email"]])
        page.goto(link)
        page.fill("#password", "short")
        page.fill("#confirm", "short")
        page.click("button.primary")
        expect(page.locator(".errors")).to_be_visible()
        report["reset-errors"] = _axe(page)
        shoot_to(page, f"reset-errors-{scheme}")
        page.goto(link)
        report["reset"] = _axe(page)
        shoot_to(page, f"reset-{scheme}")
    page.goto("/auth/reset/rst_not-a-real-link")
    expect(page.locator("#reset-refused")).to_be_visible()
    report["reset-refused"] = _axe(page)
    shoot_to(page, f"reset-refused-{scheme}")

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-{scheme}.json").write_text(json.dumps(report, indent=2))
    blocking = _blocking(report)
    assert not blocking, json.dumps(blocking, indent=2)
    # Dark really is dark, light really is light.
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(17, 20, 24)" if scheme == "dark" else "rgb(244, 245, 247)")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_admin_pages_are_accessible_and_photographed(invite_server, new_context, new_admin, scheme):
    options = {"color_scheme": scheme, "viewport": DESKTOP, "bypass_csp": True}
    page = new_context(**options).new_page()
    member = register(page)
    write_note(page, "Member's note", "Something to count.")
    page.click("text=Log out")
    log_in(page, new_admin())
    page.on_dialog = lambda dialog: dialog.accept()
    report: dict[str, list[dict]] = {}

    def scan(name: str) -> None:
        report[name] = _axe(page)
        shoot_to(page, f"{name}-{scheme}")

    # The accounts page: a disabled account, an invitation and its link shown once.
    page.goto("/admin/users")
    page.get_by_role("button", name=f"Disable {member}").click()
    expect(page.locator("#flashes")).to_contain_text("is disabled")
    page.fill("#note", "for Dana")
    page.get_by_role("button", name="Create invitation").click()
    expect(page.locator("#new-invite")).to_be_visible()
    scan("admin-users-new-invite")
    page.goto("/admin/users")
    scan("admin-users")
    page.fill("#days", "0")
    page.get_by_role("button", name="Create invitation").click()
    expect(page.locator(".errors")).to_be_visible()
    scan("admin-users-errors")

    page.goto("/admin/audit")
    expect(page.locator("tbody tr").first).to_be_visible()
    scan("admin-audit")

    page.get_by_role("link", name="Accounts", exact=True).click()
    page.get_by_role("link", name=f"Delete {member}").click()
    expect(page.locator("h1")).to_have_text(f"Delete {member}?")
    scan("admin-delete")
    page.fill("#email", "not-the-email@example.com")
    page.click("button.danger")
    expect(page.locator(".errors")).to_be_visible()
    scan("admin-delete-errors")

    # Registration on a server by invitation only: no link, and a link that no longer works.
    visitor = new_context(**options, base_url=invite_server.url).new_page()
    visitor.goto("/auth/register")
    expect(visitor.locator("#registration-refused")).to_contain_text("needs an invitation link")
    report["register-invite-needed"] = _axe(visitor)
    shoot_to(visitor, f"register-invite-needed-{scheme}")
    visitor.goto("/auth/register?invite=inv_no-longer-valid")
    expect(visitor.locator("#registration-refused")).to_contain_text("not valid")
    report["register-invite-unusable"] = _axe(visitor)
    shoot_to(visitor, f"register-invite-unusable-{scheme}")

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"axe-admin-{scheme}.json").write_text(json.dumps(report, indent=2))
    assert not _blocking(report), json.dumps(_blocking(report), indent=2)
