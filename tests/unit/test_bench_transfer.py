"""bench/run.py's export and import measurement: what each run records, and its table."""

from __future__ import annotations

from typing import Any

from bench.run import render_transfer, transfers

USERS = {"small": {"token": "s", "notes": 1000}, "large": {"token": "l", "notes": 100_000}, "importer": {"token": "i"}}


def _result(seconds: float, growth: float) -> dict[str, Any]:
    return {"status": 200, "seconds": seconds, "bytes": 2 * 1048576, "idle_mib": 90.0, "peak_mib": 90.0 + growth,
            "growth_mib": growth}  # fmt: skip


def test_the_exports_then_the_import_of_the_large_export_into_the_empty_user() -> None:
    calls = []

    def run(action: str, token: str, archive: str) -> dict[str, Any]:
        calls.append((action, token, archive))
        if action == "import":
            raise RuntimeError("413")
        return _result(1.0 if token == "s" else 50.0, 10.0)

    out = transfers(run, USERS, "archives")
    assert calls == [
        ("export", "s", "archives/small.zip"),
        ("export", "l", "archives/large.zip"),
        ("import", "i", "archives/large.zip"),
    ]
    assert out["export_small"]["ms_per_1k_notes"] == 1000.0 and out["export_large"]["ms_per_1k_notes"] == 500.0
    assert out["import_large"] == {"error": "413"}  # the others' figures are kept


def test_the_table_reads_the_targets_per_note_and_above_idle() -> None:
    runs = {
        "export_small": {**_result(1.0, 12.0), "notes": 1000, "ms_per_1k_notes": 1000.0},
        "export_large": {**_result(140.0, 76.3), "notes": 100_000, "ms_per_1k_notes": 1400.0},
        "import_large": {**_result(35.0, 247.7), "notes": 100_000, "ms_per_1k_notes": 350.0},
    }
    text = "\n".join(render_transfer({"postgres": runs, "sqlite": {"error": "gunicorn did not start"}}))
    assert "| Postgres | import_large | 100,000 | 35.0 | 350.0 | 2.0 | 90.0 | 337.7 | 247.7 (over) |" in text
    assert "| Postgres | export_large | 100,000 | 140.0 | 1400.0 | 2.0 | 90.0 | 166.3 | 76.3 |" in text
    assert "Postgres: the 100k export takes 1.40x the 1k one's time per note (not met)" in text
    assert "| SQLite | failed: gunicorn did not start |" in text
    assert render_transfer({}) == []
