"""What a person does in a real browser: sign up, write, organise, find, and
stay safe; and what an administrator does for them. These journeys also run
against the compose stack through nginx over HTTPS (`make test-browser`), so
they register and log in sparingly: nginx allows ten such POSTs in a burst per
address, then ten a minute."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect
from tests.helpers.browser import (
    PASSWORD,
    dialogs_after,
    drafts,
    enrol_two_factor,
    log_in,
    mark_document,
    register,
    same_document,
    submit_password,
    totp_code,
    wait_for_draft,
    write_note,
)
from tests.helpers.data import keep_takeout_zip
from tests.helpers.images import png

pytestmark = pytest.mark.browser


def test_register_write_markdown_and_see_it_rendered(page):
    register(page)
    empty = page.locator(".empty")
    expect(empty).to_contain_text("No notes yet")
    expect(empty.get_by_role("link", name="Write your first note")).to_be_visible()
    write_note(page, "Groceries", "# Today\n\n- **milk**\n- eggs\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    expect(page.locator(".note-header h1")).to_have_text("Groceries")
    assert page.locator(".markdown h1").inner_text() == "Today"
    assert page.locator(".markdown strong").inner_text() == "milk"
    assert page.locator(".markdown table td").count() == 2
    expect(page).to_have_title("Groceries · Notes")
    expect(page.locator("#flashes")).to_have_text("Note created.")


def test_restore_an_old_version_from_its_differences(page):
    """Change a note, see what changed in its history, and bring the old text back as a new version."""
    register(page)
    url = write_note(page, "Recipe", "Bake 20 minutes.")
    page.goto(url + "/edit")
    page.fill("#content", "Bake 45 minutes.")
    page.click("form.note-form button.primary")
    expect(page.locator(".markdown")).to_contain_text("Bake 45 minutes.")
    page.click("#history")
    page.wait_for_url(f"**{url}/history")
    page.get_by_role("link", name="Compare with current").first.click()
    diff = page.locator("#diff")
    expect(diff.locator("del, .diff-del").first).to_contain_text("20")
    expect(diff.locator("ins, .diff-ins").first).to_contain_text("45")
    page.get_by_role("button", name=re.compile(r"^Restore ")).click()
    page.wait_for_url(f"**{url}")
    expect(page.locator(".markdown")).to_contain_text("Bake 20 minutes.")
    # History is never rewritten: the text it replaced is a version of its own now.
    page.click("#history")
    expect(page.locator("#revisions li")).to_have_count(2)


def test_tag_filter_then_search_as_you_type_and_open_a_result(page):
    register(page)
    write_note(page, "Sourdough", "Feed the starter with rye flour every morning.", tags="baking")
    write_note(page, "Bike repair", "New chain and brake pads before the weekend.", tags="errands")
    write_note(page, "Focaccia", "Rosemary, olive oil and flaky salt on top.")

    # Tags from the note's own page, without a reload.
    mark_document(page)
    page.fill("#tags", "baking, bread")
    page.click("#save-tags")
    expect(page.locator("#flashes")).to_have_text("Tags saved.")
    expect(page.locator(".note-header .note-tags .tag")).to_have_text(["baking", "bread"])
    expect(page.locator("#tags")).to_have_value("baking, bread")
    assert same_document(page)

    # Filter by a tag in the sidebar.
    page.goto("/notes/")
    page.locator(".sidebar .tag", has_text="baking").click()
    expect(page.locator(".note-title")).to_have_text(["Focaccia", "Sourdough"])
    expect(page).to_have_title("Notes tagged baking · Notes")

    # Type a word of one body: the results follow each keystroke, in place,
    # and the address and title follow the search.
    mark_document(page)
    page.locator("#q").press_sequentially("rosema", delay=40)
    expect(page.locator("#result-count")).to_have_text("1 result for “rosema”.")
    expect(page.locator(".note-title")).to_have_text(["Focaccia"])
    expect(page.locator(".snippet mark")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/notes/\?(.*&)?q=rosema"))
    expect(page).to_have_title("Search: rosema · Notes")
    # The tag filter still applies: this word is in a note tagged "errands".
    page.locator("#q").fill("chain")
    expect(page.locator(".empty")).to_contain_text("Nothing matches “chain”")
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("flour", delay=40)
    expect(page.locator(".note-title")).to_have_text(["Sourdough"])
    assert same_document(page)
    expect(page.locator("#q")).to_be_focused()

    page.locator(".note-title", has_text="Sourdough").click()
    expect(page.locator(".note-header h1")).to_have_text("Sourdough")
    expect(page).to_have_title("Sourdough · Notes")


def test_search_works_as_a_plain_form_without_javascript(new_context):
    page = new_context(java_script_enabled=False).new_page()
    register(page)
    write_note(page, "Plain", "works without scripts")
    page.goto("/notes/")
    page.fill("#q", "scripts")
    page.click("form.search button")
    page.wait_for_url("**/notes/?q=scripts")
    expect(page.locator(".note-title")).to_have_text(["Plain"])
    # The buttons still post ordinary forms and come back to the list.
    page.goto("/notes/")
    page.get_by_role("button", name="Pin “Plain”").click()
    page.wait_for_url("**/notes/")
    expect(page.locator("#flashes")).to_have_text("Note pinned.")


def test_quick_capture_live_preview_a_draft_that_outlives_its_tab_and_ctrl_enter(new_context):
    context = new_context()
    page = context.new_page()
    register(page)

    # Quick capture: one box on the list, saved in place with Ctrl+Enter.
    mark_document(page)
    page.fill("#quick-text", "Call the plumber\nTuesday, after 10")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".note-title", has_text="Call the plumber")).to_be_visible()
    expect(page.locator("#flashes")).to_have_text("Saved “Call the plumber”.")
    expect(page.locator("#quick-text")).to_have_value("")
    assert same_document(page)
    assert drafts(page) == []  # sent: nothing kept

    # The editor's preview follows the text, through the server's sanitizer.
    page.click("a[data-key=n]")
    page.wait_for_url("**/notes/new")
    page.fill("#title", "Half a thought")
    page.fill("#content", "**bold** idea <img src=x onerror=alert(1)>")
    expect(page.locator("#preview .markdown strong")).to_have_text("bold")
    assert page.locator("#preview img[onerror]").count() == 0

    # The tab closes before a save: the text is offered back in a new one.
    wait_for_draft(page)
    page.close()
    page = context.new_page()
    page.goto("/notes/new")
    bar = page.locator(".draft-bar")
    expect(bar).to_contain_text("You have unsaved text here from")
    bar.get_by_role("button", name="Restore it").click()
    expect(page.locator("#title")).to_have_value("Half a thought")
    expect(page.locator("#content")).to_have_value("**bold** idea <img src=x onerror=alert(1)>")
    expect(page.locator("#preview .markdown strong")).to_have_text("bold")
    page.locator("#content").press("Control+Enter")
    page.wait_for_url(re.compile(r".*/notes/\d+$"))
    expect(page.locator(".note-header h1")).to_have_text("Half a thought")
    page.goto("/notes/new")
    expect(page.locator("#title")).to_be_visible()
    expect(page.locator(".draft-bar")).to_have_count(0)

    # A draft never outlives its user's session on this browser.
    page.goto("/notes/")
    page.fill("#quick-text", "not sent")
    wait_for_draft(page)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/auth/login**")
    assert drafts(page) == []


def test_quick_capture_and_preview_work_without_javascript(new_context):
    page = new_context(java_script_enabled=False).new_page()
    register(page)
    page.fill("#quick-text", "Plain capture\nno scripts")
    page.get_by_role("button", name="Save note").click()
    page.wait_for_url("**/notes/")
    expect(page.locator("#flashes")).to_have_text("Saved “Plain capture”.")
    expect(page.locator(".note-title")).to_have_text(["Plain capture"])
    page.goto("/notes/new")
    page.fill("#content", "*seen* before saving")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview .markdown em")).to_have_text("seen")
    expect(page.locator("#content")).to_have_value("*seen* before saving")
    page.fill("#title", "Previewed")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r".*/notes/\d+$"))
    expect(page.locator(".markdown em")).to_have_text("seen")


def test_share_a_note_open_it_logged_out_then_revoke_it(new_context):
    owner = new_context().new_page()
    register(owner)
    url = write_note(owner, "Trip plan", "**Day 1**: the coast")
    owner.select_option("#share-days", "7")
    owner.click("#make-share")
    owner.wait_for_url(f"**{url}#shares")
    link = owner.locator("#share-url").input_value()
    assert "/s/shr_" in link
    expect(owner.locator(".share-list li")).to_contain_text("works until")

    visitor = new_context().new_page()  # no account, no session
    visitor.goto(link)
    expect(visitor.locator("h1")).to_have_text("Trip plan")
    expect(visitor.locator(".markdown strong")).to_have_text("Day 1")
    assert visitor.locator("form, nav, script").count() == 0

    owner.reload()
    expect(owner.locator("#share-url")).to_have_count(0)  # shown once
    owner.on_dialog = lambda dialog: dialog.accept()
    owner.get_by_role("button", name=re.compile(r"^Revoke the link")).click()
    expect(owner.locator("#flashes")).to_have_text("Link revoked: it no longer opens the note.")
    expect(owner.locator(".shares")).to_contain_text("Not shared.")

    visitor.reload()
    expect(visitor.locator("h1")).to_have_text("Not found")
    expect(visitor.locator("main")).not_to_contain_text("Trip plan")


def test_edit_pin_archive_trash_restore_and_delete_forever(page):
    register(page)
    first = write_note(page, "First", "one")
    write_note(page, "Second", "two")
    page.keyboard.press("e")
    page.wait_for_url("**/edit")
    page.fill("#title", "Second, edited")
    page.click("form.note-form button.primary")
    expect(page.locator(".note-header h1")).to_have_text("Second, edited")

    # Pin and archive from the list: in place, focus kept on the button.
    page.goto("/notes/")
    mark_document(page)
    page.get_by_role("button", name="Pin “First”").click()
    expect(page.locator(".note").first.locator(".note-title")).to_have_text("First")
    expect(page.locator(".note").first.locator(".badge")).to_have_text("Pinned")
    expect(page.locator("#flashes")).to_have_text("Note pinned.")
    expect(page.get_by_role("button", name="Unpin “First”")).to_be_focused()
    page.get_by_role("button", name="Archive “Second, edited”").click()
    expect(page.locator(".note-title")).to_have_text(["First"])
    expect(page.locator("#flashes")).to_have_text("Note archived.")
    assert same_document(page)

    page.get_by_role("link", name="Archive", exact=True).click()
    expect(page).to_have_title("Archive · Notes")
    expect(page.locator(".note-title")).to_have_text(["Second, edited"])
    expect(page.get_by_role("button", name="Unarchive “Second, edited”")).to_be_visible()

    # On the note's page too.
    page.goto(first)
    mark_document(page)
    page.click("#pin")
    expect(page.locator("#pin")).to_have_text("Pin")
    expect(page.locator("#flashes")).to_have_text("Note unpinned.")
    assert same_document(page)

    page.click("button:has-text('Move to trash')")
    expect(page.locator("#flashes")).to_contain_text("Note moved to the trash")
    page.goto("/notes/trash")
    mark_document(page)
    page.get_by_role("button", name="Restore “First”").click()
    expect(page.locator("#flashes")).to_have_text("Note restored.")
    expect(page.locator(".empty")).to_contain_text("The trash is empty.")
    assert same_document(page)
    page.goto("/notes/")
    expect(page.locator(".note-title")).to_have_text(["First"])

    # Deleting forever asks first; saying no keeps the note.
    page.goto(first)
    page.click("button:has-text('Move to trash')")
    page.goto("/notes/trash")
    page.get_by_role("button", name="Delete forever “First”").click()
    expect(page.locator(".note-title")).to_have_text(["First"])
    assert dialogs_after(page) == ["Delete this note forever? This cannot be undone."]
    page.on_dialog = lambda dialog: dialog.accept()
    page.get_by_role("button", name="Delete forever “First”").click()
    expect(page.locator("#flashes")).to_have_text("Note deleted forever.")
    expect(page.locator(".note")).to_have_count(0)


def test_a_task_box_click_saves_the_note(page):
    register(page)
    write_note(page, "Packing", "- [ ] passport\n- [x] tickets\n- [ ] charger\n\nDone soon.")
    passport = page.get_by_role("checkbox", name="passport")
    expect(passport).to_be_enabled()
    with page.expect_response(lambda r: r.url.endswith("/tasks/0")) as answer:
        passport.check()
    assert answer.value.status == 200
    expect(page.locator("article")).to_have_attribute("data-version", "2")
    # The second click carries the version the first one returned.
    with page.expect_response(lambda r: r.url.endswith("/tasks/2")) as answer:
        page.get_by_role("checkbox", name="charger").check()
    assert answer.value.status == 200
    page.get_by_role("checkbox", name="tickets").uncheck()
    expect(page.locator("article")).to_have_attribute("data-version", "4")

    page.reload()
    expect(page.get_by_role("checkbox", name="passport")).to_be_checked()
    expect(page.get_by_role("checkbox", name="charger")).to_be_checked()
    expect(page.get_by_role("checkbox", name="tickets")).not_to_be_checked()


def test_two_windows_editing_one_note_meet_a_kind_conflict(new_context):
    one = new_context()
    a = one.new_page()
    register(a)
    note = write_note(a, "Shared", "- [ ] call the plumber\n\nfirst draft")
    # A second window of the same signed-in person.
    b = new_context(storage_state=one.storage_state()).new_page()

    a.goto(note + "/edit")
    b.goto(note + "/edit")
    b.fill("#content", "- [ ] call the plumber\n\nwritten in window B")
    b.click("form.note-form button.primary")
    expect(b.locator("#flashes")).to_have_text("Note saved.")

    a.fill("#content", "- [ ] call the plumber\n\nwritten in window A")
    a.click("form.note-form button.primary")
    conflict = a.locator(".conflict")
    expect(conflict).to_contain_text("This note was changed somewhere else while you were editing.")
    expect(conflict).to_contain_text("your text is still in the form below")
    expect(conflict.locator("pre")).to_have_text("- [ ] call the plumber\n\nwritten in window B")
    expect(a.locator("#content")).to_have_value("- [ ] call the plumber\n\nwritten in window A")
    expect(a).to_have_title("Edit conflict: Shared · Notes")
    a.keyboard.press("Escape")  # the text in the form is unsaved: asks first
    assert dialogs_after(a) == ["Leave without saving? Your changes will be lost."]
    expect(a.locator(".conflict")).to_be_visible()
    a.click("form.note-form button.primary")  # "Save again": A read B's version
    expect(a.locator(".markdown")).to_contain_text("written in window A")

    # B still shows an older version: its task click is refused kindly.
    b.goto(note)
    a.goto(note + "/edit")
    a.fill("#title", "Shared, renamed")
    a.click("form.note-form button.primary")
    expect(a.locator(".note-header h1")).to_have_text("Shared, renamed")
    box = b.get_by_role("checkbox", name="call the plumber")
    with b.expect_response(lambda r: "/tasks/0" in r.url) as answer:
        box.click()
    assert answer.value.status == 409
    expect(b.locator(".task-message")).to_contain_text("changed somewhere else")
    expect(box).not_to_be_checked()
    b.get_by_role("button", name="Reload the note").click()
    expect(b.locator(".note-header h1")).to_have_text("Shared, renamed")


def test_export_delete_the_account_register_again_and_import(page, tmp_path):
    email = register(page)
    write_note(page, "Alpha", "first **note**", tags="one")
    write_note(page, "Beta", "- [x] second", tags="one, two")
    write_note(page, "Gamma", "third")
    page.click("#archive")
    expect(page.locator("#archive")).to_have_text("Unarchive")

    page.goto("/account/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export all notes").click()
    export = tmp_path / "notes-export.zip"
    download.value.save_as(export)
    assert export.stat().st_size > 0

    # Deleting asks first and needs the password.
    page.fill("#delete-password", PASSWORD)
    page.click(".danger-zone button.danger")
    assert dialogs_after(page) == ["Delete your account and all notes forever?"]
    expect(page).to_have_url(re.compile(r"/account/$"))
    page.on_dialog = lambda dialog: dialog.accept()
    page.click(".danger-zone button.danger")
    page.wait_for_url("**/auth/register")
    expect(page.locator("#flashes")).to_contain_text("Your account and all its notes have been deleted.")

    register(page, email)
    expect(page.locator(".empty")).to_contain_text("No notes yet")
    page.goto("/account/")
    page.set_input_files("input[type=file]", str(export))
    page.click("button:has-text('Import')")
    page.wait_for_url("**/notes/")
    expect(page.locator("#flashes")).to_have_text("Imported 3 notes from a Notes export.")
    expect(page.locator(".note-title")).to_have_text(["Beta", "Alpha"])
    expect(page.locator(".sidebar .tag-list")).to_contain_text("two")
    page.goto("/notes/archive")
    expect(page.locator(".note-title")).to_have_text(["Gamma"])
    page.goto("/notes/")
    page.locator(".note-title", has_text="Alpha").click()
    expect(page.locator(".markdown strong")).to_have_text("note")
    expect(page.locator(".note-header .tag")).to_have_text(["one"])


def _paste_file(page, selector: str, data: bytes, name: str, mime: str) -> None:  # type: ignore[no-untyped-def]
    """Paste ``data`` as a file into the element, as a screenshot pasted from the clipboard arrives."""
    page.evaluate(
        """([selector, bytes, name, mime]) => {
            const file = new File([new Uint8Array(bytes)], name, { type: mime });
            const data = new DataTransfer();
            data.items.add(file);
            const target = document.querySelector(selector);
            target.focus();
            target.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
        }""",
        [selector, list(data), name, mime],
    )


def _wait_for_image(page, selector: str, width: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until the image at ``selector`` has loaded, ``width`` pixels wide: fetched and decoded."""
    page.wait_for_function(
        "([s, w]) => { const i = document.querySelector(s); return !!i && i.complete && i.naturalWidth === w; }",
        arg=[selector, width],
    )


