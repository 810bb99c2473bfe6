"""The Swarm tier: deploy/swarm/ on a swarm this tier makes, talked to over HTTPS.

The swarm is made once per session (`docker swarm init`, advertised on
Docker's bridge so that a second node can join: test_two_nodes.py) and
left however the session ends, so the machine is as it was. An engine
already in a swarm is refused, not taken over. Without Docker the tier is
skipped with a message; under CI=true it fails instead, so CI can never
pass by skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers.docker_env import docker_problem
from tests.helpers.stack import Account
from tests.helpers.swarm import FIRST_TAG, SwarmStack, deployed_stack, single_node_swarm


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test here `swarm`; outside CI, run them only when asked for (`make test-swarm`)."""
    here = Path(__file__).parent
    selected = "swarm" in (config.option.markexpr or "")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.swarm)
            if not selected and os.environ.get("CI") != "true":
                item.add_marker(pytest.mark.skip(reason="the Swarm tier runs with `make test-swarm`"))


@pytest.fixture(scope="session")
def swarm() -> Iterator[None]:
    problem = docker_problem()
    if problem:
        message = f"Docker is needed for the Swarm tier ({problem})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI must provide it", pytrace=False)
        pytest.skip(message + "; install Docker Engine, then run `make test-swarm`")
    with single_node_swarm():
        yield


@pytest.fixture(scope="session")
def stack(swarm: None) -> Iterator[SwarmStack]:
    with deployed_stack(FIRST_TAG) as deployed:
        yield deployed


@pytest.fixture(scope="session")
def account(stack: SwarmStack) -> Account:
    """A registered, logged-in account with a write token, shared by the tier."""
    acct = Account(stack, f"swarm-{uuid.uuid4().hex[:8]}@example.com")
    assert acct.register().status_code == 302
    acct.create_token()
    return acct
