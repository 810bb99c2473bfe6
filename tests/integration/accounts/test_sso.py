"""Single sign-on against a real OpenID Connect provider (oidc-provider-mock,
on 127.0.0.1 in a thread): the test client follows the app's redirect to the
provider, a requests call answers its consent page, and the test client
follows the provider's redirect back to /auth/oidc/callback.

Who gets in: a linked identity opens its account; a new one gets an account
only as OIDC_AUTO_CREATE and REGISTRATION allow; an account whose email the
provider names is never logged in to until its owner proves it. Nobody gets
in when the provider's answer does not check out (nonce, issuer, expiry,
state) or the person says no at the provider.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from tests.helpers.admin import audit_events, make_admin
from tests.helpers.data import PASSWORD
from tests.helpers.oidc import consent, local_path, running_provider, sso_login, to_provider
from tests.helpers.shared_app import as_new, built_once

from app.accounts import admin, sso
from app.accounts.invites import UNUSABLE, create_invite
from app.accounts.rules import INVITE_NEEDED, REGISTRATION_CLOSED
from app.accounts.service import ADMINS_ONLY, CONFIRM_WITH_SSO, DISABLED
from app.accounts.sso import (
    CONFIRM_SECONDS,
    HAS_PASSWORD,
    LAST_WAY_IN,
    LINKED_ELSEWHERE,
    NO_ACCOUNT,
    NO_EMAIL,
    NO_PASSWORD,
    NOT_THIS_ACCOUNT,
)
from app.accounts.sso_views import BROKEN, DENIED, STALE
from app.db.types import utcnow
from app.domain import NotAllowed, RuleConflict
from app.models import ApiToken, AuthFailure, Invite, OidcIdentity, User, db

LINK = "/account/sso/link"


@pytest.fixture(scope="module")
def provider():  # type: ignore[no-untyped-def]
    with running_provider() as provider:
        provider.set_user("carol-sub", email="carol@example.com", email_verified=True)
        provider.set_user("alice-sub", email="alice@example.com", email_verified=True)
        yield provider


@pytest.fixture(scope="module")
def _sso_app(provider):  # type: ignore[no-untyped-def]
    return built_once(**provider.app_config(OIDC_AUTO_CREATE=True, REGISTRATION="open"))


@pytest.fixture
def app(_sso_app):  # type: ignore[no-untyped-def]
    """The conftest's ``app`` with single sign-on through ``provider``: client, factory and auth use it."""
    with as_new(_sso_app) as app:
        yield app


def logged_in_as(client) -> str | None:  # type: ignore[no-untyped-def]
    """The email the account page greets, or None when nobody is logged in."""
    page = client.get("/account/")
    if page.status_code != 200:
        return None
    match = re.search(r"Signed in as ([^<]+)\.", page.get_data(as_text=True))
    return match.group(1) if match else None


def identities() -> list[OidcIdentity]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OidcIdentity).order_by(OidcIdentity.id)))


def users() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(User.email).order_by(User.id)))


def actions() -> list[str]:
    return [event.action for event in audit_events()]


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


# --- New identities: accounts as OIDC_AUTO_CREATE and REGISTRATION allow ---------


def test_first_login_creates_a_linked_account_under_open(client, provider):
    response = sso_login(client, "carol-sub")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notes/"
    assert logged_in_as(client) == "carol@example.com"
    [link] = identities()
    assert (link.issuer, link.subject, link.user.email) == (provider.issuer, "carol-sub", "carol@example.com")
    assert link.last_login_at is not None
    # No password opens the new account.
    assert link.user.password_hash == NO_PASSWORD
    assert actions() == ["register", "sso_linked", "sso_login"]


def test_no_account_is_made_while_auto_create_is_off(app, client):
    app.config["OIDC_AUTO_CREATE"] = False
    response = sso_login(client, "carol-sub")
    assert response.status_code == 403
    assert NO_ACCOUNT in text(response)
    assert users() == [] and identities() == []
    assert logged_in_as(client) is None
    assert actions() == ["sso_login_failed"]


def test_no_account_is_made_while_registration_is_closed(app, client):
    app.config["REGISTRATION"] = "closed"
    response = sso_login(client, "carol-sub")
    assert response.status_code == 403
    assert REGISTRATION_CLOSED in text(response)
    assert users() == [] and logged_in_as(client) is None