def test_paste_an_image_export_delete_the_account_import_and_see_it_again(page, tmp_path):
    email = register(page)
    url = write_note(page, "Trip", "The view:")
    page.goto(url + "/edit")
    page.click("#content")
    page.keyboard.press("End")
    _paste_file(page, "#content", png(48, 32, (20, 140, 220)), "image.png", "image/png")
    expect(page.locator("#upload-status")).to_have_text("Attached image.png.")
    expect(page.locator("#content")).to_have_value(
        re.compile(r"^The view:\n\n!\[image\]\(attachment:[A-Za-z0-9_-]{22}\)\n$")
    )
    # The live preview shows it before anything is saved.
    preview = page.locator("#preview img")
    expect(preview).to_have_attribute("alt", "image")
    _wait_for_image(page, "#preview img", 48)
    page.click("form.note-form button.primary")
    page.wait_for_url(f"**{url}")
    shown = page.locator(".markdown img")
    expect(shown).to_have_attribute("alt", "image")
    _wait_for_image(page, ".markdown img", 48)

    page.goto("/account/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export all notes").click()
    export = tmp_path / "notes-export.zip"
    download.value.save_as(export)
    page.fill("#delete-password", PASSWORD)
    page.on_dialog = lambda dialog: dialog.accept()
    page.click(".danger-zone button.danger")
    page.wait_for_url("**/auth/register")

    register(page, email)
    page.goto("/account/")
    page.set_input_files("#archive", str(export))
    page.click("button:has-text('Import')")
    page.wait_for_url("**/notes/")
    expect(page.locator("#flashes")).to_have_text("Imported 1 note from a Notes export.")
    page.locator(".note-title", has_text="Trip").click()
    _wait_for_image(page, ".markdown img", 48)


