"""Secrets that travel in URLs never reach a log line."""

from __future__ import annotations

import pytest

from app.accounts.invites import INVITE_PREFIX
from app.accounts.tokens import TOKEN_PREFIX
from app.http.requestlog import redact_secrets
from app.notes.sharing import SHARE_PREFIX


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        ("GET /auth/register?invite=inv_AbC-12_xyz HTTP/1.1", "GET /auth/register?invite=inv_[redacted] HTTP/1.1"),
        ("/auth/reset/rst_Zz9-_q?next=/notes/", "/auth/reset/rst_[redacted]?next=/notes/"),
        ("/api/v1/notes?token=nt_abc&q=x", "/api/v1/notes?token=nt_[redacted]&q=x"),
        ("/a?x=inv_1&y=rst_2", "/a?x=inv_[redacted]&y=rst_[redacted]"),
        ("GET /s/shr_Ab-9_z HTTP/2.0", "GET /s/shr_[redacted] HTTP/2.0"),
        # Words that merely contain the letters are left alone.
        ("/notes/?q=first_name+client_id+invite", "/notes/?q=first_name+client_id+invite"),
    ],
)
def test_secrets_are_redacted(line: str, logged: str) -> None:
    assert redact_secrets(line) == logged


def test_every_secret_the_app_hands_out_is_covered() -> None:
    from app.accounts.resets import RESET_PREFIX

    for prefix in (INVITE_PREFIX, TOKEN_PREFIX, RESET_PREFIX, SHARE_PREFIX):
        assert redact_secrets(f"/x?s={prefix}Secret123") == f"/x?s={prefix}[redacted]"
