"""Two-factor login through the pages: set-up, the login's code step, recovery codes, turning it off,
tokens, REQUIRE_2FA, and the admin list."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from tests.helpers.data import PASSWORD, Factory
from tests.helpers.twofactor import RECOVERY_CODES_ON_PAGE, SECRET_ON_PAGE

from app.models import ApiToken, AuditEvent, AuthFailure, LoginSession, TwoFactorChallenge, User, db

NEW_SECRET = re.compile(r'<code id="new-token">(nt_[A-Za-z0-9_-]+)</code>')


def _wrong(right: str) -> str:
    return "000000" if right != "000000" else "111111"


def _row(user: User) -> dict:
    db.session.expire_all()
    return dict(db.session.execute(sa.select(User.__table__).where(User.id == user.id)).mappings().one())


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def _logged_in(client) -> bool:
    return client.get("/account/").status_code == 200


# --- set-up ----------------------------------------------------------------------


def test_the_account_page_offers_the_set_up(client, logged_in):
    page = client.get("/account/").get_data(as_text=True)
    assert "Off: your password alone logs you in." in page
    assert 'href="/account/2fa"' in page
    assert "Two-factor login is off" in client.get("/account/2fa").get_data(as_text=True)


def test_set_up_shows_an_inline_svg_qr_code_and_the_secret_within_the_csp(client, logged_in, authenticator):
    assert client.post("/account/2fa/setup").headers["Location"] == "/account/2fa"
    response = client.get("/account/2fa")
    page = response.get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(page).group(1)
    assert '<div class="qr"><svg role="img" aria-label="QR code for your authenticator app"' in page
    svg = page[page.index("<svg") : page.index("</svg>")].lower()
    assert "<script" not in svg and "style=" not in svg and "href" not in svg and "data:" not in svg
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    # The row holds the secret only sealed.
    row = _row(logged_in)
    assert secret not in row["totp_secret"] and row["totp_enabled_at"] is None


def test_a_wrong_confirmation_code_keeps_it_off(client, logged_in, authenticator):
    client.post("/account/2fa/setup")
    authenticator.secret = SECRET_ON_PAGE.search(client.get("/account/2fa").get_data(as_text=True)).group(1)
    response = client.post("/account/2fa/confirm", data={"code": _wrong(authenticator.code()), "password": PASSWORD})
    assert response.status_code == 400
    assert b"That code does not match" in response.data
    assert _row(logged_in)["totp_enabled_at"] is None
    assert b"Turn on two-factor login" in response.data  # the same set-up, to try again


def test_an_empty_confirmation_code_is_a_400_with_a_message(client, logged_in, authenticator):
    client.post("/account/2fa/setup")
    response = client.post("/account/2fa/confirm", data={"code": "", "password": PASSWORD})
    assert response.status_code == 400
    assert b"Enter the code." in response.data
    assert _row(logged_in)["totp_enabled_at"] is None


def test_the_right_code_turns_it_on_and_shows_ten_recovery_codes_once(client, logged_in, authenticator):
    client.post("/account/2fa/setup")
    authenticator.secret = SECRET_ON_PAGE.search(client.get("/account/2fa").get_data(as_text=True)).group(1)
    response = client.post("/account/2fa/confirm", data={"code": authenticator.code(), "password": PASSWORD})
    assert response.status_code == 201
    codes = RECOVERY_CODES_ON_PAGE.findall(response.get_data(as_text=True))
    assert len(set(codes)) == 10
    assert _row(logged_in)["totp_enabled_at"] is not None
    again = client.get("/account/2fa").get_data(as_text=True)
    assert RECOVERY_CODES_ON_PAGE.findall(again) == []
    assert "You have 10 unused recovery codes." in again
    with client.session_transaction() as session:
        assert not any(code in repr(dict(session)) for code in codes)
    assert "two_factor_enabled" in _actions()


@pytest.mark.parametrize(
    ("password", "status", "message"),
    [("", 400, "This field is required."), ("not my password", 403, "That is not your password; nothing was changed.")],
    ids=["missing", "wrong"],
)
def test_turning_it_on_needs_the_password(client, logged_in, authenticator, password, status, message):
    """A borrowed browser must not bind the account to somebody else's phone: the right code alone is not enough."""
    client.post("/account/2fa/setup")
    authenticator.secret = SECRET_ON_PAGE.search(client.get("/account/2fa").get_data(as_text=True)).group(1)
    response = client.post("/account/2fa/confirm", data={"code": authenticator.code(), "password": password})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert _row(logged_in)["totp_enabled_at"] is None
    assert "two_factor_enabled" not in _actions()
    assert b"Turn on two-factor login" in response.data  # the same set-up, to try again