def test_under_invite_only_a_login_started_from_an_invitation_makes_an_account(app, client):
    app.config["REGISTRATION"] = "invite"
    response = sso_login(client, "carol-sub")
    assert response.status_code == 403
    assert INVITE_NEEDED in text(response)
    assert users() == []

    invite, secret = create_invite(None, note="for carol")
    # The registration page offers the button, carrying the invitation.
    page = text(client.get(f"/auth/register?invite={secret}"))
    assert f'href="/auth/oidc/login?invite={secret}"' in page
    response = sso_login(client, "carol-sub", start=f"/auth/oidc/login?invite={secret}")
    assert response.status_code == 302
    assert logged_in_as(client) == "carol@example.com"
    db.session.expire_all()
    claimed = db.session.get(Invite, invite.id)
    assert claimed is not None and claimed.used_by_id == identities()[0].user_id
    assert audit_events("register")[0].detail == "single sign-on with an invitation"


def test_a_used_invitation_makes_no_second_account(app, client, provider):
    app.config["REGISTRATION"] = "invite"
    _, secret = create_invite(None)
    assert sso_login(client, "carol-sub", start=f"/auth/oidc/login?invite={secret}").status_code == 302
    client.post("/auth/logout")
    provider.set_user("dave-sub", email="dave@example.com", email_verified=True)
    response = sso_login(client, "dave-sub", start=f"/auth/oidc/login?invite={secret}")
    assert response.status_code == 409
    assert UNUSABLE in text(response)
    assert users() == ["carol@example.com"]


@pytest.mark.parametrize(
    "claims",
    [{"name": "No Email"}, {"email": "erin@example.com"}, {"email": "erin@example.com", "email_verified": False}],
    ids=["no-email", "unverified", "verified-false"],
)
def test_an_identity_without_a_verified_email_gets_no_account(client, provider, claims):
    """An address the provider did not verify could be anybody's."""
    provider.set_user("erin-sub", **claims)
    response = sso_login(client, "erin-sub")
    assert response.status_code == 400
    assert NO_EMAIL in text(response)
    assert users() == [] and logged_in_as(client) is None


# --- Linked identities ----------------------------------------------------------


def test_a_linked_identity_logs_in_to_its_account(client, factory, provider):
    alice = factory.user("alice@example.com")
    db.session.add(OidcIdentity(user_id=alice.id, issuer=provider.issuer, subject="alice-sub"))
    db.session.commit()
    response = sso_login(client, "alice-sub")
    assert response.status_code == 302
    assert logged_in_as(client) == "alice@example.com"
    assert identities()[0].last_login_at is not None
    assert actions() == ["sso_login"]
    assert users() == ["alice@example.com"]


def test_a_disabled_account_cannot_log_in_with_sso(client, factory, provider):
    alice = factory.user("alice@example.com")
    alice.disabled_at = utcnow()
    db.session.add(OidcIdentity(user_id=alice.id, issuer=provider.issuer, subject="alice-sub"))
    db.session.commit()
    response = sso_login(client, "alice-sub")
    assert response.status_code == 403
    assert DISABLED in text(response)
    assert logged_in_as(client) is None
    assert actions() == ["sso_login_refused"]


def test_the_same_subject_at_another_issuer_is_another_identity(client, factory):
    alice = factory.user("alice@example.com")
    db.session.add(OidcIdentity(user_id=alice.id, issuer="https://elsewhere.example", subject="carol-sub"))
    db.session.commit()
    assert sso_login(client, "carol-sub").status_code == 302
    assert logged_in_as(client) == "carol@example.com"


# --- An account with the provider's email, not linked: never taken over ----------


def test_an_unlinked_account_with_the_same_email_is_not_logged_in_to(client, factory):
    factory.user("alice@example.com")
    response = sso_login(client, "alice-sub")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/oidc/link"
    assert logged_in_as(client) is None
    assert identities() == []
    assert users() == ["alice@example.com"]
    event = audit_events("sso_login_failed")[0]
    assert event.target_email == "alice@example.com" and "not linked" in event.detail

    page = client.get("/auth/oidc/link")
    assert page.status_code == 200
    assert "alice@example.com" in text(page)
    wrong = client.post("/auth/oidc/link", data={"password": "not the password"})
    assert wrong.status_code == 401
    assert identities() == [] and logged_in_as(client) is None