def test_import_a_google_keep_takeout(page, tmp_path):
    register(page)
    takeout = tmp_path / "takeout.zip"
    takeout.write_bytes(keep_takeout_zip())
    page.goto("/account/")
    page.set_input_files("input[type=file]", str(takeout))
    page.click("button:has-text('Import')")
    page.wait_for_url("**/notes/")
    flashes = page.locator("#flashes .flash")
    expect(flashes.first).to_have_text("Imported 1 note from Google Keep.")
    expect(flashes.nth(1)).to_contain_text("Old.json: in Keep's trash")
    expect(page.locator(".note.pinned .note-title")).to_have_text(["Groceries"])
    expect(page.locator(".sidebar .tag-list")).to_contain_text("home")
    page.locator(".note-title", has_text="Groceries").click()
    expect(page.locator(".markdown input[type=checkbox]")).to_have_count(1)
    expect(page.locator(".markdown li")).to_have_text("milk")


def test_two_factor_login_with_a_code_and_with_a_recovery_code(page):
    email = register(page)
    secret, codes = enrol_two_factor(page)
    expect(page.locator("#flashes")).to_contain_text("Two-factor login is on.")
    expect(page.locator("#two-factor-status")).to_contain_text("You have 10 unused recovery codes.")
    assert len(set(codes)) == 10
    page.click("text=Log out")

    # The password alone leads to the code, not in.
    submit_password(page, email)
    page.wait_for_url("**/auth/login/code")
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.goto("/notes/")
    page.wait_for_url("**/auth/login?next=*")
    page.goto("/auth/login/code")
    # The code on screen went into the set-up: the app's next one.
    page.fill("#code", totp_code(secret, steps_ahead=1))
    page.click("button.primary")
    page.wait_for_url("**/notes/")
    page.click("text=Log out")

    # A recovery code instead: once.
    submit_password(page, email)
    page.wait_for_url("**/auth/login/code")
    page.fill("#code", codes[0])
    page.click("button.primary")
    page.wait_for_url("**/notes/")
    page.goto("/account/2fa")
    expect(page.locator("#two-factor-status")).to_contain_text("You have 9 unused recovery codes.")
    page.click("text=Log out")
    submit_password(page, email)
    page.wait_for_url("**/auth/login/code")
    page.fill("#code", codes[0])
    page.click("button.primary")
    expect(page.locator("#code-errors")).to_contain_text("That code is not right.")
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")


