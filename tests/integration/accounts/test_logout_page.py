"""Logging out: only by POST, and it really ends the session."""

from __future__ import annotations


def test_get_is_not_allowed_and_keeps_the_session(client, logged_in):
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    # A link or an <img src> pointing here cannot log anyone out.
    assert client.get("/notes/").status_code == 200


def test_post_logs_out_and_notes_need_a_login_again(client, auth, logged_in):
    response = auth.logout()
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    with client.session_transaction() as session:
        assert "_user_id" not in session
    notes = client.get("/notes/")
    assert notes.status_code == 302
    assert notes.headers["Location"].startswith("/auth/login")


def test_logout_shows_a_confirmation(client, auth, logged_in):
    page = client.get(auth.logout().headers["Location"])
    assert b"You have been logged out." in page.data


def test_logout_ends_a_remember_me_login_too(client, auth, user):
    """Regression: the session was cleared after logout_user(), dropping its
    request to delete the remember cookie, so the next request logged the
    user straight back in from that cookie."""
    auth.login(remember="y")
    response = auth.logout()
    cleared = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    assert len(cleared) == 1
    assert cleared[0].startswith("remember_token=;") and "Max-Age=0" in cleared[0]
    assert client.get_cookie("remember_token") is None
    assert client.get("/notes/").status_code == 302


def test_logout_when_not_logged_in_goes_to_login(client):
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