def test_the_owner_links_it_with_the_account_password(client, factory, provider):
    factory.user("alice@example.com")
    sso_login(client, "alice-sub")
    response = client.post("/auth/oidc/link", data={"password": PASSWORD})
    assert response.status_code == 302
    assert logged_in_as(client) == "alice@example.com"
    [link] = identities()
    assert (link.issuer, link.subject) == (provider.issuer, "alice-sub")
    assert actions()[-2:] == ["sso_linked", "sso_login"]
    # From now on the provider alone is enough.
    client.post("/auth/logout")
    assert sso_login(client, "alice-sub").headers["Location"] == "/notes/"
    assert logged_in_as(client) == "alice@example.com"


def test_guessing_the_password_on_the_link_page_is_throttled(app, client, factory):
    factory.user("alice@example.com")
    sso_login(client, "alice-sub")
    statuses = [client.post("/auth/oidc/link", data={"password": f"guess {n}"}).status_code for n in range(6)]
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429
    assert client.post("/auth/oidc/link", data={"password": PASSWORD}).status_code == 429
    assert identities() == []


def test_the_link_page_without_a_pending_login_sends_back_to_login(client):
    response = client.get("/auth/oidc/link")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"


# --- Answers that do not check out: nobody gets in ------------------------------


def test_denied_consent_logs_nobody_in(client):
    response = sso_login(client, "carol-sub", deny=True)
    assert response.status_code == 403
    assert DENIED in text(response)
    assert users() == [] and logged_in_as(client) is None
    assert audit_events("sso_login_failed")[0].detail == "the provider answered access_denied"


def _callback_with(client, **changes: str) -> str:  # type: ignore[no-untyped-def]
    """A genuine callback URL for carol, with ``changes`` made to its query."""
    callback = consent(to_provider(client.get("/auth/oidc/login")), sub="carol-sub")
    parts = urlsplit(callback)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return f"{parts.path}?{urlencode(query)}"


def test_a_tampered_state_logs_nobody_in(client):
    response = client.get(_callback_with(client, state="forged-state"))
    assert response.status_code == 400
    assert STALE in text(response)
    assert users() == [] and logged_in_as(client) is None
    assert audit_events("sso_login_failed")[0].detail == "state did not match"


def test_a_callback_cannot_be_replayed(client):
    callback = _callback_with(client)
    assert client.get(callback).status_code == 302
    client.post("/auth/logout")
    again = client.get(callback)
    assert again.status_code == 400
    assert logged_in_as(client) is None


def test_a_callback_in_another_browser_logs_nobody_in(app, client):
    """Login CSRF: a code and state made for one browser, sent to another."""
    callback = _callback_with(client)
    other = app.test_client()
    assert other.get(callback).status_code == 400
    assert logged_in_as(other) is None


def test_a_wrong_nonce_logs_nobody_in(client):
    callback = consent(to_provider(client.get("/auth/oidc/login")), sub="carol-sub")
    # The nonce this browser's session expects is not the one the ID token carries.
    with client.session_transaction() as session:
        [key] = [key for key in session if key.startswith("_state_oidc_")]
        state = dict(session[key])
        state["data"] = {**state["data"], "nonce": "another-nonce"}
        session[key] = state
    response = client.get(local_path(callback))
    assert response.status_code == 400
    assert BROKEN in text(response)
    assert users() == [] and logged_in_as(client) is None
    assert "nonce" in audit_events("sso_login_failed")[0].detail


