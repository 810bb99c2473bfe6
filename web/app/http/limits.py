"""Per-endpoint request body limits, raised before anything reads the body.

MAX_CONTENT_LENGTH bounds every request. A view that takes more (an
import) says so with ``@body_limit``; the new limit must be in place before
the first read of the body, and CSRF protection reads the form in a
``before_request`` hook, before the view runs. URL value preprocessors run
before those hooks, so that is where the limit is applied: only for a
caller that can be allowed in, so that an anonymous visitor cannot make a
worker parse the larger body. That is a logged-in session, or, for a view
that takes bearer tokens (``bearer=True``: the API, which checks the token
before anything reads the body), a request that sends one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_login import current_user

F = TypeVar("F", bound=Callable[..., Any])


def body_limit(max_bytes: Callable[[], int], *, bearer: bool = False) -> Callable[[F], F]:
    """Let the decorated view take request bodies of up to ``max_bytes()`` bytes (read at each request)."""

    def mark(view: F) -> F:
        view.max_body_bytes = max_bytes  # type: ignore[attr-defined]
        view.max_body_bearer = bearer  # type: ignore[attr-defined]
        return view

    return mark


def _apply(endpoint: str | None, values: dict[str, Any] | None) -> None:
    view = current_app.view_functions.get(endpoint or "")
    limit = getattr(view, "max_body_bytes", None)
    if limit is None:
        return
    bearer = getattr(view, "max_body_bearer", False) and "Authorization" in request.headers
    if bearer or current_user.is_authenticated:
        request.max_content_length = limit()


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(_apply)
