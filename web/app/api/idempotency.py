"""``@idempotent`` for the API's creating POSTs: app/http/idempotency.py keyed by the API caller."""

from __future__ import annotations

from ..http.idempotency import IDEMPOTENCY_KEY, IDEMPOTENCY_LOST, deferred, idempotent_for
from .auth import api_owner

idempotent = idempotent_for(lambda: api_owner().id)

__all__ = ["IDEMPOTENCY_KEY", "IDEMPOTENCY_LOST", "deferred", "idempotent"]
