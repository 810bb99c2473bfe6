"""The stack tier's black-box checks once more, with Notes under a path: URL_PREFIX=/notes.

A second throwaway stack (the images are the first one's, so it only
starts), on its own ports, torn down like the first. Its ``stack`` and
``account`` stand in for the tier's in this folder only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from tests.helpers.stack import UNTHROTTLED, Account, Stack, running_stack

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
