"""REGISTRATION: open, invite (a single-use link from an administrator) or
closed. The page says why before anyone fills in a form, and a refused
sign-up creates nothing and spends no invitation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.helpers.admin import account_state, audit_events
from tests.helpers.api import count

from app.accounts.invites import UNUSABLE, create_invite
from app.accounts.rules import INVITE_NEEDED, REGISTRATION_CLOSED
from app.db.types import utcnow
from app.models import Invite, User, db

REGISTER = "/auth/register"
GOOD_PASSWORD = "a good password"


def _form(email: str = "new@example.com", invite: str | None = None, confirm: str = GOOD_PASSWORD) -> dict[str, str]:
    form = {"email": email, "password": GOOD_PASSWORD, "confirm": confirm}
    if invite is not None:
        form["invite"] = invite
    return form


def _invite() -> Invite:
    db.session.expire_all()
    return db.session.scalars(sa.select(Invite)).one()


@pytest.fixture
def invite_only(app):  # type: ignore[no-untyped-def]
    app.config["REGISTRATION"] = "invite"
    return app


@pytest.fixture
def secret(invite_only) -> str:  # type: ignore[no-untyped-def]
    return create_invite(None, note="for Dana")[1]


# --- closed ----------------------------------------------------------------------


def test_closed_registration_explains_itself_instead_of_the_form(app, client):
    app.config["REGISTRATION"] = "closed"
    response = client.get(REGISTER)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert REGISTRATION_CLOSED in html
    assert 'name="email"' not in html
    # Nobody is sent there either.
    assert 'href="/auth/register"' not in client.get("/auth/login").get_data(as_text=True)


def test_closed_registration_refuses_a_post_and_creates_nothing(app, client):
    app.config["REGISTRATION"] = "closed"
    before = account_state()
    response = client.post(REGISTER, data=_form())
    assert response.status_code == 403
    assert REGISTRATION_CLOSED in response.get_data(as_text=True)
    assert account_state() == before
    assert client.get("/notes/").status_code == 302  # not logged in


def test_closed_registration_refuses_even_a_valid_invitation(app, client):
    app.config["REGISTRATION"] = "closed"
    _, secret = create_invite(None)
    before = account_state()
    assert client.get(f"{REGISTER}?invite={secret}").status_code == 200
    response = client.post(REGISTER, data=_form(invite=secret))
    assert response.status_code == 403
    assert account_state() == before
    assert _invite().used_at is None


# --- invite --------------------------------------------------------------------


def test_without_an_invitation_the_page_says_one_is_needed(invite_only, client):
    response = client.get(REGISTER)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert INVITE_NEEDED in html
    assert 'name="email"' not in html
    assert 'href="/auth/register"' not in client.get("/auth/login").get_data(as_text=True)


@pytest.mark.parametrize("invite", [None, ""], ids=["missing", "empty"])
def test_without_an_invitation_a_post_is_403_and_creates_nothing(invite_only, client, invite):
    before = account_state()
    response = client.post(REGISTER, data=_form(invite=invite))
    assert response.status_code == 403
    assert INVITE_NEEDED in response.get_data(as_text=True)
    assert account_state() == before


def test_the_link_shows_the_form_carrying_the_invitation(client, secret):
    response = client.get(f"{REGISTER}?invite={secret}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="email"' in html
    assert f'name="invite" type="hidden" value="{secret}"' in html
    assert _invite().used_at is None  # looking spends nothing


def test_the_link_registers_exactly_one_account(app, client, secret):
    response = client.post(REGISTER, data=_form(invite=secret))
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/"
    assert client.get("/notes/").status_code == 200  # logged in
    user = db.session.scalars(sa.select(User)).one()
    invite = _invite()
    assert invite.used_at is not None and invite.used_by_id == user.id
    (event,) = audit_events("register")
    assert (event.target_email, event.detail, event.ip) == ("new@example.com", "with an invitation", "127.0.0.1")

    # Used: the link now explains itself, and a second sign-up creates nobody.
    other = app.test_client()
    response = other.get(f"{REGISTER}?invite={secret}")
    assert response.status_code == 409
    assert UNUSABLE in response.get_data(as_text=True)
    before = account_state()
    response = other.post(REGISTER, data=_form(email="second@example.com", invite=secret))
    assert response.status_code == 409
    assert UNUSABLE in response.get_data(as_text=True)
    assert account_state() == before
    assert count(User) == 1


def test_an_expired_invitation_is_409_and_creates_nothing(client, secret):
    invite = _invite()
    invite.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(f"{REGISTER}?invite={secret}")
    assert response.status_code == 409
    assert UNUSABLE in response.get_data(as_text=True)
    before = account_state()
    response = client.post(REGISTER, data=_form(invite=secret))
    assert response.status_code == 409
    assert account_state() == before


def test_a_withdrawn_invitation_is_409_and_creates_nothing(client, secret):
    db.session.delete(_invite())
    db.session.commit()
    assert client.get(f"{REGISTER}?invite={secret}").status_code == 409
    before = account_state()
    response = client.post(REGISTER, data=_form(invite=secret))
    assert response.status_code == 409
    assert UNUSABLE in response.get_data(as_text=True)
    assert account_state() == before


@pytest.mark.parametrize(
    "bogus",
    ["inv_nothing-like-it", "not-an-invite", "inv_" + "x" * 200, "inv_\x00"],
    ids=["unknown", "no-prefix", "too-long", "nul"],
)
def test_a_made_up_invitation_is_409_and_creates_nothing(invite_only, client, bogus):
    create_invite(None)
    assert client.get(REGISTER, query_string={"invite": bogus}).status_code == 409
    before = account_state()
    response = client.post(REGISTER, data=_form(invite=bogus))
    assert response.status_code == 409
    assert UNUSABLE in response.get_data(as_text=True)
    assert account_state() == before


def test_a_refused_form_keeps_the_invitation_unused_and_in_the_form(client, secret):
    before = account_state()
    response = client.post(REGISTER, data=_form(invite=secret, confirm="another password"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The passwords do not match." in html
    assert f'value="{secret}"' in html
    assert account_state() == before
    # Corrected, it goes through with the same invitation.
    assert client.post(REGISTER, data=_form(invite=secret)).status_code == 302
    assert _invite().used_by_id is not None


def test_a_taken_email_keeps_the_invitation_unused(client, secret, user):
    before = account_state()
    response = client.post(REGISTER, data=_form(email="alice@example.com", invite=secret))
    assert response.status_code == 400
    assert "An account with this email already exists" in response.get_data(as_text=True)
    assert account_state() == before


# --- open ------------------------------------------------------------------------


def test_open_registration_needs_no_invitation(app, client):
    assert app.config["REGISTRATION"] == "open"
    assert b'name="email"' in client.get(REGISTER).data
    assert client.post(REGISTER, data=_form()).status_code == 302
    assert count(User) == 1
    (event,) = audit_events("register")
    assert event.detail == ""
