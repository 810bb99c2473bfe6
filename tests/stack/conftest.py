"""Tier 4: the real docker compose stack, talked to over HTTPS on loopback.

One stack per test session, under a unique project name, on free ports and
its own frontend subnet, so it never touches a stack started with `make up`.
It is torn down with its volumes (`down -v`) however the session ends.

Without Docker the tier is skipped with a message saying how to enable it;
under CI=true a missing Docker fails instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers.docker_env import docker_problem
from tests.helpers.stack import UNTHROTTLED, Account, Stack, running_stack


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test here `stack`; outside CI, run them only when asked for.

    `make test-stack` selects them with `-m stack`. A bare `pytest` would
    otherwise build images and start containers as a side effect.
    """
    here = Path(__file__).parent
    selected = "stack" in (config.option.markexpr or "")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.stack)
            if not selected and os.environ.get("CI") != "true":
                item.add_marker(pytest.mark.skip(reason="tier 4 (compose stack) runs with `make test-stack`"))


@pytest.fixture(scope="session")
def compose_available() -> None:
    """Skip without Docker and Compose v2, or fail under CI=true, where skipping would hide the tier."""
    problem = docker_problem()
    if problem:
        message = f"Docker with Compose v2 is needed for tier 4 ({problem})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must provide it", pytrace=False)
        pytest.skip(message + "; install Docker Engine and the compose plugin, then run `make test-stack`")


@pytest.fixture(scope="session")
def stack(compose_available: None) -> Iterator[Stack]:
    # Short enough that the stop-during-writes test stays quick. The API rate
    # limits are far above what the load tests send from their one token: they
    # measure the stack with the limiter's cost but must not be throttled by
    # it (tests/integration/api and tests/e2e test the limits themselves).
    with running_stack(GUNICORN_GRACEFUL_TIMEOUT="10", **UNTHROTTLED) as stack:
        yield stack


@pytest.fixture(scope="session")
def account(stack: Stack) -> Account:
    """A registered, logged-in account with a write token, shared by the tier."""
    acct = Account(stack, f"stack-{uuid.uuid4().hex[:8]}@example.com")
    assert acct.register().status_code == 302
    acct.create_token()
    return acct