def test_keyboard_shortcuts(page):
    register(page)
    write_note(page, "Keys", "press them")
    page.goto("/notes/")

    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("n")  # typing in a field is not a shortcut
    expect(page).to_have_url(re.compile(r"/notes/(\?.*)?$"))
    expect(page.locator("#q")).to_have_value("n")
    page.keyboard.press("Escape")
    expect(page.locator("#q")).not_to_be_focused()

    page.keyboard.press("n")
    page.wait_for_url("**/notes/new")
    expect(page.locator("#title")).to_be_focused()
    page.keyboard.press("Escape")  # nothing typed: leaves at once
    page.wait_for_url("**/notes/")

    page.locator(".note-title", has_text="Keys").click()
    page.wait_for_url(re.compile(r".*/notes/\d+$"))
    page.keyboard.press("e")
    page.wait_for_url("**/edit")
    page.fill("#title", "Keys, changed")
    page.keyboard.press("Escape")  # unsaved text: asks, and "Cancel" stays
    assert dialogs_after(page) == ["Leave without saving? Your changes will be lost."]
    expect(page).to_have_url(re.compile(r"/edit$"))
    page.on_dialog = lambda dialog: dialog.accept()
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(r".*/notes/\d+$"))
    expect(page.locator(".note-header h1")).to_have_text("Keys")


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Mobile/15E148 Safari/604.1"
)
TABLET = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def test_end_a_lost_phones_session_then_log_out_everywhere_else(new_context):
    laptop = new_context().new_page()
    email = register(laptop)
    phone = new_context(user_agent=IPHONE).new_page()
    log_in(phone, email)
    tablet = new_context(user_agent=TABLET).new_page()
    log_in(tablet, email)

    laptop.goto("/account/")
    sessions = laptop.locator("#sessions tbody tr")
    expect(sessions).to_have_count(3)
    expect(laptop.locator("#sessions tr.current")).to_contain_text("This browser")
    expect(laptop.locator("#sessions tr.current button")).to_have_count(0)  # this one ends by logging out

    # The phone is lost: end its session. Its next page load is the login page.
    laptop.get_by_role("button", name=re.compile(r"^End the session on Safari on iPhone")).click()
    expect(laptop.locator("#flashes")).to_have_text("Session ended: Safari on iPhone. It is logged out.")
    expect(sessions).to_have_count(2)
    phone.goto("/notes/")
    expect(phone).to_have_url(re.compile(r"/auth/login\?next="))
    expect(phone.locator("#flashes")).to_have_text("Please log in to see this page.")
    tablet.goto("/notes/")
    expect(tablet).to_have_url(re.compile(r"/notes/$"))

    # "Log out everywhere else" asks first, then leaves only this browser.
    laptop.on_dialog = lambda dialog: dialog.accept()
    laptop.get_by_role("button", name="Log out everywhere else").click()
    assert dialogs_after(laptop) == ["Log out every other browser and device?"]
    expect(laptop.locator("#flashes")).to_have_text("Logged out everywhere else (1 session ended).")
    expect(sessions).to_have_count(1)
    expect(laptop.locator(".empty", has_text="not logged in anywhere else")).to_be_visible()
    tablet.reload()
    expect(tablet).to_have_url(re.compile(r"/auth/login"))
    laptop.goto("/notes/")
    expect(laptop).to_have_url(re.compile(r"/notes/$"))


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
    write_note(page, "<b onmouseover=alert('t')>title</b>", "\n\n".join(XSS), tags="<i>x</i>")
    page.hover(".note-header h1")
    for link in page.locator(".markdown a").all():
        link.click(no_wait_after=True)
    page.wait_for_timeout(300)
    assert page.dialogs == []
    assert page.locator(".markdown script, .markdown iframe, .markdown svg, .markdown img[onerror]").count() == 0
    # The text is still there, shown as text.
    assert "<script>alert('xss-1')</script>" in page.inner_text(".markdown")
    page.goto("/notes/")
    page.locator("#q").press_sequentially("xss", delay=30)
    expect(page.locator("#result-count")).to_contain_text("1 result")
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_an_administrator_invites_someone_who_then_signs_up(invite_server, new_context, new_admin):
    """On a server where only invited people may register."""
    boss = new_context(base_url=invite_server.url).new_page()
    log_in(boss, new_admin(invite_server))
    boss.get_by_role("link", name="Admin", exact=True).click()
    expect(boss).to_have_title("Accounts · Admin · Notes")
    boss.fill("#note", "for Dana")
    boss.fill("#days", "3")
    boss.get_by_role("button", name="Create invitation").click()
    expect(boss.locator("#flashes")).to_have_text("Invitation created. Copy the link now: it will not be shown again.")
    link = boss.locator("#new-invite").inner_text()
    assert re.fullmatch(re.escape(invite_server.url) + r"/auth/register\?invite=inv_[\w-]+", link), link

    # A stranger without the link is told why there is no form.
    dana = new_context(base_url=invite_server.url).new_page()
    dana.goto("/auth/register")
    expect(dana.locator("#registration-refused")).to_contain_text("needs an invitation link")
    expect(dana.locator("#email")).to_have_count(0)
    # With it, Dana signs up and starts writing.
    email = register(dana, url=link)
    expect(dana.locator("#flashes")).to_have_text("Welcome to Notes! Write your first note.")
    write_note(dana, "First", "invited")

    # The link is spent: someone else opening it is told so.
    late = new_context(base_url=invite_server.url).new_page()
    late.goto(link)
    expect(late.locator("#registration-refused")).to_contain_text("This invitation link is not valid")
    expect(late.locator("#email")).to_have_count(0)
    # And the administrator sees who used it, with nothing left to withdraw.
    boss.goto("/admin/users")
    invitation = boss.locator("tr", has_text="for Dana")
    expect(invitation).to_contain_text(email)
    expect(invitation.get_by_role("button", name="Withdraw")).to_have_count(0)
    expect(boss.locator(f"tr:has-text('{email}')").first).to_contain_text("active")


