"""The stack tier's black-box checks once more, with Notes under a path: URL_PREFIX=/notes.

A second throwaway stack (the images are the first one's, so it only
starts), on its own ports, torn down like the first. Its ``stack`` and
``account`` stand in for the tier's in this folder only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers.stack import UNTHROTTLED, Account, Stack, running_stack

# Spends this client's login budget for a minute: after every other test here.
LAST = "test_credential_posts_are_rate_limited_with_429"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    mine = [i for i in items if here in Path(str(i.fspath)).parents]
    last = [i for i in mine if i.name == LAST]
    if last and mine[-1] is not last[0]:
        items.remove(last[0])
        items.insert(items.index(mine[-1]) + 1, last[0])


# As the issue names it: the path that is also the notes list's (/notes/notes/).
PREFIX = "/notes"


@pytest.fixture(scope="session")
def stack(compose_available: None) -> Iterator[Stack]:
    with running_stack(URL_PREFIX=PREFIX, **UNTHROTTLED) as stack:
        assert stack.prefix == PREFIX
        yield stack


@pytest.fixture(scope="session")
def account(stack: Stack) -> Account:
    """Its own: a session fixture of the tier's conftest would be the root stack's account."""
    acct = Account(stack, f"prefix-{uuid.uuid4().hex[:8]}@example.com")
    assert acct.register().status_code == 302
    acct.create_token()
    return acct
