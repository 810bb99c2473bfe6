"""The state of the stack's own jobs, as gauges read at each scrape.

The web containers cannot see the certificate (it sits beside nginx's private
key) nor run the backups; the services that do (acme, backup) write a JSON
status file into a volume of their own, OPS_STATUS_DIR, which web mounts
read-only. A file that is missing or unreadable gives no series for it, so an
alert on the series' absence tells "never reported" from "reported old".

- ``acme-status.json`` (acme/notes_acme.py): the installed certificate's expiry
  and whether the last check worked, with ACME on or off.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CERTIFICATE_STATUS = "acme-status.json"


def _read(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _epoch(value: object) -> float | None:
    """An ISO 8601 time (as the status files write them) in seconds since the epoch, or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class StatusFiles(Collector):
    """Gauges from the status files in ``directory``, read when Prometheus scrapes."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from _certificate(_read(self.directory / CERTIFICATE_STATUS))


def _certificate(status: dict[str, Any] | None) -> Iterator[GaugeMetricFamily]:
    if status is None:
        return
    certificate = status.get("certificate") if isinstance(status.get("certificate"), dict) else {}
    expiry = certificate.get("not_after_unix") if certificate else None
    if isinstance(expiry, (int, float)) and not isinstance(expiry, bool):
        yield GaugeMetricFamily(
            "notes_certificate_expiry_timestamp_seconds",
            "When the certificate nginx serves expires (Unix time)",
            value=float(expiry),
        )
    yield GaugeMetricFamily(
        "notes_certificate_check_ok",
        "1 when the last certificate check worked (or ACME is off), 0 when it failed",
        value=0.0 if status.get("state") == "error" else 1.0,
    )
    checked = _epoch(status.get("checked_at"))
    if checked is not None:
        yield GaugeMetricFamily(
            "notes_certificate_checked_timestamp_seconds", "When the certificate was last checked", value=checked
        )
