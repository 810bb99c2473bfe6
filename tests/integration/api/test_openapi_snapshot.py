"""The OpenAPI document is what the stored copy says, so any change to it is deliberate.

The copy, openapi.json beside this file, was taken before the package was
reshaped by domain (docs/architecture.md) and must stay equal through such
refactors. When you change the API on purpose, regenerate it and review the
diff in the commit: ``make openapi``.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

from flask.testing import FlaskClient

STORED = Path(__file__).with_name("openapi.json")


def _lines(document: object) -> list[str]:
    return json.dumps(document, indent=2, sort_keys=True).splitlines()


def test_the_served_document_equals_the_stored_copy(client: FlaskClient) -> None:
    served = client.get("/api/v1/openapi.json").get_json()
    stored = json.loads(STORED.read_text(encoding="utf-8"))
    if served != stored:
        diff = "\n".join(difflib.unified_diff(_lines(stored), _lines(served), "stored", "served", lineterm="", n=2))
        raise AssertionError(f"the OpenAPI document changed; if on purpose, run `make openapi`:\n{diff}")
