"""OpenAPI helpers: error responses as the app sends them, and links between operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..problem import PROBLEM_JSON, ProblemSchema
from . import bp

NOTE_ITEM = "/api/v1/notes/{note_id}"
TOKEN_ITEM = "/api/v1/tokens/{token_id}"  # noqa: S105 - a path, not a secret


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


NOTE_LINKS = id_links(
    "note_id",
    {
        "GetNote": (NOTE_ITEM, "get"),
        "UpdateNote": (NOTE_ITEM, "patch"),
        "TrashNote": (NOTE_ITEM, "delete"),
        "RestoreNote": ("/api/v1/notes/{note_id}/restore", "post"),
        "DeleteNoteForever": ("/api/v1/trash/{note_id}", "delete"),
    },
    etag=True,
)
TOKEN_LINKS = id_links("token_id", {"GetToken": (TOKEN_ITEM, "get"), "RevokeToken": (TOKEN_ITEM, "delete")})