def test_an_administrator_disables_someone_who_is_logged_in_elsewhere(new_context, new_admin):
    """Two browsers: the user's session ends at their next page load, not when it times out."""
    user = new_context().new_page()
    email = register(user)
    note = write_note(user, "Still mine", "written before")

    boss = new_context().new_page()
    log_in(boss, new_admin())
    boss.goto("/admin/users")
    disable = boss.get_by_role("button", name=f"Disable {email}")
    disable.click()  # asks first; saying no changes nothing
    assert dialogs_after(boss) == [f"Disable {email}? They are logged out everywhere and their tokens stop working."]
    expect(boss.get_by_role("button", name=f"Enable {email}")).to_have_count(0)
    boss.on_dialog = lambda dialog: dialog.accept()
    disable.click()
    expect(boss.locator("#flashes")).to_have_text(
        f"{email} is disabled: logged out everywhere, tokens revoked, no more logins."
    )
    row = boss.locator(f"tr:has-text('{email}')")
    expect(row).to_contain_text("disabled")
    expect(row.get_by_role("button", name=f"Enable {email}")).to_be_visible()

    # The other browser still shows the note; its next page load is the login page.
    user.reload()
    expect(user).to_have_url(re.compile(r"/auth/login\?next="))
    expect(user.locator("#flashes")).to_have_text("Please log in to see this page.")
    # And logging in again is refused, saying why.
    user.fill("#email", email)
    user.fill("#password", PASSWORD)
    user.click("button.primary")
    expect(user.locator("#flashes")).to_contain_text("This account has been disabled by an administrator")
    user.goto(note)
    expect(user).to_have_url(re.compile(r"/auth/login\?next="))


