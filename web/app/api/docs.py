"""OpenAPI helpers: error responses as the app sends them, and links between operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apispec import APISpec
from flask_smorest.utils import prepare_response

from ..http.problem import PROBLEM_JSON, ProblemSchema
from .blueprint import RATE_LIMIT_HEADERS, bp
from .ratelimit import RATE_LIMIT_DOC, RATE_LIMIT_POLICY_DOC


def problem_response(status: int, description: str) -> Callable[[Any], Any]:
    """Document that the operation answers ``status`` with a problem+json body."""
    return bp.alt_response(status, schema=ProblemSchema, content_type=PROBLEM_JSON, description=description)


def id_links(param: str, targets: dict[str, tuple[str, str]], *, etag: bool = False) -> dict[str, Any]:
    """OpenAPI links saying the ``id`` in this response body is ``param`` of each target.

    ``targets`` maps a link name to (path, method). With ``etag``, the
    response's ETag also becomes the If-Match of the unsafe targets. Clients,
    and stateful testers such as schemathesis, follow them from a created
    resource to the operations on it.
    """
    links: dict[str, Any] = {}
    for name, (path, method) in targets.items():
        parameters = {param: "$response.body#/id"}
        if etag and method != "get":
            parameters["header.If-Match"] = "$response.header.ETag"
        links[name] = {
            "operationRef": "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method,
            "parameters": parameters,
        }
    return links


def register_rate_limit_docs(spec: APISpec) -> None:
    """The components every rate-limited operation refers to (``blueprint.Blueprint._prepare_rate_limit_doc``)."""
    spec.components.header(
        "RATE_LIMIT_POLICY", {"schema": {"type": "string"}, "required": True, "description": RATE_LIMIT_POLICY_DOC}
    )
    spec.components.header(
        "RATE_LIMIT", {"schema": {"type": "string"}, "required": True, "description": RATE_LIMIT_DOC}
    )
    spec.components.header(
        "RETRY_AFTER",
        {
            "schema": {"type": "integer", "minimum": 1},
            "required": True,
            "description": "Seconds to wait before trying again.",
        },
    )
    refused: dict[str, Any] = {
        "description": "Too many API calls: this token's or this account's quota for the window is used up",
        "schema": ProblemSchema,
        "headers": {"Retry-After": "RETRY_AFTER", **RATE_LIMIT_HEADERS},
    }
    prepare_response(refused, spec, PROBLEM_JSON)
    spec.components.response("RATE_LIMITED", refused)
