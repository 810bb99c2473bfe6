"""Without OIDC_ISSUER there is no single sign-on: no button, no routes that answer."""

from __future__ import annotations


def test_no_button_and_no_flow_without_an_issuer(client):
    assert "sso-login" not in client.get("/auth/login").get_data(as_text=True)
    assert client.get("/auth/oidc/login").status_code == 404
    assert client.get("/auth/oidc/callback?code=x&state=y").status_code == 404


def test_the_account_page_has_no_sso_section_without_an_issuer(client, logged_in):
    assert "Single sign-on" not in client.get("/account/").get_data(as_text=True)


def test_forms_lead_nowhere_else_without_an_issuer(client):
    assert "form-action 'self';" in client.get("/auth/login").headers["Content-Security-Policy"]
