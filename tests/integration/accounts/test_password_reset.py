"""Password reset by email, through the pages and a real SMTP server in the test process."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import sqlalchemy as sa
from tests.helpers.api import count
from tests.helpers.data import PASSWORD

from app.accounts.mail import wait_for_deliveries
from app.accounts.passwords import verify_password
from app.accounts.resets import reset_link_for_admin, reset_password
from app.accounts.service import change_password
from app.accounts.throttle import Client
from app.models import ApiToken, AuditEvent, LoginSession, PasswordReset, User, db

NEW = "a fresh start with a new passphrase"
UNUSABLE = b"This password reset link cannot be used"


def _ask(client, email="alice@example.com"):
    return client.post("/auth/forgot", data={"email": email})


# The page's CSRF token is signed with the second it was made (itsdangerous), so
# two answers a second apart differ there and nowhere else; it says nothing
# about the account asked for.
_CSRF_TOKEN = re.compile(rb'(name="csrf[-_]token" (?:content|value)=")[^"]*(")')


def _answer(response):  # type: ignore[no-untyped-def]
    """What a person sees of an answer: its status and page, the per-request CSRF token blanked."""
    return response.status_code, _CSRF_TOKEN.sub(rb"\1\2", response.data)


def _reset(client, path, password=NEW, confirm=None, revoke=True):
    data = {"password": password, "confirm": password if confirm is None else confirm}
    if revoke:
        data["revoke_tokens"] = "y"
    return client.post(path, data=data)


def _path(link: str) -> str:
    return link.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def _password_hash(user: User) -> str:
    db.session.expire_all()
    return db.session.get(User, user.id).password_hash


def _actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def _link_for(client, smtp, email="alice@example.com") -> str:
    assert _ask(client, email).status_code == 200
    return _path(smtp.wait_for(1)[-1].link)


def test_the_mailed_link_sets_a_new_password_and_logs_in_with_it(app, client, auth, user, smtp):
    response = _ask(client, "  Alice@Example.com ")
    assert response.status_code == 200
    assert b"Check your email" in response.data

    [mail] = smtp.wait_for(1)
    assert mail.recipients == ["alice@example.com"]
    assert mail.message["To"] == "alice@example.com"
    assert mail.message["Subject"] == "Reset your Notes password"
    assert "within 30 minutes" in mail.body
    assert mail.link.startswith("http://localhost/auth/reset/rst_")
    # Only the hash of the secret is stored.
    stored = db.session.scalar(sa.select(PasswordReset))
    assert stored.token_hash != mail.secret and mail.secret not in stored.token_hash

    page = client.get(_path(mail.link))
    assert page.status_code == 200
    assert b"Choose a new password" in page.data
    box = re.search(r'<input[^>]*name="revoke_tokens"[^>]*>', page.get_data(as_text=True))
    assert box and "checked" in box.group(0)  # revoking the tokens is the default

    response = _reset(client, _path(mail.link))
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert b"Your password has been changed" in client.get("/auth/login").data

    assert auth.login(password=PASSWORD).status_code == 401
    assert auth.login(password=NEW).status_code == 302
    assert _actions()[:2] == ["password_reset_requested", "password_reset"]


def test_a_reset_ends_every_session_and_revokes_the_tokens_when_ticked(app, client, auth, user, factory, smtp):
    auth.login()
    other_browser = app.test_client()
    assert other_browser.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    token, _ = factory.token(user)
    link = _link_for(app.test_client(), smtp)

    assert _reset(app.test_client(), link).status_code == 302

    assert count(LoginSession) == 0
    assert client.get("/notes/").status_code == 302
    assert other_browser.get("/notes/").status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked is True
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "password_reset"))
    assert event.target_id == user.id and event.detail == "2 sessions ended"
    revoked = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "tokens_revoked"))
    assert revoked.target_id == user.id and revoked.detail == "1 token with the new password"


def test_leaving_the_box_unticked_keeps_the_api_tokens(app, user, factory, smtp):
    token, secret = factory.token(user)
    client = app.test_client()
    link = _link_for(client, smtp)

    response = _reset(client, link, revoke=False)
    assert response.status_code == 302
    assert b"Your API tokens still work." in client.get("/auth/login").data
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked is False
    assert app.test_client().get("/api/v1/notes", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_known_and_unknown_emails_get_the_same_answer_and_only_the_known_one_a_mail(app, client, user, smtp):
    unknown = _ask(client, "nobody@example.com")
    known = _ask(client, "alice@example.com")
    assert (unknown.status_code, unknown.headers.get("Content-Type")) == (
        known.status_code,
        known.headers["Content-Type"],
    )
    assert unknown.data == known.data
    wait_for_deliveries()
    assert [m.recipients for m in smtp.messages] == [["alice@example.com"]]
    # Both are audited; the unknown address is written down as typed, and has no link.
    assert count(PasswordReset) == 1
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "password_reset_requested")).all()
    assert [(e.target_email, e.detail) for e in events] == [
        ("nobody@example.com", "no such account: no link sent"),
        ("alice@example.com", "link sent"),
    ]


def test_a_disabled_account_gets_no_link_and_the_same_answer(app, client, user, factory, smtp):
    factory.user("bob@example.com")
    reference = _ask(client, "bob@example.com")
    user.disabled_at = user.created_at
    db.session.commit()
    wait_for_deliveries()
    smtp.clear()

    refused = _ask(client, "alice@example.com")
    assert _answer(refused) == _answer(reference)
    wait_for_deliveries()
    assert smtp.messages == []
    assert db.session.scalar(sa.select(PasswordReset.user_id)) != user.id


def test_a_link_of_an_account_disabled_since_is_refused(app, client, user, smtp):
    link = _link_for(client, smtp)
    user.disabled_at = user.created_at
    db.session.commit()
    before = _password_hash(user)
    assert client.get(link).status_code == 404
    response = _reset(client, link)
    assert response.status_code == 404
    assert UNUSABLE in response.data
    assert _password_hash(user) == before


def _refused_and_nothing_changed(client, user, path, before_hash, sessions=None):
    page = client.get(path)
    assert page.status_code == 404
    assert UNUSABLE in page.data
    assert b"Ask for a new link" in page.data
    response = _reset(client, path)
    assert response.status_code == 404
    assert UNUSABLE in response.data
    assert _password_hash(user) == before_hash
    if sessions is not None:
        assert count(LoginSession) == sessions


def test_unknown_and_malformed_links_are_refused(client, user):
    before = _password_hash(user)
    for path in ("/auth/reset/rst_doesnotexist", "/auth/reset/not-even-the-prefix", "/auth/reset/rst_" + "a" * 200):
        _refused_and_nothing_changed(client, user, path, before)


def test_a_tampered_link_is_refused(app, client, auth, user, smtp):
    link = _link_for(client, smtp)
    auth.login()
    before = _password_hash(user)
    last = link[-1]
    tampered = link[:-1] + ("A" if last != "A" else "B")
    _refused_and_nothing_changed(app.test_client(), user, tampered, before, sessions=1)
    # The real one still works.
    assert _reset(app.test_client(), link).status_code == 302


def test_an_expired_link_is_refused(app, client, user, smtp):
    link = _link_for(client, smtp)
    reset = db.session.scalar(sa.select(PasswordReset))
    reset.expires_at = reset.created_at - timedelta(seconds=1)
    db.session.commit()
    _refused_and_nothing_changed(client, user, link, _password_hash(user))


def test_links_live_as_long_as_password_reset_ttl(app, client, user, smtp):
    app.config["PASSWORD_RESET_TTL"] = timedelta(minutes=5)
    link = _link_for(client, smtp)
    assert "within 5 minutes" in smtp.messages[-1].body
    reset = db.session.scalar(sa.select(PasswordReset))
    assert reset.expires_at - reset.created_at == timedelta(minutes=5)
    assert client.get(link).status_code == 200


def test_a_used_link_cannot_be_used_again(app, client, user, smtp):
    link = _link_for(client, smtp)
    assert _reset(client, link).status_code == 302
    after = _password_hash(user)
    _refused_and_nothing_changed(app.test_client(), user, link, after)
    assert verify_password(after, NEW)


def test_a_link_made_before_a_password_change_is_refused(app, client, user, smtp):
    link = _link_for(client, smtp)
    change_password(user, PASSWORD, "changed the usual way", Client("127.0.0.1"), revoke_tokens=False)
    _refused_and_nothing_changed(client, user, link, _password_hash(user))


def test_using_one_link_kills_the_others(app, client, user, smtp):
    first = _link_for(client, smtp)
    smtp.clear()
    second = _link_for(client, smtp)
    assert _reset(client, second).status_code == 302
    _refused_and_nothing_changed(app.test_client(), user, first, _password_hash(user))


def test_a_new_password_the_policy_refuses_changes_nothing_and_keeps_the_link(app, client, auth, user, smtp):
    link = _link_for(client, smtp)
    auth.login()
    before = _password_hash(user)
    for password, confirm, message in (
        ("short", None, b"Use 8 to 128 characters."),
        ("password123", None, b"one of the most common ones"),
        ("alice@example.com", None, b"Do not use your email address as your password."),
        (NEW, NEW + " typo", b"The passwords do not match."),
        ("", None, b"This field is required."),
    ):
        response = _reset(app.test_client(), link, password=password, confirm=confirm)
        assert response.status_code == 400, password
        assert message in response.data, password
    assert _password_hash(user) == before
    assert count(LoginSession) == 1
    assert db.session.scalar(sa.select(PasswordReset.used_at)) is None
    assert _reset(app.test_client(), link).status_code == 302


def test_a_bad_email_is_a_400_that_says_why_and_sends_nothing(client, user, smtp):
    for email, message in (("", b"This field is required."), ("not-an-address", b"Enter a valid email address")):
        response = _ask(client, email)
        assert response.status_code == 400
        assert message in response.data
    wait_for_deliveries()
    assert smtp.messages == []
    assert count(PasswordReset) == 0


def test_requests_per_email_are_throttled_for_known_and_unknown_alike(app, client, user, smtp):
    app.config["PASSWORD_RESET_MAX_PER_EMAIL"] = 2
    for email in ("alice@example.com", "nobody@example.com"):
        assert _ask(app.test_client(), email).status_code == 200
        assert _ask(app.test_client(), email.upper()).status_code == 200
        refused = _ask(app.test_client(), email)
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        assert b"Too many password reset requests. Try again in about" in refused.data
    wait_for_deliveries()
    assert len(smtp.messages) == 2
    assert count(PasswordReset) == 2


def test_requests_per_client_address_are_throttled(app, user, smtp):
    app.config["PASSWORD_RESET_MAX_PER_IP"] = 3
    client = app.test_client()
    for n in range(3):
        assert _ask(client, f"someone{n}@example.com").status_code == 200
    refused = _ask(client, "alice@example.com")
    assert refused.status_code == 429
    wait_for_deliveries()
    assert smtp.messages == []
    # Another address is not held up.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert _ask(other, "alice@example.com").status_code == 200
    assert len(smtp.wait_for(1)) == 1


def test_reset_requests_never_lock_anyone_out_of_logging_in(app, client, auth, user, smtp):
    app.config["PASSWORD_RESET_MAX_PER_EMAIL"] = 1
    _ask(client)
    assert _ask(client).status_code == 429
    assert auth.login().status_code == 302


def test_an_smtp_server_that_is_down_changes_no_answer_and_logs_no_link(app, client, user, smtp, caplog):
    reference = _ask(client, "nobody@example.com")
    app.config["MAIL_PORT"] = 1  # nothing listens there
    with caplog.at_level(logging.ERROR, logger="notes.mail"):
        response = _ask(client, "alice@example.com")
        wait_for_deliveries()
    assert _answer(response) == _answer(reference)
    [record] = [r for r in caplog.records if r.name == "notes.mail"]
    assert "could not be sent" in record.getMessage()
    assert "rst_" not in record.getMessage()


def test_the_login_page_links_to_the_forgot_page_when_mail_is_set_up(client, smtp):
    page = client.get("/auth/login").data
    assert b'href="/auth/forgot"' in page
    assert b"not set up" not in page


def test_without_smtp_the_pages_say_to_ask_an_administrator_and_nothing_happens(app, client, user):
    assert app.config["MAIL_SERVER"] is None
    page = client.get("/auth/login").data.decode()
    assert "password reset by email is not set up on this server; ask an administrator" in page.lower()
    assert 'href="/auth/forgot"' not in page
    forgot = client.get("/auth/forgot")
    assert forgot.status_code == 200
    assert b"not set up on this server" in forgot.data
    refused = _ask(client)
    assert refused.status_code == 403
    assert b"not set up on this server" in refused.data
    assert count(PasswordReset) == 0
    assert "password_reset_requested" not in _actions()


def test_the_forgot_and_reset_pages_need_the_csrf_token(csrf_app, user, smtp):
    client = csrf_app.test_client()
    csrf_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    assert client.post("/auth/forgot", data={"email": "alice@example.com"}).status_code == 400
    wait_for_deliveries()
    assert smtp.messages == []
    assert count(PasswordReset) == 0


def test_a_reset_never_gets_around_two_factor_login(client, user, authenticator):
    """ASVS 6.4.3: a reset sets the password and logs nobody in; the next login still asks for the code."""
    authenticator.enable(user)
    _, secret = reset_link_for_admin(user.email)
    reset_password(secret, "a brand new passphrase", revoke_tokens=True, ip="198.51.100.1")
    response = client.post("/auth/login", data={"email": user.email, "password": "a brand new passphrase"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login/code")
    assert client.get("/notes/").status_code == 302  # not logged in without the code
    done = client.post("/auth/login/code", data={"code": authenticator.code()})
    assert done.status_code == 302
    assert client.get("/notes/").status_code == 200