def test_forgot_password_by_email(page, mail_inbox):
    """Forgot the password: ask on the login page, follow the mailed link, choose a new one, log in with it."""
    if mail_inbox is None:
        pytest.skip(
            "BROWSER_BASE_URL names a running app whose mail this test cannot read; "
            "the local mode and BROWSER_STACK=1 (tests/browser/conftest.py) run this journey"
        )
    email = register(page)
    page.click("text=Log out")
    page.wait_for_url("**/auth/login")
    page.click("#forgot-link")
    page.wait_for_url("**/auth/forgot")
    page.fill("#email", email)
    # The app mails in the background, and other tests may have mailed before:
    # wait for one more message than there were, not for any.
    sent_before = len(mail_inbox.messages)
    page.click("button.primary")
    expect(page.locator("h1")).to_have_text("Check your email")

    message = next(m for m in reversed(mail_inbox.wait_for(sent_before + 1)) if m.recipients == [email])
    page.goto(message.link)
    expect(page.locator("h1")).to_have_text("Choose a new password")
    expect(page.locator("#revoke_tokens")).to_be_checked()
    page.fill("#password", PASSWORD + " renewed")
    page.fill("#confirm", PASSWORD + " renewed")
    page.click("button.primary")
    page.wait_for_url("**/auth/login")
    expect(page.locator("#flashes")).to_contain_text("Your password has been changed")

    # The link worked once.
    page.goto(message.link)
    expect(page.locator("#reset-refused")).to_contain_text("cannot be used")

    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    expect(page.locator("#flashes")).to_contain_text("Invalid email or password.")
    page.fill("#email", email)
    page.fill("#password", PASSWORD + " renewed")
    page.click("button.primary")
    page.wait_for_url("**/notes/")


