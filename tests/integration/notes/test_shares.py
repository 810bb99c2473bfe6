"""Share links: made and revoked by the owner (pages and API), opened by anyone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.helpers.api import API, assert_problem, count
from tests.helpers.web import bearer

from app.db.types import utcnow
from app.models import Note, db
from app.notes.models import NoteShare
from app.notes.service import purge_note, trash_note

LINK = re.compile(r"http://localhost/s/(shr_[A-Za-z0-9_-]+)")


def _share_page(client, note_id: int, days: str = "") -> str:
    """Make a link through the note page's form; the secret the page shows once."""
    response = client.post(f"/notes/{note_id}/shares", data={"days": days}, follow_redirects=True)
    assert response.status_code == 200
    found = LINK.search(response.get_data(as_text=True))
    assert found, "the new link is not on the page"
    return found.group(1)


# --- the public page ------------------------------------------------------------


def test_a_link_opens_the_rendered_note_and_nothing_else(client, logged_in, factory):
    note = factory.note(logged_in, title="Recipe", content="**Bake** 20 minutes")
    factory.note(logged_in, title="Private diary")
    secret = _share_page(client, note.id)
    client.post("/auth/logout")
    client.delete_cookie("session")

    response = client.get(f"/s/{secret}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Recipe</h1>" in page and "<strong>Bake</strong> 20 minutes" in page
    # Nothing of the account: no email, no other note, no controls, no form, no script.
    assert logged_in.email not in page and "Private diary" not in page
    assert "<form" not in page and "<script" not in page and "csrf" not in page
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert '<meta name="robots" content="noindex, nofollow">' in page
    # A visitor gets no session (no cookie, no row).
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("secret", ["shr_unknown", "nope", "shr_" + "x" * 200, "inv_abc", "shr_%00", "shr_" + "A" * 32])
def test_an_unknown_or_malformed_link_is_a_plain_404(client, secret):
    response = client.get(f"/s/{secret}")
    assert response.status_code == 404
    assert "This link does not open a note" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"


def test_revoked_expired_trashed_and_purged_links_all_look_the_same(client, logged_in, factory):
    notes = [factory.note(logged_in, title=f"n{i}") for i in range(4)]
    secrets_ = [_share_page(client, n.id, "1") for n in notes]
    assert all(client.get(f"/s/{s}").status_code == 200 for s in secrets_)
    missing = client.get("/s/shr_unknown").get_data(as_text=True)

    share = db.session.scalars(sa.select(NoteShare).where(NoteShare.note_id == notes[0].id)).one()
    assert client.post(f"/notes/{notes[0].id}/shares/{share.id}/revoke").status_code == 302
    expired = db.session.scalars(sa.select(NoteShare).where(NoteShare.note_id == notes[1].id)).one()
    expired.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    trash_note(db.session.get(Note, notes[2].id))
    purge_note(db.session.get(Note, notes[3].id))

    for secret in secrets_:
        response = client.get(f"/s/{secret}")
        assert response.status_code == 404
        assert response.get_data(as_text=True) == missing
    assert count(NoteShare) == 3  # the purged note's link went with it


def test_an_archived_note_stays_shared_and_a_restored_one_opens_again(client, logged_in, factory):
    note = factory.note(logged_in, title="Kept")
    secret = _share_page(client, note.id)
    client.post(f"/notes/{note.id}/archive")
    assert client.get(f"/s/{secret}").status_code == 200
    client.post(f"/notes/{note.id}/delete")
    assert client.get(f"/s/{secret}").status_code == 404
    client.post(f"/notes/{note.id}/restore")
    assert client.get(f"/s/{secret}").status_code == 200


def test_a_link_shows_the_note_as_it_is_now(client, logged_in, factory):
    note = factory.note(logged_in, title="Draft", content="v1")
    secret = _share_page(client, note.id)
    client.post(f"/notes/{note.id}/edit", data={"title": "Final", "content": "v2", "tags": "", "version": "1"})
    page = client.get(f"/s/{secret}").get_data(as_text=True)
    assert "<h1>Final</h1>" in page and "v2" in page and "v1" not in page


# --- the owner's pages ----------------------------------------------------------


def test_only_a_hash_of_the_secret_is_kept_and_the_link_is_shown_once(client, logged_in, factory):
    note = factory.note(logged_in)
    secret = _share_page(client, note.id, "7")
    share = db.session.scalars(sa.select(NoteShare)).one()
    assert secret not in share.token_hash and len(share.token_hash) == 64
    assert len(secret) >= len("shr_") + 32  # 192 bits
    assert share.expires_at is not None and timedelta(days=6) < share.expires_at - utcnow() <= timedelta(days=7)
    again = client.get(f"/notes/{note.id}").get_data(as_text=True)
    assert secret not in again
    assert "works until" in again and "Revoke" in again


def test_a_lifetime_not_offered_is_refused_with_the_reason_and_makes_nothing(client, logged_in, factory):
    note = factory.note(logged_in)
    response = client.post(f"/notes/{note.id}/shares", data={"days": "3"})
    assert response.status_code == 400
    assert "A link lives 1, 7, 30 or 365 days, or until you revoke it." in response.get_data(as_text=True)
    assert count(NoteShare) == 0


def test_another_users_note_or_link_is_a_404_and_changes_nothing(client, logged_in, factory):
    bob = factory.user("bob@example.com")
    bobs = factory.note(bob, title="Bob's")
    share = NoteShare(note_id=bobs.id, token_hash="c" * 64)
    mine = factory.note(logged_in)
    db.session.add(share)
    db.session.commit()
    assert client.post(f"/notes/{bobs.id}/shares", data={"days": ""}).status_code == 404
    assert client.post(f"/notes/{bobs.id}/shares/{share.id}/revoke").status_code == 404
    # Bob's link through my note's URL: still not mine.
    assert client.post(f"/notes/{mine.id}/shares/{share.id}/revoke").status_code == 404
    db.session.expire_all()
    assert count(NoteShare) == 1 and db.session.get(NoteShare, share.id).revoked_at is None
    assert "Bob&#39;s" not in client.get("/notes/shares").get_data(as_text=True)


def test_a_trashed_note_cannot_be_shared(client, logged_in, factory):
    note = factory.note(logged_in)
    client.post(f"/notes/{note.id}/delete")
    assert client.post(f"/notes/{note.id}/shares", data={"days": ""}).status_code == 404
    assert count(NoteShare) == 0


def test_the_shared_links_page_lists_every_active_link_with_a_revoke_button(client, logged_in, factory):
    shared = factory.note(logged_in, title="Shared one")
    revoked = factory.note(logged_in, title="Revoked one")
    factory.note(logged_in, title="Never shared")
    _share_page(client, shared.id, "30")
    _share_page(client, revoked.id)
    share = db.session.scalars(sa.select(NoteShare).where(NoteShare.note_id == revoked.id)).one()
    client.post(f"/notes/{revoked.id}/shares/{share.id}/revoke", data={"next": "/notes/shares"})
    page = client.get("/notes/shares").get_data(as_text=True)
    assert "Shared one" in page
    assert "Revoked one" not in page and "Never shared" not in page
    assert 'href="/notes/shares"' in client.get("/account/").get_data(as_text=True)


# --- the API --------------------------------------------------------------------


def test_api_make_list_revoke_a_link(client, headers, factory, user):
    note = factory.note(user, title="Via API")
    made = client.post(f"{API}/notes/{note.id}/shares", json={"days": 30}, headers=headers)
    assert made.status_code == 201
    body = made.get_json()
    secret = LINK.fullmatch(body["url"]).group(1)
    assert body["note_id"] == note.id and body["expires_at"] and body["revoked_at"] is None
    assert client.get(f"/s/{secret}").status_code == 200

    listed = client.get(f"{API}/notes/{note.id}/shares", headers=headers).get_json()["items"]
    assert [s["id"] for s in listed] == [body["id"]] and "url" not in listed[0]
    everything = client.get(f"{API}/shares", headers=headers).get_json()["items"]
    assert [(s["id"], s["note_title"]) for s in everything] == [(body["id"], "Via API")]

    assert client.delete(f"{API}/notes/{note.id}/shares/{body['id']}", headers=headers).status_code == 204
    assert client.delete(f"{API}/notes/{note.id}/shares/{body['id']}", headers=headers).status_code == 204
    assert client.get(f"/s/{secret}").status_code == 404
    assert client.get(f"{API}/notes/{note.id}/shares", headers=headers).get_json()["items"] == []


@pytest.mark.parametrize("body", [{"days": 3}, {"days": "7"}, {"days": -1}, {"expires": 1}])
def test_api_refuses_a_bad_body_with_422_and_makes_nothing(client, headers, factory, user, body):
    note = factory.note(user)
    problem = assert_problem(client.post(f"{API}/notes/{note.id}/shares", json=body, headers=headers), 422)
    assert problem["errors"]
    assert count(NoteShare) == 0


def test_api_another_users_note_or_link_is_a_404(client, headers, factory, user):
    bob = factory.user("bob@example.com")
    bobs = factory.note(bob)
    share = NoteShare(note_id=bobs.id, token_hash="d" * 64)
    db.session.add(share)
    db.session.commit()
    assert_problem(client.post(f"{API}/notes/{bobs.id}/shares", json={}, headers=headers), 404)
    assert_problem(client.get(f"{API}/notes/{bobs.id}/shares", headers=headers), 404)
    assert_problem(client.delete(f"{API}/notes/{bobs.id}/shares/{share.id}", headers=headers), 404)
    mine = factory.note(user)
    assert_problem(client.delete(f"{API}/notes/{mine.id}/shares/{share.id}", headers=headers), 404)
    assert client.get(f"{API}/shares", headers=headers).get_json()["items"] == []
    assert count(NoteShare) == 1


def test_api_a_read_only_token_cannot_make_or_revoke_links(client, factory, user):
    _, secret = factory.token(user, name="reader", scope="read")
    note = factory.note(user)
    assert client.post(f"{API}/notes/{note.id}/shares", json={}, headers=bearer(secret)).status_code == 403
    assert client.get(f"{API}/notes/{note.id}/shares", headers=bearer(secret)).status_code == 200
    assert count(NoteShare) == 0
