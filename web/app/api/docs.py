"""OpenAPI helpers: error responses as the app sends them, and links between operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flask
from apispec import APISpec
from flask import Response, render_template, request, url_for
from flask_smorest.utils import prepare_response

from ..extensions import api
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


# flask-smorest's views of the document and its page serve the spec and the
# script URL of the app built last, whatever path the request came under.
# These answer for the request's own mount point (app/http/prefix.py).


def openapi_json() -> Response:
    """The OpenAPI document. Under a URL prefix its ``servers`` entry names the
    prefix: the paths (``/api/v1/...``) are the app's, and a client joins them
    to ``servers[0].url``, the document's own origin without it."""
    document = api.spec.to_dict()
    if request.script_root:
        servers = [{"url": request.script_root, "description": "This server, where Notes is served under a path"}]
        document = {key: value for key, value in document.items() if key in ("openapi", "info")} | {
            "servers": servers,
            **{key: value for key, value in document.items() if key not in ("openapi", "info")},
        }
    return flask.current_app.response_class(
        flask.json.dumps(document, indent=2, sort_keys=False), mimetype="application/json"
    )


def openapi_redoc() -> str:
    """The API docs page (ReDoc), its script and document URLs under the request's mount point."""
    return render_template(
        "redoc.html",
        spec_url=url_for("api-docs.openapi_json"),
        title=api.spec.title,
        redoc_url=url_for("static", filename="vendor/redoc/redoc.standalone.js"),
    )