def test_the_flow_uses_pkce_s256_and_a_nonce(client, app, provider):
    query = parse_qs(urlsplit(to_provider(client.get("/auth/oidc/login"))).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["nonce"][0] and query["state"][0]
    assert query["client_id"] == [provider.app_config()["OIDC_CLIENT_ID"]]
    assert query["redirect_uri"] == ["http://localhost/auth/oidc/callback"]


@pytest.fixture
def other_provider_app():  # type: ignore[no-untyped-def]
    """An app whose provider is set up by the test, built and dropped here."""
    apps = []

    def build(provider):  # type: ignore[no-untyped-def]
        app = built_once(**provider.app_config(OIDC_AUTO_CREATE=True, REGISTRATION="open"))
        apps.append(app)
        return app

    return build


def test_an_id_token_from_another_issuer_logs_nobody_in(other_provider_app):
    with running_provider(another_issuer=True) as provider:
        provider.set_user("carol-sub", email="carol@example.com")
        with as_new(other_provider_app(provider)) as app:
            client = app.test_client()
            response = sso_login(client, "carol-sub")
            assert response.status_code == 400
            assert BROKEN in text(response)
            assert users() == [] and logged_in_as(client) is None
            assert "iss" in audit_events("sso_login_failed")[0].detail


def test_an_id_token_with_a_broken_signature_logs_nobody_in(other_provider_app):
    with running_provider(bad_signatures=True) as provider:
        provider.set_user("carol-sub", email="carol@example.com")
        with as_new(other_provider_app(provider)) as app:
            client = app.test_client()
            response = sso_login(client, "carol-sub")
            assert response.status_code == 400
            assert BROKEN in text(response)
            assert users() == [] and logged_in_as(client) is None
            assert "signature" in audit_events("sso_login_failed")[0].detail


def test_a_discovery_document_naming_another_issuer_is_refused(other_provider_app):
    """OIDC_ISSUER with a trailing slash: the provider's document names itself without one."""
    with running_provider() as provider:
        configured = type(provider)(provider.issuer + "/")
        with as_new(other_provider_app(configured)) as app:
            client = app.test_client()
            response = client.get("/auth/oidc/login")
            assert response.status_code == 502
            assert BROKEN in text(response)
            assert audit_events("sso_login_failed")[0].detail == "the discovery document names another issuer"


def test_an_expired_id_token_logs_nobody_in(other_provider_app):
    # Its ID tokens expire ten minutes before they are made: past any clock leeway.
    with running_provider(token_max_age=timedelta(minutes=-10)) as provider:
        provider.set_user("carol-sub", email="carol@example.com")
        with as_new(other_provider_app(provider)) as app:
            client = app.test_client()
            response = sso_login(client, "carol-sub")
            assert response.status_code == 400
            assert BROKEN in text(response)
            assert users() == [] and logged_in_as(client) is None
            assert "exp" in audit_events("sso_login_failed")[0].detail


def test_an_unreachable_provider_is_a_clear_error(other_provider_app):
    with running_provider() as provider:
        pass  # stopped: nothing listens there any more
    with as_new(other_provider_app(provider)) as app:
        response = app.test_client().get("/auth/oidc/login")
        assert response.status_code == 502
        assert "could not be reached" in text(response)


# --- The account page: link and unlink -------------------------------------------


def test_a_logged_in_user_links_sso_from_the_account_page(client, logged_in, provider):
    page = text(client.get("/account/"))
    assert "Link SSO" in page
    response = sso_login(client, "alice-sub", start=LINK, method="post", data={"password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/"
    [link] = identities()
    assert (link.user_id, link.subject) == (logged_in.id, "alice-sub")
    assert audit_events("sso_linked")[0].actor_id == logged_in.id
    page = text(client.get("/account/"))
    assert provider.issuer in page and "Unlink" in page


def test_an_identity_linked_to_another_account_is_not_linked_again(client, logged_in, factory, provider):
    bob = factory.user("bob@example.com")
    db.session.add(OidcIdentity(user_id=bob.id, issuer=provider.issuer, subject="alice-sub"))
    db.session.commit()
    response = sso_login(client, "alice-sub", start=LINK, method="post", data={"password": PASSWORD})
    assert response.status_code == 409
    assert LINKED_ELSEWHERE in text(response)
    assert [link.user_id for link in identities()] == [bob.id]


def test_unlinking_an_identity_of_an_account_with_a_password(client, logged_in, provider):
    sso_login(client, "alice-sub", start=LINK, method="post", data={"password": PASSWORD})
    [link] = identities()
    response = client.post(f"/account/sso/{link.id}/unlink")
    assert response.status_code == 302
    assert identities() == []
    assert audit_events("sso_unlinked")[0].detail == f"{provider.issuer} alice-sub"
    # The identity no longer opens the account.
    client.post("/auth/logout")
    assert sso_login(client, "alice-sub").headers["Location"] == "/auth/oidc/link"


def test_the_only_way_into_an_account_cannot_be_unlinked(client):
    sso_login(client, "carol-sub")
    [link] = identities()
    assert "your only way in" in text(client.get("/account/"))
    response = client.post(f"/account/sso/{link.id}/unlink")
    assert response.status_code == 409
    assert LAST_WAY_IN in text(response)
    assert len(identities()) == 1


def test_nobody_unlinks_another_accounts_identity(client, logged_in, factory, provider):
    bob = factory.user("bob@example.com")
    db.session.add(OidcIdentity(user_id=bob.id, issuer=provider.issuer, subject="bob-sub"))
    db.session.commit()
    [link] = identities()
    assert client.post(f"/account/sso/{link.id}/unlink").status_code == 404
    assert len(identities()) == 1


def test_deleting_an_account_deletes_its_identities(client, logged_in):
    sso_login(client, "alice-sub", start=LINK, method="post", data={"password": PASSWORD})
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 302
    assert identities() == []


def test_an_administrator_without_a_password_is_not_the_one_left(client, factory):
    """The last-administrator rule counts administrators who can log in with a password:
    with the provider down or PASSWORD_LOGIN=off, nobody else could get in to manage the server."""
    boss = make_admin(factory.user("boss@example.com"))
    sso_login(client, "carol-sub")
    carol = db.session.scalars(sa.select(User).where(User.email == "carol@example.com")).one()
    make_admin(carol)
    for action in (admin.disable, admin.delete_account):
        with pytest.raises(RuleConflict):
            action(boss, actor=carol)
        db.session.rollback()
    with pytest.raises(RuleConflict):
        admin.set_admin(boss, False, actor=carol)
    db.session.rollback()
    # Carol herself may go: boss remains.
    admin.disable(carol, actor=boss)


# --- PASSWORD_LOGIN=off: SSO only, with the administrators' password path ---------


@pytest.fixture
def sso_only(app):  # type: ignore[no-untyped-def]
    app.config["PASSWORD_LOGIN"] = False
    return app


def test_the_login_page_offers_sso_and_the_password_form(client):
    page = text(client.get("/auth/login"))
    assert 'id="sso-login"' in page and "Log in with SSO" in page
    assert 'name="password"' in page


def test_with_password_login_off_the_login_page_has_no_password_form(sso_only, client, user):
    page = text(client.get("/auth/login"))
    assert 'id="sso-login"' in page
    assert 'name="password"' not in page
    assert 'href="/auth/login/password"' in page
    response = client.post("/auth/login", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert logged_in_as(client) is None


def test_with_password_login_off_an_administrator_still_logs_in_with_a_password(sso_only, client, user):
    make_admin(user)
    page = text(client.get("/auth/login/password"))
    assert 'name="password"' in page and "for administrators" in page
    response = client.post("/auth/login/password", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in_as(client) == "alice@example.com"


def test_with_password_login_off_other_accounts_are_refused_on_the_admin_path(sso_only, client, user):
    response = client.post("/auth/login/password", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert ADMINS_ONLY in text(response)
    assert logged_in_as(client) is None
    assert actions() == ["password_login_refused"]


def test_with_password_login_off_nobody_signs_up_with_a_password(sso_only, client):
    """A password account would get around single sign-on; the page offers the button instead."""
    sso_only.config["REGISTRATION"] = "invite"
    _, secret = create_invite(None)
    page = client.get(f"/auth/register?invite={secret}")
    assert 'name="password"' not in text(page)
    assert f'href="/auth/oidc/login?invite={secret}"' in text(page)
    form = {"email": "new@example.com", "password": "a good password", "confirm": "a good password", "invite": secret}
    assert client.post("/auth/register", data=form).status_code == 403
    assert users() == []
    # The button signs up through the provider, with the invitation.
    assert sso_login(client, "carol-sub", start=f"/auth/oidc/login?invite={secret}").status_code == 302
    assert logged_in_as(client) == "carol@example.com"


def test_with_password_login_on_the_password_path_is_the_same_login(client, user):
    response = client.post("/auth/login/password", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in_as(client) == "alice@example.com"


def test_forms_may_lead_to_the_provider_and_nowhere_else(client, provider):
    """ "Link SSO" posts, then redirects to the provider: the CSP's form-action must allow its origin."""
    policy = client.get("/auth/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer};" in policy


def test_an_account_with_two_factor_login_still_asks_for_its_code(client, factory, provider, authenticator):
    alice = factory.user("alice@example.com")
    db.session.add(OidcIdentity(user_id=alice.id, issuer=provider.issuer, subject="alice-sub"))
    db.session.commit()
    authenticator.enable(alice)
    before = actions()
    response = sso_login(client, "alice-sub")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login/code")
    assert logged_in_as(client) is None
    assert actions() == before  # nobody is logged in yet, so no login is audited
    wrong = client.post("/auth/login/code", data={"code": "000000" if authenticator.code() != "000000" else "111111"})
    assert wrong.status_code == 401
    assert logged_in_as(client) is None
    assert actions() == [*before, "two_factor_failed"]
    done = client.post("/auth/login/code", data={"code": authenticator.code()})
    assert done.status_code == 302
    assert logged_in_as(client) == "alice@example.com"
    last = audit_events()[-1]
    assert (last.action, last.detail) == ("sso_login", f"{provider.issuer}, with a code")


def test_linking_from_the_account_page_needs_the_password(client, logged_in, provider):
    for form, status in [({}, 400), ({"password": "not the password"}, 403)]:
        response = client.post(LINK, data=form)
        assert response.status_code == status
        assert "Location" not in response.headers  # never sent on to the provider
    assert identities() == []
    assert "That is not your password" in text(client.post(LINK, data={"password": "not the password"}))


def test_linking_with_two_factor_login_on_needs_a_code_too(client, logged_in, provider, authenticator):
    authenticator.enable(logged_in)
    response = client.post(LINK, data={"password": PASSWORD})
    assert response.status_code == 403
    assert identities() == []
    response = sso_login(
        client, "alice-sub", start=LINK, method="post", data={"password": PASSWORD, "code": authenticator.code()}
    )
    assert response.headers["Location"] == "/account/"
    assert [link.subject for link in identities()] == ["alice-sub"]


def test_the_link_page_never_links_an_account_with_two_factor_login(client, factory, provider, authenticator):
    """Its password alone would attach a lasting way in before the second factor was ever given."""
    alice = factory.user("alice@example.com")
    authenticator.enable(alice)
    assert sso_login(client, "alice-sub").headers["Location"] == "/auth/oidc/link"
    response = client.post("/auth/oidc/link", data={"password": PASSWORD})
    assert response.status_code == 403
    assert "two-factor login" in text(response)
    assert identities() == []
    assert logged_in_as(client) is None


def test_an_unverified_email_never_points_at_an_account(client, factory, provider):
    """Else anyone whose provider lets them type any address could test which have accounts here."""
    factory.user("alice@example.com")
    provider.set_user("mallory-sub", email="alice@example.com", email_verified=False)
    response = sso_login(client, "mallory-sub")
    assert response.headers.get("Location") != "/auth/oidc/link"
    assert logged_in_as(client) is None
    assert identities() == []


# --- an account without a password confirms with the provider -----------------------

CONFIRM = "/account/sso/confirm"


def _confirm(client, sub: str = "carol-sub"):  # type: ignore[no-untyped-def]
    """ "Confirm with SSO" on the account page, through the provider as ``sub``; the app's answer."""
    return sso_login(client, sub, start=CONFIRM, method="post")


def _token(client):  # type: ignore[no-untyped-def]
    return client.post("/account/tokens", data={"name": "script", "scope": "read"})


def _failures() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuthFailure)) or 0


def test_an_account_without_a_password_is_asked_to_confirm_with_sso_not_for_a_password(client):
    sso_login(client, "carol-sub")
    page = text(client.get("/account/"))
    assert "Confirm with SSO" in page and 'id="token-password"' not in page
    for attempt in ({"name": "script"}, {"name": "script", "password": "anything at all"}):
        response = client.post("/account/tokens", data=attempt)
        assert response.status_code == 403
        assert CONFIRM_WITH_SSO in text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0
    assert _failures() == 0  # nothing was guessed: no password to guess


def test_confirming_with_the_provider_stands_in_for_the_password(client, provider):
    sso_login(client, "carol-sub")
    begin = client.post(CONFIRM)
    assert parse_qs(urlsplit(begin.headers["Location"]).query)["prompt"] == ["login"]  # log in again, please

    response = _confirm(client)
    assert response.status_code == 302 and response.headers["Location"] == "/account/"
    carol = db.session.scalar(sa.select(User).where(User.email == "carol@example.com"))
    [event] = audit_events("sso_confirmed")
    assert (event.target_id, event.actor_id, event.detail) == (carol.id, carol.id, provider.issuer)
    page = text(client.get("/account/"))
    assert "Confirmed with single sign-on" in page and "Confirm with SSO" not in page

    assert _token(client).status_code == 201
    # Two-factor login on, with no password to type.
    client.post("/account/2fa/setup")
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', text(client.get("/account/2fa"))).group(1)
    from tests.helpers.twofactor import code_at

    assert client.post("/account/2fa/confirm", data={"code": code_at(secret, utcnow())}).status_code == 201


def test_an_account_without_a_password_sets_one_after_confirming_and_logs_in_with_it(app, client):
    sso_login(client, "carol-sub")
    new = {"new_password": "a brand new passphrase", "confirm": "a brand new passphrase"}
    refused = client.post("/account/password", data=new)
    assert refused.status_code == 400 and CONFIRM_WITH_SSO in text(refused)
    _confirm(client)
    assert client.post("/account/password", data=new).status_code == 302
    other = app.test_client()
    login = other.post("/auth/login", data={"email": "carol@example.com", "password": "a brand new passphrase"})
    assert login.status_code == 302 and logged_in_as(other) == "carol@example.com"


def test_deleting_an_account_without_a_password_after_confirming(client):
    sso_login(client, "carol-sub")
    assert client.post("/account/delete", data={}).status_code == 400
    assert "carol@example.com" in users()
    _confirm(client)
    assert client.post("/account/delete", data={}).status_code == 302
    assert "carol@example.com" not in users() and identities() == []


def test_confirming_as_another_identity_confirms_nothing(client, factory, provider):
    bob = factory.user("bob@example.com")
    db.session.add(OidcIdentity(user_id=bob.id, issuer=provider.issuer, subject="alice-sub"))
    db.session.commit()
    sso_login(client, "carol-sub")
    response = _confirm(client, "alice-sub")
    assert response.status_code == 403
    assert NOT_THIS_ACCOUNT in text(response)
    assert audit_events("sso_confirmed") == []
    assert audit_events("sso_login_failed")[-1].detail.startswith("confirmation by an identity not linked")
    assert _token(client).status_code == 403


def test_a_confirmation_lasts_a_few_minutes_and_only_in_its_own_session(client):
    sso_login(client, "carol-sub")
    _confirm(client)
    with client.session_transaction() as session:
        proof = session["sso_confirmed"]
        session["sso_confirmed"] = {**proof, "at": proof["at"] - CONFIRM_SECONDS - 1}
    assert _token(client).status_code == 403
    _confirm(client)
    with client.session_transaction() as session:
        session["sso_confirmed"] = {**session["sso_confirmed"], "sid": "another login session"}
    assert _token(client).status_code == 403


def test_a_provider_login_older_than_the_window_confirms_nothing(app, client, provider):
    """A provider that ignores prompt=login answers from its own old session: its auth_time gives it away."""
    sso_login(client, "carol-sub")
    carol = db.session.scalar(sa.select(User).where(User.email == "carol@example.com"))
    identity = sso.Identity(provider.issuer, "carol-sub")
    stale = time.time() - CONFIRM_SECONDS - 5
    with pytest.raises(NotAllowed, match="did not ask you to log in again"):
        sso.confirm(carol, identity, auth_time=stale, ip="192.0.2.1")
    assert audit_events("sso_confirmed") == []
    sso.confirm(carol, identity, auth_time=time.time() - 10, ip="192.0.2.1")
    assert len(audit_events("sso_confirmed")) == 1


def test_an_account_with_a_password_is_not_offered_sso_confirmation(client, logged_in, provider):
    sso_login(client, "alice-sub", start=LINK, method="post", data={"password": PASSWORD})
    assert "Confirm with SSO" not in text(client.get("/account/"))
    response = client.post(CONFIRM)
    assert response.status_code == 409 and "Location" not in response.headers
    assert HAS_PASSWORD in text(response)


def test_the_api_creates_a_token_for_an_account_without_a_password_once_its_session_confirmed(client):
    sso_login(client, "carol-sub")
    body = {"name": "script", "scope": "read", "password": ""}
    refused = client.post("/api/v1/tokens", json=body)
    assert refused.status_code == 403
    assert refused.get_json()["detail"] == CONFIRM_WITH_SSO
    assert _failures() == 0
    _confirm(client)
    created = client.post("/api/v1/tokens", json=body)
    assert created.status_code == 201 and created.get_json()["token"]
