#!/usr/bin/env python3
"""Read pgBackRest's `info --output=json` for the Makefile's backup targets.

    backup_info.py target TIME --info info.json
        Checks a point-in-time restore target against the repository and
        prints it as pgBackRest's --target wants it, or `latest`. Exits 2,
        with a message saying why and what to do, on a time that is not one,
        lies in the future, or comes before the end of the oldest backup.

    backup_info.py status --info info.json [--archiver archiver.json] [--prom FILE]
        Prints when the last good backup and the last archived WAL segment
        were; writes the same as Prometheus text (node_exporter's textfile
        collector format) to FILE, atomically. Exits 1 when there is no good
        backup, the newest is older than --max-age-hours (48), or WAL
        archiving is failing.

Standard library only: it runs on the host, beside `make`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# A date, then optionally a time (minutes at least), fractions and a zone:
# 2026-11-30 14:05, 2026-11-30T14:05:09.5Z, 2026-11-30 14:05:09+01:00.
_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?))?",
    re.IGNORECASE,
)
EXAMPLE = "TIME=latest or a time like TIME='2026-11-30 14:05:00' (UTC unless it ends in an offset such as +01:00)"


class TargetError(ValueError):
    """A restore target that cannot be used; the message says why."""


def parse_time(text: str) -> datetime:
    """An aware UTC datetime from the accepted forms, naive meaning UTC."""
    raw = text.strip()
    if not _TIME.fullmatch(raw):
        raise TargetError(f"TIME={text!r} is not a time: use {EXAMPLE}")
    normal = re.sub(r"\s*(?:Z|UTC)$", "+00:00", raw, flags=re.IGNORECASE).replace(" +", "+").replace(" -", "-")
    if re.search(r"[+-]\d{2}$", normal):
        normal += ":00"
    try:
        moment = datetime.fromisoformat(normal)
    except ValueError as exc:
        raise TargetError(f"TIME={text!r} is not a valid time ({exc}): use {EXAMPLE}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def show(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def stanza_of(info: Any) -> dict[str, Any]:
    if not isinstance(info, list) or not info or not isinstance(info[0], dict):
        raise TargetError("pgbackrest info gave no stanza: is the backup service set up? (make backup-status)")
    return info[0]


def good_backups(stanza: dict[str, Any]) -> list[dict[str, Any]]:
    """Complete backups without page checksum errors, oldest first."""
    backups = [b for b in stanza.get("backup") or [] if not b.get("error")]
    return sorted(backups, key=lambda b: b["timestamp"]["stop"])


def restore_target(text: str, info: Any, now: float | None = None) -> str:
    """`latest`, or TIME as `YYYY-MM-DD HH:MM:SS.ffffff+00`, checked against the repository."""
    stanza = stanza_of(info)
    backups = good_backups(stanza)
    if not backups:
        raise TargetError(
            "the repository holds no backup to restore from yet "
            f"({stanza.get('status', {}).get('message', 'no status')}): the backup service takes the first one "
            "when it starts; see make backup-status"
        )
    if text.strip().lower() == "latest":
        return "latest"
    moment = parse_time(text)
    current = time.time() if now is None else now
    if moment.timestamp() > current:
        raise TargetError(
            f"TIME={text!r} ({moment:%Y-%m-%d %H:%M:%S} UTC) is in the future; the latest you can restore to is "
            "now: TIME=latest"
        )
    first = backups[0]
    earliest = first["timestamp"]["stop"]
    if moment.timestamp() <= earliest:
        raise TargetError(
            f"TIME={text!r} ({moment:%Y-%m-%d %H:%M:%S} UTC) is before the oldest backup in the repository could "
            f"restore: the earliest time is just after {show(earliest)} (the end of backup {first['label']}); "
            "older states were removed by the retention policy, or never backed up"
        )
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f+00")


# --- status -------------------------------------------------------------------


@dataclass
class Status:
    ok: bool
    lines: list[str]
    metrics: dict[str, float] = field(default_factory=dict)


def _ago(now: float, epoch: float) -> str:
    seconds = max(0, int(now - epoch))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def status(info: Any, archiver: dict[str, Any] | None, now: float, max_age_hours: float = 48) -> Status:
    """What `make backup-status` prints, whether all is well, and the metrics."""
    lines: list[str] = []
    problems: list[str] = []
    metrics: dict[str, float] = {"notes_backup_status_timestamp_seconds": round(now, 3)}
    try:
        stanza = stanza_of(info)
    except TargetError as exc:
        stanza = {}
        problems.append(str(exc))
    repo_status = stanza.get("status", {})
    code = repo_status.get("code", -1)
    lines.append(f"repository: {repo_status.get('message', 'unknown')} (stanza {stanza.get('name', '?')})")
    if stanza and code not in (0, 2):  # 2: no backup yet, reported below
        problems.append(f"the repository's status is {repo_status.get('message')!r} (code {code})")
    backups = good_backups(stanza) if stanza else []
    counts = {kind: sum(1 for b in backups if b.get("type") == kind) for kind in ("full", "diff", "incr")}
    for kind, count in counts.items():
        metrics[f'notes_backup_count{{type="{kind}"}}'] = count
    if backups:
        last = backups[-1]
        stop = last["timestamp"]["stop"]
        lines.append(f"last good backup: {last['type']} {last['label']}, finished {show(stop)} ({_ago(now, stop)})")
        for kind in ("full", "diff", "incr"):
            of_kind = [b for b in backups if b.get("type") == kind]
            if of_kind:
                metrics[f'notes_backup_last_success_timestamp_seconds{{type="{kind}"}}'] = of_kind[-1]["timestamp"][
                    "stop"
                ]
        metrics["notes_backup_last_timestamp_seconds"] = stop
        earliest = backups[0]["timestamp"]["stop"]
        metrics["notes_backup_restorable_since_timestamp_seconds"] = earliest
        kept = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        lines.append(f"backups kept: {len(backups)} ({kept}); restorable from {show(earliest)} on")
        if now - stop > max_age_hours * 3600:
            problems.append(f"the newest backup is older than {max_age_hours:g} h: is the backup service running?")
    else:
        problems.append("no good backup in the repository")
    archive = (stanza.get("archive") or [{}])[-1] if stanza else {}
    if archive.get("max"):
        lines.append(f"WAL in the repository: {archive.get('min')} .. {archive.get('max')}")
    if archiver:
        archived_at = archiver.get("last_archived_time")
        failed_at = archiver.get("last_failed_time")
        metrics["notes_backup_wal_archived_total"] = archiver.get("archived_count") or 0
        metrics["notes_backup_wal_archive_failures_total"] = archiver.get("failed_count") or 0
        if archived_at:
            metrics["notes_backup_wal_last_archived_timestamp_seconds"] = archived_at
            lines.append(
                f"last archived WAL: {archiver.get('last_archived_wal')} at {show(archived_at)} "
                f"({_ago(now, archived_at)})"
            )
        else:
            lines.append("last archived WAL: none since the database started")
        if failed_at:
            metrics["notes_backup_wal_last_failed_timestamp_seconds"] = failed_at
            lines.append(f"last failed WAL archive: {archiver.get('last_failed_wal')} at {show(failed_at)}")
            if not archived_at or failed_at > archived_at:
                problems.append("WAL archiving is failing (see the db service's log)")
    else:
        lines.append("last archived WAL: unknown (the database is not running)")
    ok = not problems
    metrics["notes_backup_ok"] = 1 if ok else 0
    lines.extend(f"PROBLEM: {p}" for p in problems)
    return Status(ok, lines, metrics)


_HELP = {
    "notes_backup_ok": "1 when the last check found a good, recent backup and WAL archiving working, else 0.",
    "notes_backup_status_timestamp_seconds": "When this file was written (Unix time).",
    "notes_backup_count": "Good backups kept in the pgBackRest repository, by type.",
    "notes_backup_last_success_timestamp_seconds": "When the newest good backup of each type finished (Unix time).",
    "notes_backup_last_timestamp_seconds": "When the newest good backup of any type finished (Unix time).",
    "notes_backup_restorable_since_timestamp_seconds": "The earliest time a point-in-time restore can reach.",
    "notes_backup_wal_archived_total": "WAL segments archived since the database started (pg_stat_archiver).",
    "notes_backup_wal_archive_failures_total": "Failed WAL archive attempts since the database started.",
    "notes_backup_wal_last_archived_timestamp_seconds": "When the last WAL segment was archived (Unix time).",
    "notes_backup_wal_last_failed_timestamp_seconds": "When a WAL archive attempt last failed (Unix time).",
}


def prometheus_text(metrics: dict[str, float]) -> str:
    out: list[str] = []
    seen: set[str] = set()
    for key, value in metrics.items():
        name = key.split("{", 1)[0]
        if name not in seen:
            seen.add(name)
            kind = "counter" if name.endswith("_total") else "gauge"
            out += [f"# HELP {name} {_HELP.get(name, name)}", f"# TYPE {name} {kind}"]
        out.append(f"{key} {value}" if isinstance(value, int) else f"{key} {value:.3f}")
    return "\n".join(out) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """The textfile collector must never read half a file: write, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _load(path: str | None) -> Any:
    if not path:
        return None
    text = Path(path).read_text().strip()
    return json.loads(text) if text else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    target = sub.add_parser("target")
    target.add_argument("time")
    target.add_argument("--info", required=True)
    report = sub.add_parser("status")
    report.add_argument("--info", required=True)
    report.add_argument("--archiver")
    report.add_argument("--prom")
    report.add_argument("--max-age-hours", type=float, default=48)
    args = parser.parse_args(argv)

    try:
        info = _load(args.info)
    except (OSError, ValueError) as exc:
        print(f"cannot read pgbackrest info ({exc})", file=sys.stderr)
        return 2
    if args.command == "target":
        try:
            print(restore_target(args.time, info))
        except TargetError as exc:
            print(exc, file=sys.stderr)
            return 2
        return 0
    try:
        archiver = _load(args.archiver)
    except (OSError, ValueError):
        archiver = None
    result = status(info, archiver, time.time(), args.max_age_hours)
    for line in result.lines:
        print(line)
    if args.prom:
        write_atomically(Path(args.prom), prometheus_text(result.metrics))
        print(f"metrics written to {args.prom}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
