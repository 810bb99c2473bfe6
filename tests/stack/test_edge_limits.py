"""nginx's per-client limits at the edge: share links and credential POSTs answered 429.

On a stack of their own: every test client comes from one address, so these
tests spend that address's budgets (a minute to refill), and on the stack the
other modules share, a registration or share link after them would get a 429.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from tests.helpers.stack import UNTHROTTLED, Account, Stack, running_stack

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def stack(compose_available: None) -> Iterator[Stack]:
    with running_stack(**UNTHROTTLED) as own:
        yield own


@pytest.fixture(scope="module")
def account(stack: Stack) -> Account:
    acct = Account(stack, f"limits-{uuid.uuid4().hex[:8]}@example.com")
    assert acct.register().status_code == 302
    acct.create_token()
    return acct


def test_a_share_link_through_nginx_is_private_redacted_and_rate_limited(stack: Stack, account: Account) -> None:
    api = account.api()
    note = api.post(stack.url("/api/v1/notes"), json={"title": "Shared through nginx", "content": "*hi*"}, timeout=10)
    made = api.post(stack.url(f"/api/v1/notes/{note.json()['id']}/shares"), json={}, timeout=10)
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    assert url.startswith(stack.url("/s/shr_")), url
    visitor = stack.session()
    opened = visitor.get(url, timeout=10)
    assert opened.status_code == 200 and "<em>hi</em>" in opened.text
    assert opened.headers["Cache-Control"] == "no-store"
    assert opened.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert opened.headers["Referrer-Policy"] == "no-referrer"  # the app's, not nginx's default as well
    assert "Set-Cookie" not in opened.headers
    secret = url.rsplit("/", 1)[1]
    statuses = []
    for _ in range(60):
        statuses.append(visitor.get(stack.url("/s/shr_guess" + "x" * 20), timeout=10).status_code)
        if statuses[-1] == 429:
            break
    assert statuses[0] == 404 and statuses[-1] == 429, statuses
    assert set(statuses) == {404, 429}, statuses
    logs = stack.logs("nginx") + stack.logs("web")
    assert "/s/shr_[redacted]" in logs
    assert secret not in logs


def test_credential_posts_are_rate_limited_with_429(stack: Stack, account: Account) -> None:
    statuses = []
    s = stack.session()
    for _ in range(30):
        response = s.post(stack.url("/auth/login"), data={"email": "x@example.com", "password": "nope"}, timeout=10)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Content-Type"].startswith("application/problem+json")
            break
    assert 429 in statuses, statuses
    assert statuses[0] != 429
    # GETs of the form are never limited, and other pages are unaffected.
    assert s.get(stack.url("/auth/login"), timeout=10).status_code == 200
    assert account.api().get(stack.url("/api/v1/notes"), timeout=10).status_code == 200
