"""API rate limits per token and per user, and the RateLimit headers that tell a client where it stands.

``authenticate`` (app/api/auth.py) calls ``count_api_call`` once the caller is
known: a Bearer call counts against its token's quota and its owner's, a
browser-session call against the owner's only (so a user's tokens and
sessions share one quota between them, and no token can raise it).
Over either quota the call is refused with a 429 before any of its work is
done (app/limits/windows.py counts; app/http/errors.py answers).

Every counted answer, the 429 included, carries the two fields of
draft-ietf-httpapi-ratelimit-headers (-11, structured-field lists)::

    RateLimit-Policy: "token";q=600;w=60, "user";q=1200;w=60
    RateLimit: "token";r=42;t=17, "user";r=1007;t=17

``q`` is the quota per window of ``w`` seconds, ``r`` what is left of it and
``t`` the seconds until it is renewed; a 429's Retry-After is that ``t``.

Counting is a write, and a database can refuse writes while it still
serves reads (its disk is full, it is read-only for maintenance). Then the
call goes on uncounted, without the headers, and a warning is logged: the
limits must not turn every read into an error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from flask import Response, current_app, g

from .. import metrics
from ..db import errors as database_errors
from ..domain import RateLimited
from ..limits.windows import Quota, Usage, count_call, refuse_if_exceeded
from .blueprint import bp

log = logging.getLogger("notes.ratelimit")

# What the OpenAPI document says of the headers (app/api/docs.py).
RATE_LIMIT_POLICY_DOC = (
    "The quotas this call counts against, as draft-ietf-httpapi-ratelimit-headers has it: "
    '`"token";q=600;w=60, "user";q=1200;w=60` (q calls per w seconds; the token\'s only for Bearer calls).'
)
RATE_LIMIT_DOC = (
    'Where each quota stands after this call: `"token";r=42;t=17, "user";r=1007;t=17` '
    "(r calls left, renewed in t seconds)."
)


def count_api_call(*, token_id: int | None, user_id: int) -> None:
    """Count this call against the token's quota (for a Bearer call) and the user's.

    Raises RateLimited when either is used up; the call is counted all the
    same, and the headers are sent with the 429. A database that takes no
    writes now lets the call through uncounted (see above); any other
    database error is raised.
    """
    config = current_app.config
    quotas = []
    if token_id is not None:
        quotas.append(Quota("token", f"api:token:{token_id}", int(config["API_RATE_LIMIT_PER_TOKEN"]), "this token"))
    quotas.append(
        Quota(
            "user",
            f"api:user:{user_id}",
            int(config["API_RATE_LIMIT_PER_USER"]),
            "this account",
            shared="all its tokens and browser sessions together",
        )
    )
    try:
        usages = count_call(quotas, window=int(config["API_RATE_LIMIT_WINDOW_SECONDS"]))
    except sa.exc.DBAPIError as error:
        if not database_errors.refuses_writes(error):
            raise
        log.warning("API call not counted against its rate limits, the database takes no writes: %s", error.orig)
        return
    g.api_rate_usages = usages
    try:
        refuse_if_exceeded(usages)
    except RateLimited:
        metrics.count_throttled("api")
        raise


@bp.after_request
def add_rate_limit_headers(response: Response) -> Response:
    usages: Sequence[Usage] | None = g.get("api_rate_usages")
    if usages:
        response.headers["RateLimit-Policy"] = policy_field(usages)
        response.headers["RateLimit"] = limit_field(usages)
    return response


def policy_field(usages: Sequence[Usage]) -> str:
    """The RateLimit-Policy field value for ``usages``."""
    return ", ".join(f'"{u.quota.name}";q={u.quota.limit};w={u.window}' for u in usages)


def limit_field(usages: Sequence[Usage]) -> str:
    """The RateLimit field value for ``usages``."""
    return ", ".join(f'"{u.quota.name}";r={u.remaining};t={u.resets_in}' for u in usages)
