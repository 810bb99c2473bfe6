"""Logging a test client in and out through the real forms, Bearer headers and CSRF tokens."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from .data import PASSWORD


class AuthActions:
    """Log a test client in and out through the real forms."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def register(self, email: str = "alice@example.com", password: str = PASSWORD):  # type: ignore[no-untyped-def]
        return self._client.post("/auth/register", data={"email": email, "password": password, "confirm": password})

    def login(self, email: str = "alice@example.com", password: str = PASSWORD, **extra: Any):  # type: ignore[no-untyped-def]
        return self._client.post("/auth/login", data={"email": email, "password": password, **extra})

    def logout(self):  # type: ignore[no-untyped-def]
        return self._client.post("/auth/logout")


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def csrf_token_from(client: FlaskClient, url: str) -> str:
    """The CSRF token the page at ``url`` carries in its meta tag."""
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match, f"{url} carries no csrf-token meta tag"
    return match.group(1)
