"""Secrets that travel in URLs never reach a log line."""

from __future__ import annotations

import pytest

from app.accounts.invites import INVITE_PREFIX
from app.accounts.tokens import TOKEN_PREFIX
from app.http.requestlog import redact_secrets


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        ("GET /auth/register?invite=inv_AbC-12_xyz HTTP/1.1", "GET /auth/register?invite=inv_[redacted] HTTP/1.1"),
        ("/auth/reset/rst_Zz9-_q?next=/notes/", "/auth/reset/rst_[redacted]?next=/notes/"),
        ("/api/v1/notes?token=nt_abc&q=x", "/api/v1/notes?token=nt_[redacted]&q=x"),
        ("/a?x=inv_1&y=rst_2", "/a?x=inv_[redacted]&y=rst_[redacted]"),
        # Words that merely contain the letters are left alone.
        ("/notes/?q=first_name+client_id+invite", "/notes/?q=first_name+client_id+invite"),
    ],
)
def test_secrets_are_redacted(line: str, logged: str) -> None:
    assert redact_secrets(line) == logged


def test_every_secret_the_accounts_hand_out_is_covered() -> None:
    prefixes = [INVITE_PREFIX, TOKEN_PREFIX]
    try:  # the password reset links, once that module exists
        from app.accounts.resets import RESET_PREFIX  # type: ignore[import-not-found,unused-ignore]

        prefixes.append(RESET_PREFIX)
    except ImportError:
        pass
    for prefix in prefixes:
        assert redact_secrets(f"/x?s={prefix}Secret123") == f"/x?s={prefix}[redacted]"
