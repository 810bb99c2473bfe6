"""With TRUSTED_HOSTS set (production sets it from SERVER_NAME), requests for
any other host are refused before a view runs: no password-reset-style link
or redirect can ever be built with an attacker's host name."""

import pytest
from tests.helpers.app import make_app


@pytest.fixture
def strict_client():
    return make_app(TRUSTED_HOSTS=["notes.example.com"]).test_client()


def test_the_configured_host_is_served(strict_client):
    response = strict_client.get("/healthz", headers={"Host": "notes.example.com"})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "notes.example.com.evil.example", "localhost"])
def test_any_other_host_is_refused(strict_client, host):
    response = strict_client.get("/auth/login", headers={"Host": host})
    assert response.status_code == 400
    assert b"Traceback" not in response.data


def test_redirects_use_only_the_trusted_host(strict_client):
    response = strict_client.get("/notes/", headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert response.status_code == 400
    assert "evil.example" not in response.headers.get("Location", "")
