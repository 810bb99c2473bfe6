"""Invitations on /admin/users: a new link is shown once, bad input creates
nothing, and a withdrawn link stops working."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from tests.helpers.admin import account_state, audit_events
from tests.helpers.api import count

from app.accounts.invites import INVITE_PREFIX, create_invite
from app.db.types import utcnow
from app.models import Invite, User, db

from .conftest import BOSS_IP

LINK = re.compile(r'<code id="new-invite">http://localhost/auth/register\?invite=(inv_[A-Za-z0-9_-]+)</code>')
PASSWORD = "a good password"


def _create(client, **form: str):  # type: ignore[no-untyped-def]
    return client.post("/admin/invites", data={"days": "7", **form})


def _invite() -> Invite:
    db.session.expire_all()
    return db.session.scalars(sa.select(Invite)).one()


def test_a_new_invitation_link_is_shown_once_and_audited(client, as_boss):
    response = _create(client, note="for Dana", days="3")
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    found = LINK.search(html)
    assert found, html
    secret = found.group(1)
    assert "Invitation created. Copy the link now: it will not be shown again." in html
    invite = _invite()
    assert invite.note == "for Dana"
    assert invite.token_hash != secret and secret not in invite.token_hash
    assert timedelta(days=3) - timedelta(minutes=1) < invite.expires_at - utcnow() <= timedelta(days=3)
    (event,) = audit_events("invite_created")
    assert (event.actor_email, event.ip, event.detail) == ("boss@example.com", BOSS_IP, "for Dana")

    # Never again: not on the list, not in the session cookie.
    page = client.get("/admin/users").get_data(as_text=True)
    assert secret not in page
    assert 'id="new-invite"' not in page
    assert "for Dana" in page and "not used" in page
    with client.session_transaction() as session:
        assert secret not in repr(dict(session))


def test_the_link_is_new_each_time(client, as_boss):
    first = LINK.search(_create(client).get_data(as_text=True))
    second = LINK.search(_create(client).get_data(as_text=True))
    assert first and second and first.group(1) != second.group(1)
    assert first.group(1).startswith(INVITE_PREFIX)
    assert count(Invite) == 2


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"days": "0"}, "Number must be between 1 and 90."),
        ({"days": "91"}, "Number must be between 1 and 90."),
        ({"days": "-3"}, "Number must be between 1 and 90."),
        ({"days": "seven"}, "Not a valid integer value."),
        ({"days": ""}, "This field is required."),
        ({"days": "99999999999999999999999"}, "Number must be between 1 and 90."),
        ({"note": "x" * 101}, "Field cannot be longer than 100 characters."),
        ({"note": "for \x00 Dana"}, "Remove the NUL character from this field."),
    ],
    ids=["zero-days", "too-many-days", "negative", "words", "empty", "huge", "long-note", "nul"],
)
def test_a_bad_invitation_form_is_400_and_creates_nothing(client, as_boss, form, message):
    before = account_state()
    response = _create(client, **form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    assert 'id="new-invite"' not in html
    assert account_state() == before


def test_withdrawing_an_unused_invitation_deletes_it_and_is_audited(client, as_boss):
    secret = LINK.search(_create(client, note="for Eve").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    invite = _invite()
    response = client.post(f"/admin/invites/{invite.id}/withdraw", follow_redirects=True)
    assert response.status_code == 200
    assert "Invitation withdrawn: its link no longer works." in response.get_data(as_text=True)
    assert count(Invite) == 0
    (event,) = audit_events("invite_deleted")
    assert (event.actor_email, event.ip, event.detail) == ("boss@example.com", BOSS_IP, "for Eve")
    client.post("/auth/logout")
    client.application.config["REGISTRATION"] = "invite"
    response = client.get(f"/auth/register?invite={secret}")
    assert response.status_code == 409


def test_withdrawing_a_used_invitation_is_409_and_changes_nothing(client, as_boss, factory):
    invite, _ = create_invite(None, note="for Fay")
    invite.used_at = utcnow()
    invite.used_by_id = factory.user("fay@example.com").id
    db.session.commit()
    before = account_state()
    response = client.post(f"/admin/invites/{invite.id}/withdraw")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "This invitation was used already; there is nothing to withdraw." in html
    assert "fay@example.com" in html  # the list says who used it
    assert account_state() == before


@pytest.mark.parametrize("invite_id", [999, 0, 2**63, 2**70])
def test_withdrawing_an_unknown_invitation_is_404(client, as_boss, invite_id):
    create_invite(None)
    before = account_state()
    response = client.post(f"/admin/invites/{invite_id}/withdraw")
    assert response.status_code == 404
    assert "No such invitation." in response.get_data(as_text=True)
    assert account_state() == before


def test_the_list_shows_who_used_each_invitation(client, as_boss):
    client.application.config["REGISTRATION"] = "invite"
    secret = LINK.search(_create(client, note="for Gus").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    other = client.application.test_client()
    form = {"email": "gus@example.com", "password": PASSWORD, "confirm": PASSWORD, "invite": secret}
    assert other.post("/auth/register", data=form).status_code == 302
    html = client.get("/admin/users").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td>for Gus</td>(.*?)</tr>", html, re.S)
    assert row, html
    assert "gus@example.com" in row.group(1)
    assert "Withdraw" not in row.group(1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


def test_the_list_tells_an_expired_invitation_from_a_waiting_one(client, as_boss):
    create_invite(None, note="for Hal")
    expired, _ = create_invite(None, note="for Ida")
    expired.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    html = client.get("/admin/users").get_data(as_text=True)
    cells = dict(re.findall(r"<tr>\s*<td>(for \w+)</td>(?:\s*<td>[^<]*</td>){2}\s*<td>([^<]*)</td>", html))
    assert cells == {"for Hal": "not used", "for Ida": "expired, not used"}
