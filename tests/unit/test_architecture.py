"""The boundaries docs/architecture.md draws, where an import contract cannot see them.

``make lint`` checks which module imports which (import-linter) and that
domain code leaves the request alone (ruff's banned-api). These check what
happens when the code actually runs.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICE_MODULES = [
    "app.domain",
    "app.text_rules",
    "app.models",
    "app.accounts.rules",
    "app.accounts.service",
    "app.accounts.passwords",
    "app.accounts.sessions",
    "app.accounts.devices",
    "app.accounts.throttle",
    "app.accounts.tokens",
    "app.accounts.audit",
    "app.accounts.invites",
    "app.accounts.admin",
    "app.accounts.mail",
    "app.accounts.resets",
    "app.notes.rules",
    "app.notes.service",
    "app.notes.tags",
    "app.notes.search",
    "app.notes.markdown",
    "app.notes.serialize",
    "app.notes.transfer",
    "app.notes.history",
    "app.notes.diff",
    "app.limits.service",
    "app.limits.windows",
]
DOMAINS = ("app.accounts.", "app.notes.", "app.health.")
# The ways in: modules that answer requests or commands (and all of app.api's),
# named so or ending so (accounts.admin_views, accounts.admin_api).
WAYS_IN = ("views", "api", "forms", "schemas", "cli")


def test_importing_every_service_module_loads_no_view_and_registers_nothing() -> None:
    program = f"""
import json, sys
import sqlalchemy as sa
for name in {SERVICE_MODULES!r}:
    __import__(name)
from app.notes import search
from app.notes.models import Note
print(json.dumps({{
    "loaded": sorted(m for m in sys.modules if m.startswith("app.")),
    "listeners": [
        # An engine the app did not build gets none of its SQLite pragmas.
        bool(sa.create_engine("sqlite://").connect().exec_driver_sql("PRAGMA foreign_keys").scalar()),
        sa.event.contains(Note.__table__, "after_create", search._create_search_objects),
        sa.event.contains(Note.__table__, "before_drop", search._drop_search_objects),
    ],
}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT / "web",
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    ways_in = [
        m
        for m in report["loaded"]
        if (m.startswith(DOMAINS) and m.rsplit(".", 1)[-1].rsplit("_", 1)[-1] in WAYS_IN) or m.startswith("app.api.")
    ]
    assert ways_in == [], f"importing service modules loaded the ways in: {ways_in}"
    # Listeners are set up by init_app functions, not as a side effect of an import.
    assert report["listeners"] == [False, False, False]


def test_the_benchmark_imports_only_public_names_of_the_app() -> None:
    private = []
    for path in sorted((ROOT / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "app":
                private += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert private == []
