"""``@idempotent`` for the API's creating POSTs: app/http/idempotency.py keyed by the API caller."""

from __future__ import annotations

from collections.abc import Callable

from ..http.idempotency import IDEMPOTENCY_KEY, IDEMPOTENCY_LOST, deferred, idempotent_for
from .auth import api_owner

idempotent = idempotent_for(lambda: api_owner().id)


def idempotent_after(guard: Callable[[], None]):  # type: ignore[no-untyped-def]
    """``idempotent``, with ``guard`` run before a stored answer may be given again."""
    return idempotent_for(lambda: api_owner().id, guard)


__all__ = ["IDEMPOTENCY_KEY", "IDEMPOTENCY_LOST", "deferred", "idempotent", "idempotent_after"]
