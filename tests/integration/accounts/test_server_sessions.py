"""Logins are server-side sessions: logging out, changing the password and
timeouts end them for real, even for a copied cookie."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from tests.helpers.data import PASSWORD

from app.models import LoginSession, User, db, utcnow


def _copy_cookies(source, target) -> None:
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def _sessions(user: User) -> list[LoginSession]:
    return list(db.session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user.id)))


def test_a_copied_cookie_stops_working_after_logout(app, client, auth, user):
    auth.login()
    thief = app.test_client()
    _copy_cookies(client, thief)
    assert thief.get("/notes/").status_code == 200
    auth.logout()
    assert thief.get("/notes/").status_code == 302
    assert _sessions(user) == []


def test_a_copied_remember_me_cookie_stops_working_after_logout(app, client, auth, user):
    auth.login(remember="y")
    thief = app.test_client()
    remember = client.get_cookie("remember_token")
    assert remember is not None
    thief.set_cookie("remember_token", remember.value)
    assert thief.get("/notes/").status_code == 200  # the remember cookie alone logs in
    auth.logout()
    thief.delete_cookie("session")
    assert thief.get("/notes/").status_code == 302


def test_changing_the_password_ends_every_other_session(app, client, auth, user):
    auth.login()
    laptop = app.test_client()
    laptop.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert laptop.get("/notes/").status_code == 200
    assert len(_sessions(user)) == 2

    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a new long passphrase",
            "confirm": "a new long passphrase",
        },
    )
    assert response.status_code == 302

    assert client.get("/notes/").status_code == 200  # this one stays
    assert laptop.get("/notes/").status_code == 302
    assert len(_sessions(user)) == 1


def test_a_failed_password_change_ends_nothing(app, client, auth, user):
    auth.login()
    laptop = app.test_client()
    laptop.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    client.post(
        "/account/password", data={"current_password": "wrong one!", "new_password": "x" * 20, "confirm": "x" * 20}
    )
    assert laptop.get("/notes/").status_code == 200
    assert len(_sessions(user)) == 2


def test_an_idle_session_times_out_and_is_deleted(app, client, auth, user):
    auth.login()
    (row,) = _sessions(user)
    row.last_seen_at -= app.config["SESSION_IDLE_TIMEOUT"] + timedelta(seconds=1)
    db.session.commit()
    assert client.get("/notes/").status_code == 302
    assert _sessions(user) == []


def test_a_session_in_use_does_not_idle_out(app, client, auth, user):
    auth.login()
    (row,) = _sessions(user)
    row.last_seen_at -= app.config["SESSION_IDLE_TIMEOUT"] - timedelta(minutes=5)
    db.session.commit()
    assert client.get("/notes/").status_code == 200
    db.session.refresh(row)
    # Seen again just now, so the idle clock starts over.
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_remember_me_sessions_may_idle_longer(app, client, auth, user):
    auth.login(remember="y")
    (row,) = _sessions(user)
    assert row.remember is True
    row.last_seen_at -= app.config["SESSION_IDLE_TIMEOUT"] + timedelta(hours=1)
    db.session.commit()
    assert client.get("/notes/").status_code == 200


def test_every_session_ends_at_the_absolute_timeout(app, client, auth, user):
    auth.login(remember="y")
    (row,) = _sessions(user)
    row.created_at -= app.config["SESSION_ABSOLUTE_TIMEOUT"] + timedelta(seconds=1)
    db.session.commit()
    assert client.get("/notes/").status_code == 302


def test_timeouts_are_configurable(client, auth, user, app):
    app.config["SESSION_IDLE_TIMEOUT"] = timedelta(seconds=0)
    auth.login()
    (row,) = _sessions(user)
    row.last_seen_at -= timedelta(seconds=1)
    db.session.commit()
    assert client.get("/notes/").status_code == 302


def test_the_database_holds_only_a_hash_of_the_session_id(client, auth, user):
    auth.login()
    with client.session_transaction() as session:
        sid = session["_user_id"]
    (row,) = _sessions(user)
    assert sid not in row.token_hash
    assert len(row.token_hash) == 64


def test_without_remember_me_the_cookie_ends_with_the_browser(client, auth, user):
    response = auth.login()
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Expires=" not in cookie


def test_with_remember_me_the_cookie_persists(client, auth, user):
    response = auth.login(remember="y")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Expires=" in cookie


def test_deleting_the_account_deletes_its_sessions(client, auth, user):
    auth.login()
    user_id = user.id
    client.post("/account/delete", data={"password": PASSWORD})
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession).where(LoginSession.user_id == user_id))
        == 0
    )


def test_a_forged_session_id_logs_nobody_in(app, user):
    stranger = app.test_client()
    with stranger.session_transaction() as session:
        session["_user_id"] = str(user.id)  # the old scheme: a user id
        session["_fresh"] = True
    assert stranger.get("/notes/").status_code == 302


def test_a_login_records_the_browser_and_its_address(app, user):
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    browser = app.test_client()
    browser.post(
        "/auth/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"HTTP_USER_AGENT": firefox, "REMOTE_ADDR": "198.51.100.23"},
    )
    (row,) = _sessions(user)
    assert (row.user_agent, row.ip) == (firefox, "198.51.100.23")