def test_set_up_is_refused_when_it_is_on(client, logged_in, authenticator):
    authenticator.enable(logged_in)
    before = _row(logged_in)["totp_secret"]
    response = client.post("/account/2fa/setup", follow_redirects=True)
    assert b"Two-factor login is already on." in response.data
    assert _row(logged_in)["totp_secret"] == before


# --- logging in ------------------------------------------------------------------


@pytest.fixture
def alice_2fa(user, authenticator) -> list[str]:
    """alice with two-factor login on; her recovery codes."""
    return authenticator.enable(user)


def test_the_password_alone_does_not_log_in(client, auth, alice_2fa):
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login/code"
    assert not _logged_in(client)
    assert _count(LoginSession) == 0
    assert _count(TwoFactorChallenge) == 1
    page = client.get("/auth/login/code")
    assert page.status_code == 200 and b"Enter your code" in page.data
    assert "device" not in response.headers.get("Set-Cookie", "")


def test_login_with_a_code(client, auth, alice_2fa, authenticator):
    auth.login(remember="y")
    response = client.post("/auth/login/code", data={"code": authenticator.code()})
    assert response.status_code == 302 and response.headers["Location"] == "/notes/"
    assert _logged_in(client)
    assert _count(TwoFactorChallenge) == 0
    [session] = db.session.scalars(sa.select(LoginSession))
    assert session.remember is True
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "login"))
    assert event.detail == "with a code"