STACK_SKIP = (
    "SSO journeys run in local mode only: the stack's web container cannot reach "
    "an identity provider on the host's loopback"
)


def _through_the_provider(page, provider, subject: str) -> None:  # type: ignore[no-untyped-def]
    """On the provider's consent page: log in as ``subject`` and authorize."""
    page.wait_for_url(f"{provider.issuer}/oauth2/authorize*")
    page.fill("input[name=sub]", subject)
    page.click("button:has-text('Authorize')")


def test_sso_login(page, oidc_provider):
    """SSO login: the login page's button, the provider, back with a new account (OIDC_AUTO_CREATE);
    the next time the same identity opens the same account."""
    if oidc_provider is None:
        pytest.skip(STACK_SKIP)
    email = f"sso-{uuid.uuid4().hex[:10]}@example.com"
    oidc_provider.set_user(email, email=email, email_verified=True)
    page.goto("/auth/login")
    expect(page.locator("#sso-login")).to_have_text("Log in with SSO")
    page.click("#sso-login")
    _through_the_provider(page, oidc_provider, email)
    page.wait_for_url("**/notes/")
    expect(page.locator("#flashes")).to_contain_text("Welcome to Notes!")
    write_note(page, "Made after SSO", "Hello")
    page.goto("/account/")
    expect(page.locator("main")).to_contain_text(f"Signed in as {email}.")
    sso = page.locator("section[aria-labelledby=sso-h]")
    expect(sso).to_contain_text(oidc_provider.issuer)
    expect(sso).to_contain_text("your only way in")
    page.click("text=Log out")
    page.wait_for_url("**/auth/login")

    page.click("#sso-login")
    _through_the_provider(page, oidc_provider, email)
    page.wait_for_url("**/notes/")
    expect(page.locator("main")).to_contain_text("Made after SSO")


def test_link_sso_from_the_account_page(page, oidc_provider):
    """A password account links an identity with "Link SSO" (a form that ends at the provider), then logs in with it."""
    if oidc_provider is None:
        pytest.skip(STACK_SKIP)
    email = register(page)
    page.goto("/account/")
    page.fill("#sso-link-password", PASSWORD)
    page.click("#sso-link")
    subject = f"linked-{uuid.uuid4().hex[:10]}"
    _through_the_provider(page, oidc_provider, subject)
    page.wait_for_url("**/account/")
    expect(page.locator("#flashes")).to_contain_text("Single sign-on is linked")
    sso = page.locator("section[aria-labelledby=sso-h]")
    expect(sso.get_by_role("button", name="Unlink")).to_be_visible()
    page.click("text=Log out")
    page.click("#sso-login")
    _through_the_provider(page, oidc_provider, subject)
    page.wait_for_url("**/notes/")
    page.goto("/account/")
    expect(page.locator("main")).to_contain_text(f"Signed in as {email}.")
