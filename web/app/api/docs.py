"""OpenAPI helpers: error responses as the app sends them, and links between operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..http.problem import PROBLEM_JSON, ProblemSchema
from .blueprint import bp


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