def test_login_goes_on_to_next(client, auth, alice_2fa, authenticator):
    response = client.post("/auth/login?next=/account/", data={"email": "alice@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/auth/login/code?next=/account/"
    response = client.post("/auth/login/code?next=/account/", data={"code": authenticator.code()})
    assert response.headers["Location"] == "/account/"


def test_the_same_code_cannot_log_in_twice(client, auth, alice_2fa, authenticator):
    code = authenticator.code()
    auth.login()
    assert client.post("/auth/login/code", data={"code": code}).status_code == 302
    other = client.application.test_client()
    other.post("/auth/login", data={"email": "alice@example.com", "password": PASSWORD})
    response = other.post("/auth/login/code", data={"code": code})
    assert response.status_code == 401
    assert b"That code is not right." in response.data
    assert not _logged_in(other)


def test_login_with_a_recovery_code_uses_it_up(client, auth, alice_2fa):
    auth.login()
    response = client.post("/auth/login/code", data={"code": alice_2fa[0]})
    assert response.status_code == 302
    assert "recovery_code_used" in _actions()
    client.post("/auth/logout")
    auth.login()
    response = client.post("/auth/login/code", data={"code": alice_2fa[0]})
    assert response.status_code == 401
    assert not _logged_in(client)


def test_a_wrong_code_is_a_401_counted_and_audited(client, auth, alice_2fa, authenticator):
    auth.login()
    failures_after_password = _count(AuthFailure)
    response = client.post("/auth/login/code", data={"code": _wrong(authenticator.code())})
    assert response.status_code == 401
    assert b"That code is not right." in response.data
    assert _count(AuthFailure) == failures_after_password + 3
    assert _actions()[-1] == "two_factor_failed"
    # The challenge stays for another try.
    assert client.post("/auth/login/code", data={"code": authenticator.code()}).status_code == 302


def test_an_empty_code_is_a_400(client, auth, alice_2fa):
    auth.login()
    response = client.post("/auth/login/code", data={"code": ""})
    assert response.status_code == 400
    assert b"Enter the code." in response.data
    assert not _logged_in(client)


def test_wrong_codes_are_throttled(app, client, auth, alice_2fa, authenticator):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"] = 3
    auth.login()
    wrong = _wrong(authenticator.code())
    for _ in range(3):
        assert client.post("/auth/login/code", data={"code": wrong}).status_code == 401
    response = client.post("/auth/login/code", data={"code": authenticator.code()})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert b"Too many wrong passwords or codes" in response.data
    assert not _logged_in(client)
    # Starting over with the password does not reset the count.
    assert auth.login().status_code == 429


def test_the_password_step_does_not_forgive_failures(app, client, auth, alice_2fa, authenticator):
    """A guesser who knows the password must not get fresh code guesses by entering it again."""
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_IP"] = 4
    wrong = _wrong(authenticator.code())
    for _ in range(2):
        auth.login()
        assert client.post("/auth/login/code", data={"code": wrong}).status_code == 401
        assert client.post("/auth/login/code", data={"code": wrong}).status_code == 401
    assert auth.login().status_code == 429


def test_the_code_step_without_a_password_goes_back_to_the_login(client, alice_2fa, authenticator):
    response = client.post("/auth/login/code", data={"code": authenticator.code()})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert not _logged_in(client)
    assert _row(User.query.one())["totp_last_step"] is not None  # untouched since the set-up: no code was taken


def test_another_browser_cannot_finish_the_login(client, auth, alice_2fa, authenticator):
    auth.login()
    stranger = client.application.test_client()
    response = stranger.post("/auth/login/code", data={"code": authenticator.code()})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert not _logged_in(stranger)


def test_an_expired_login_starts_over(app, client, auth, alice_2fa, authenticator):
    auth.login()
    authenticator.now += app.config["TWO_FACTOR_LOGIN_TIMEOUT"]
    response = client.post("/auth/login/code", data={"code": authenticator.code()}, follow_redirects=True)
    assert b"The login took too long." in response.data
    assert not _logged_in(client)


def test_accounts_without_two_factor_log_in_with_the_password(client, auth, user):
    assert auth.login().headers["Location"] == "/notes/"
    assert _logged_in(client)


# --- turning it off, new recovery codes --------------------------------------------


@pytest.fixture
def in_with_2fa(client, auth, alice_2fa, authenticator) -> list[str]:
    auth.login()
    client.post("/auth/login/code", data={"code": authenticator.code()})
    authenticator.tick()
    return alice_2fa


@pytest.mark.parametrize(
    ("password", "code", "message"),
    [
        ("wrong password", "right", b"That is not your password; nothing was changed."),
        (PASSWORD, "wrong", b"That code is not right."),
        (PASSWORD, "", b"Enter the code."),
        ("", "right", b"This field is required."),
    ],
)
def test_turning_it_off_needs_the_password_and_a_code(client, in_with_2fa, authenticator, password, code, message):
    code = authenticator.code() if code == "right" else (_wrong(authenticator.code()) if code == "wrong" else "")
    response = client.post("/account/2fa/disable", data={"password": password, "code": code})
    assert response.status_code in (400, 403)
    assert message in response.data
    assert _row(User.query.one())["totp_enabled_at"] is not None
    assert "two_factor_disabled" not in _actions()


def test_turning_it_off(client, in_with_2fa, authenticator):
    response = client.post("/account/2fa/disable", data={"password": PASSWORD, "code": authenticator.code()})
    assert response.status_code == 302
    row = _row(User.query.one())
    assert row["totp_enabled_at"] is None and row["totp_secret"] is None
    assert "two_factor_disabled" in _actions()
    client.post("/auth/logout")
    assert (
        client.post("/auth/login", data={"email": "alice@example.com", "password": PASSWORD}).headers["Location"]
        == "/notes/"
    )


def test_new_recovery_codes_replace_the_old_ones(client, in_with_2fa, authenticator):
    response = client.post("/account/2fa/recovery-codes", data={"password": PASSWORD, "code": authenticator.code()})
    assert response.status_code == 201
    new = RECOVERY_CODES_ON_PAGE.findall(response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(in_with_2fa)
    assert "recovery_codes_regenerated" in _actions()
    client.post("/auth/logout")
    client.post("/auth/login", data={"email": "alice@example.com", "password": PASSWORD})
    assert client.post("/auth/login/code", data={"code": in_with_2fa[3]}).status_code == 401
    assert client.post("/auth/login/code", data={"code": new[3]}).status_code == 302


def test_new_recovery_codes_need_a_code(client, in_with_2fa):
    response = client.post("/account/2fa/recovery-codes", data={"password": PASSWORD, "code": "123"})
    assert response.status_code == 403
    assert "recovery_codes_regenerated" not in _actions()


# --- API tokens on the page ----------------------------------------------------------


def _create_token(client, **fields):
    data = {"name": "laptop", "scope": "read", "expires_in_days": "", "password": PASSWORD, **fields}
    return client.post("/account/tokens", data=data)


def test_the_token_form_asks_for_a_code_only_with_two_factor(client, logged_in, authenticator):
    assert b'id="token-code"' not in client.get("/account/").data
    authenticator.enable(logged_in)
    assert b'id="token-code"' in client.get("/account/").data


@pytest.mark.parametrize("code", ["", "wrong"])
def test_a_token_needs_the_code(client, in_with_2fa, authenticator, code):
    code = _wrong(authenticator.code()) if code == "wrong" else ""
    response = _create_token(client, code=code)
    assert response.status_code == 403
    assert (b"Enter the code from your authenticator app" if not code else b"That code is not right.") in response.data
    assert _count(ApiToken) == 0


def test_a_token_with_the_code(client, in_with_2fa, authenticator):
    response = _create_token(client, code=authenticator.code())
    assert response.status_code == 201
    assert NEW_SECRET.search(response.get_data(as_text=True))
    # The code is used up.
    assert _create_token(client, code=authenticator.code()).status_code == 403


# --- REQUIRE_2FA -------------------------------------------------------------------------


@pytest.fixture
def required(app):
    app.config["REQUIRE_2FA"] = True


@pytest.mark.parametrize("url", ["/notes/", "/account/", "/notes/new", "/admin/"])
def test_required_sends_an_account_without_it_to_the_set_up(client, logged_in, required, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/2fa"
    follow = client.get("/account/2fa")
    assert follow.status_code == 200
    assert b"This server requires two-factor login." in follow.data


def test_required_refuses_the_api_to_its_session(client, logged_in, required):
    response = client.get("/api/v1/notes")
    assert response.status_code == 403
    assert "requires two-factor login" in response.get_json()["detail"]


def test_required_still_lets_it_set_up_and_log_out(client, logged_in, required, authenticator):
    assert client.post("/account/2fa/setup").status_code == 302
    authenticator.secret = SECRET_ON_PAGE.search(client.get("/account/2fa").get_data(as_text=True)).group(1)
    assert (
        client.post("/account/2fa/confirm", data={"code": authenticator.code(), "password": PASSWORD}).status_code
        == 201
    )
    assert client.get("/notes/").status_code == 200  # set up: everything is open again
    assert client.post("/auth/logout").status_code == 302


def test_required_lets_an_account_without_it_log_out(client, logged_in, required):
    assert client.post("/auth/logout").headers["Location"] == "/auth/login"
    assert not _logged_in(client)


def test_not_required_leaves_accounts_without_it_alone(client, logged_in):
    assert client.get("/notes/").status_code == 200


# --- the admin list ---------------------------------------------------------------------


def test_the_admin_list_shows_two_factor(client, auth, authenticator):
    boss = Factory().user("boss@example.com")
    boss.is_admin = True
    db.session.commit()
    alice = Factory().user("alice@example.com")
    authenticator.enable(alice)
    auth.login("boss@example.com")
    page = client.get("/admin/users").get_data(as_text=True)
    alice_row = page[page.index(f'id="account-{alice.id}"') :]
    alice_row = alice_row[: alice_row.index("</tr>")]
    boss_row = page[page.index(f'id="account-{boss.id}"') :]
    boss_row = boss_row[: boss_row.index("</tr>")]
    assert "<td>on</td>" in alice_row
    assert "<td>off</td>" in boss_row


# --- the operator's reset ----------------------------------------------------------------


def test_the_operator_can_reset_a_lost_second_factor(app, client, auth, alice_2fa):
    result = app.test_cli_runner().invoke(args=["users", "reset-2fa", "alice@example.com"])
    assert result.exit_code == 0, result.output
    assert "Two-factor login is off for alice@example.com" in result.output
    row = _row(User.query.one())
    assert (row["totp_secret"], row["totp_enabled_at"]) == (None, None)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "two_factor_disabled"))
    assert (event.actor_id, event.detail) == (None, "reset by the operator")
    assert auth.login().headers["Location"] == "/notes/"


def test_resetting_an_account_without_it_changes_nothing(app, user):
    result = app.test_cli_runner().invoke(args=["users", "reset-2fa", "alice@example.com"])
    assert result.exit_code == 0
    assert "does not have two-factor login on; nothing changed." in result.output
    assert "two_factor_disabled" not in _actions()


def test_resetting_an_unknown_account_fails_with_a_message(app):
    result = app.test_cli_runner().invoke(args=["users", "reset-2fa", "nobody@example.com"])
    assert result.exit_code != 0
    assert "No account with the email 'nobody@example.com'" in result.output
