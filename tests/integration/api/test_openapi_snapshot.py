"""The OpenAPI document is byte for byte the stored copy, so any change to it is deliberate.

The copy, openapi.json beside this file, is what ``make openapi`` writes: the
same text the app serves. Its content is the document as it was before the
package was reshaped by domain (docs/architecture.md); only the order of the
paths changed then (the tokens' operations now follow the notes'). When you
change the API on purpose, run ``make openapi`` and review the diff.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from flask.testing import FlaskClient

STORED = Path(__file__).with_name("openapi.json")


def test_the_served_document_is_the_stored_copy(client: FlaskClient) -> None:
    served = client.get("/api/v1/openapi.json").get_data(as_text=True).rstrip("\n")
    stored = STORED.read_text(encoding="utf-8").rstrip("\n")
    if served != stored:
        diff = "\n".join(
            difflib.unified_diff(stored.splitlines(), served.splitlines(), "stored", "served", lineterm="", n=2)
        )
        raise AssertionError(f"the OpenAPI document changed; if on purpose, run `make openapi`:\n{diff}")
