"""The ID token checks the callback asks of Authlib, on claims the test writes:
issuer, audience, subject, expiry and nonce. (The signature is checked
against a real provider in tests/integration/accounts/test_sso.py.)"""

from __future__ import annotations

import time

import pytest
from authlib.oidc.core import CodeIDToken
from joserfc.errors import ExpiredTokenError, InvalidClaimError, MissingClaimError
from tests.helpers.app import make_app

from app.accounts.rules import AccountError
from app.accounts.sso import Identity
from app.accounts.sso_views import LEEWAY, _claims_options

ISSUER = "https://sso.example.com/realms/main"
CLIENT_ID = "notes"
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture(scope="module")
def sso_app():  # type: ignore[no-untyped-def]
    return make_app(OIDC_ISSUER=ISSUER, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET="s" * 32)


def claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    good: dict[str, object] = {
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
    }
    good.update(changes)
    return {key: value for key, value in good.items() if value is not None}


def check(sso_app, token_claims: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    with sso_app.test_request_context():
        options = _claims_options()
    CodeIDToken(token_claims, {"alg": "RS256"}, options, {"nonce": NONCE, "client_id": CLIENT_ID}).validate(
        leeway=LEEWAY
    )


def test_good_claims_pass(sso_app):
    check(sso_app, claims())
    check(sso_app, claims(aud=[CLIENT_ID, "another-client"], azp=CLIENT_ID))


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"iss": "https://evil.example.com"}, InvalidClaimError),
        ({"iss": ISSUER + "/"}, InvalidClaimError),
        ({"aud": "another-client"}, InvalidClaimError),
        ({"aud": ["another-client"]}, InvalidClaimError),
        ({"nonce": "another-nonce"}, InvalidClaimError),
        ({"nonce": None}, MissingClaimError),
        ({"sub": None}, MissingClaimError),
        ({"exp": int(time.time()) - LEEWAY - 5}, ExpiredTokenError),
    ],
    ids=["issuer", "issuer-slash", "audience", "audience-list", "nonce", "no-nonce", "no-subject", "expired"],
)
def test_each_bad_claim_is_refused(sso_app, changes, error):
    with pytest.raises(error):
        check(sso_app, claims(**changes))


def test_the_identity_is_the_issuer_and_subject():
    identity = Identity.from_claims(
        {"iss": ISSUER, "sub": "abc", "email": " Carol@Example.com ", "email_verified": True}
    )
    assert identity == Identity(ISSUER, "abc", "Carol@Example.com", True)
    assert Identity.from_claims({"iss": ISSUER, "sub": "abc"}).email == ""


@pytest.mark.parametrize("bad", [{"sub": ""}, {"sub": 7}, {"sub": "x" * 256}, {"iss": ""}])
def test_an_unusable_subject_or_issuer_is_refused(bad):
    with pytest.raises(AccountError):
        Identity.from_claims({"iss": ISSUER, "sub": "abc", **bad})
