"""The state of the stack's own jobs, as gauges read at each scrape.

The web containers cannot see the certificate (it sits beside nginx's private
key) nor run the backups; the services that do (acme, backup) write a JSON
status file into a volume of their own, OPS_STATUS_DIR, which web mounts
read-only. A file that is missing or unreadable gives no series for it, so an
alert on the series' absence tells "never reported" from "reported old".

- ``acme-status.json`` (acme/notes_acme.py): the installed certificate's expiry
  and whether the last check worked, with ACME on or off.
- ``backup-status.json`` (db/backup-loop.sh): when the newest good base
  backup (and full one) finished, and WAL archiving from pg_stat_archiver.
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
BACKUP_STATUS = "backup-status.json"


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
        yield from _backup(_read(self.directory / BACKUP_STATUS))


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _gauge(name: str, documentation: str, value: object) -> Iterator[GaugeMetricFamily]:
    """The gauge, when ``value`` is a number (none is made up for what a file does not say)."""
    number = _number(value)
    if number is not None:
        yield GaugeMetricFamily(name, documentation, value=number)


def _backup(status: dict[str, Any] | None) -> Iterator[GaugeMetricFamily]:
    if status is None:
        return
    yield from _gauge(
        "notes_backup_checked_timestamp_seconds", "When the backup service last looked", status.get("checked_unix")
    )
    yield from _gauge("notes_backup_count", "Good base backups in the pgBackRest repository", status.get("backups"))
    yield from _gauge(
        "notes_backup_last_timestamp_seconds", "When the newest good base backup finished", status.get("last_unix")
    )
    yield from _gauge(
        "notes_backup_last_full_timestamp_seconds",
        "When the newest good full base backup finished",
        status.get("last_full_unix"),
    )
    wal = status.get("wal") if isinstance(status.get("wal"), dict) else {}
    yield from _gauge(
        "notes_backup_wal_last_archived_timestamp_seconds",
        "When PostgreSQL last archived a WAL segment",
        wal.get("last_archived_unix") if wal else None,
    )
    yield from _gauge(
        "notes_backup_wal_archive_failures",
        "Failed WAL archive attempts since the database started (pg_stat_archiver)",
        wal.get("failed_count") if wal else None,
    )


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
