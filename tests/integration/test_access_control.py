"""Access control over the whole URL map: login required everywhere it
should be, no state change on GET, and another user's notes are a 404."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa
from flask import Flask
from tests.helpers.app import TEST_CONFIG
from tests.helpers.data import PASSWORD

from app import create_app
from app.models import ApiToken, Attachment, AuditEvent, Invite, Note, NoteRevision, NoteShare, User, db
from app.notes.attachments import add_attachment
from app.notes.service import update_note
from app.notes.sharing import create_share

# Endpoints anyone may reach without logging in.
PUBLIC_ENDPOINTS = {
    "static",
    "index",
    "health.healthz",
    "health.readyz",
    "auth.login",
    # The code step: without a pending login it sends the visitor back to the password.
    "auth.login_code",
    "auth.register",
    "auth.forgot",
    "auth.reset",
    "api.PasswordResetCollection",
    "api.PasswordResetItem",
    "auth.password_login",
    # Single sign-on: starting it, the provider's way back, proving an account to link.
    "sso.start",
    "sso.callback",
    "sso.confirm",
    "api-docs.openapi_json",
    "api-docs.openapi_redoc",
    # A share link opens its note for anyone: the link's secret is the access (tests/integration/notes/test_shares.py).
    "shared.note",
    "shared.file",
}
SAMPLE_ARGS = {
    "note_id": 1,
    "token_id": 1,
    "session_id": 1,
    "index": 0,
    "user_id": 1,
    "invite_id": 1,
    "action": "disable",
    "token": "rst_x",
    "identity_id": 1,
    "revision_id": 1,
    "share_id": 1,
    "key": "AAAAAAAAAAAAAAAAAAAAAA",
    "secret": "shr_x",
}


def _protected_routes() -> list[tuple[str, str, str]]:
    app = create_app(dict(TEST_CONFIG))
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in PUBLIC_ENDPOINTS:
                continue
            url = rule.build({k: SAMPLE_ARGS[k] for k in rule.arguments}, append_unknown=False)[1]
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                routes.append((rule.endpoint, method, url))
    return routes


PROTECTED = _protected_routes()


def test_the_map_has_the_routes_we_expect():
    endpoints = {endpoint for endpoint, _, _ in PROTECTED}
    # A guard against the walk silently finding nothing.
    assert {"notes.index", "notes.edit", "account.settings", "auth.logout", "api.NoteItem"} <= endpoints
    assert len(PROTECTED) >= 25


@pytest.mark.parametrize(("endpoint", "method", "url"), PROTECTED, ids=[f"{m} {u}" for _, m, u in PROTECTED])
def test_anonymous_visitor_is_turned_away(client, endpoint, method, url):
    response = client.open(url, method=method)
    if url.startswith("/api/"):
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].lower().startswith("bearer")
    else:
        assert response.status_code == 302
        location = response.headers["Location"]
        assert location.startswith("/auth/login?next=")


def test_login_redirect_carries_the_page_to_return_to(client, user):
    response = client.get("/notes/archive")
    assert response.headers["Location"] == "/auth/login?next=%2Fnotes%2Farchive"
    response = client.post(response.headers["Location"], data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/archive"


def _snapshot() -> str:
    """A digest of every row the app stores, to prove nothing changed."""
    digest = hashlib.sha256()
    for model in (User, Note, NoteRevision, NoteShare, Attachment, ApiToken, Invite, AuditEvent):
        for row in db.session.execute(sa.select(model.__table__)).all():
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_no_get_route_changes_state(app: Flask, client, auth, factory):
    """Walk every GET route with real ids and check the database is untouched."""
    alice = factory.user("alice@example.com")
    live = factory.note(alice, title="live")
    trashed = factory.note(alice, title="trashed")
    trashed.deleted_at = trashed.created_at
    db.session.commit()
    token, _ = factory.token(alice)
    share, secret = create_share(live)  # the shared page is walked with a link that opens it
    attachment = add_attachment(live, "a.png", b"\x89PNG not really")  # and its file
    # A revision (id 1), so that the history pages show one.
    update_note(live, {"content": "changed"})
    # An administrator, so that the admin pages are walked too.
    alice.is_admin = True
    db.session.commit()
    auth.login()
    before = _snapshot()
    visited = 0
    with app.test_request_context():
        rules = [r for r in app.url_map.iter_rules() if "GET" in (r.methods or set()) and r.endpoint != "static"]
    for rule in rules:
        for note_id in (live.id, trashed.id):
            args = {"note_id": note_id, "token_id": token.id, "index": 0, "user_id": alice.id, "invite_id": 1}
            args["revision_id"] = 1
            args["action"] = "disable"
            args["token"] = "rst_not-a-link"
            args["share_id"] = share.id
            args["secret"] = secret
            args["key"] = attachment.key
            url = rule.build({k: args[k] for k in rule.arguments}, append_unknown=False)[1]
            response = client.get(url)
            assert response.status_code < 500, url
            visited += 1
    db.session.expire_all()
    assert _snapshot() == before
    assert visited >= 20


NOTE_ROUTES = [
    ("GET", "/notes/{id}"),
    ("GET", "/notes/{id}/edit"),
    ("POST", "/notes/{id}/edit"),
    ("POST", "/notes/{id}/pin"),
    ("POST", "/notes/{id}/archive"),
    ("POST", "/notes/{id}/delete"),
    ("POST", "/notes/{id}/restore"),
    ("POST", "/notes/{id}/purge"),
    ("POST", "/notes/{id}/tasks/0"),
    ("GET", "/notes/{id}/history"),
    ("GET", "/notes/{id}/history/diff?from=1&to=current"),
    ("POST", "/notes/{id}/history/1/restore"),
    ("POST", "/notes/{id}/files"),
]


@pytest.mark.parametrize("in_trash", [False, True], ids=["live", "trashed"])
@pytest.mark.parametrize(("method", "pattern"), NOTE_ROUTES)
def test_another_users_note_is_404_on_every_page(client, auth, factory, method, pattern, in_trash):
    alice = factory.user("alice@example.com")
    note = factory.note(alice, title="Alice's secret", content="private")
    if in_trash:
        note.deleted_at = note.created_at
        db.session.commit()
    factory.user("bob@example.com")
    auth.login("bob@example.com")
    before = (note.title, note.content, note.pinned, note.archived, note.deleted_at, note.version)

    data = {"title": "hijacked", "content": "owned", "version": str(note.version)}
    response = client.open(pattern.format(id=note.id), method=method, data=data if method == "POST" else None)

    assert response.status_code == 404
    assert b"Alice's secret" not in response.data and b"private" not in response.data
    db.session.expire_all()
    again = db.session.get(Note, note.id)
    assert again is not None
    assert (again.title, again.content, again.pinned, again.archived, again.deleted_at, again.version) == before


@pytest.mark.parametrize(("method", "pattern"), NOTE_ROUTES)
def test_missing_note_is_404_on_every_page(client, logged_in, method, pattern):
    response = client.open(pattern.format(id=9999), method=method, data={"title": "x"} if method == "POST" else None)
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_another_users_token_cannot_be_revoked_from_the_settings_page(client, auth, factory):
    alice = factory.user("alice@example.com")
    token, _secret = factory.token(alice)
    factory.user("bob@example.com")
    auth.login("bob@example.com")
    response = client.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 404
    db.session.refresh(token)
    assert token.revoked is False


def test_one_clients_login_never_leaks_to_another(app, auth, client, user):
    auth.login()
    assert client.get("/notes/").status_code == 200
    stranger = app.test_client()
    assert stranger.get("/notes/").status_code == 302
    assert stranger.get("/api/v1/notes").status_code == 401
