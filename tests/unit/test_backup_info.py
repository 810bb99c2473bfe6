"""db/backup_info.py: restore targets checked against pgBackRest's record, and the backup status.

The stack tests (tests/stack/test_pitr.py) run the same code through `make`;
these pin down each rule on its own, with `pgbackrest info --output=json`
documents shaped like pgBackRest's.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "db" / "backup_info.py"
NOW = 1_764_513_000.0  # 2025-11-30 14:30:00 UTC
FULL_STOP = int(NOW) - 3600  # 13:30:00
DIFF_STOP = int(NOW) - 600  # 14:20:00


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("backup_info", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["backup_info"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bi = load()


def backup(label: str, kind: str, stop: int, *, error: bool = False) -> dict[str, object]:
    return {"label": label, "type": kind, "timestamp": {"start": stop - 20, "stop": stop}, "error": error}


def info(*backups: dict[str, object], code: int = 0, message: str = "ok") -> list[dict[str, object]]:
    return [
        {
            "name": "notes",
            "status": {"code": code, "message": message},
            "backup": list(backups),
            "archive": [{"id": "17-1", "min": "000000010000000000000001", "max": "000000010000000000000009"}],
        }
    ]


REPO = info(
    backup("20251130-133000F", "full", FULL_STOP), backup("20251130-133000F_20251130-142000D", "diff", DIFF_STOP)
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("latest", "latest"),
        ("LATEST", "latest"),
        ("2025-11-30 14:00", "2025-11-30 14:00:00.000000+00"),
        ("2025-11-30T14:00:05Z", "2025-11-30 14:00:05.000000+00"),
        ("2025-11-30 14:00:05.25 UTC", "2025-11-30 14:00:05.250000+00"),
        ("2025-11-30 15:00:05+01:00", "2025-11-30 14:00:05.000000+00"),
        ("2025-11-30 09:00:05-05", "2025-11-30 14:00:05.000000+00"),
    ],
)
def test_targets_are_normalised_to_utc(text: str, expected: str) -> None:
    assert bi.restore_target(text, REPO, now=NOW) == expected


@pytest.mark.parametrize(
    "text", ["garbage", "", "yesterday", "14:00", "2025-11-30 14:00; rm -rf /", "2025-13-01 00:00", "2025-11-30 25:00"]
)
def test_what_is_not_a_time_is_refused(text: str) -> None:
    with pytest.raises(bi.TargetError, match=r"is not a (valid )?time"):
        bi.restore_target(text, REPO, now=NOW)


def test_a_time_before_the_oldest_backup_ended_is_refused_with_the_earliest_one() -> None:
    with pytest.raises(bi.TargetError) as caught:
        bi.restore_target("2025-11-30 13:29:59", REPO, now=NOW)
    assert "before the oldest backup" in str(caught.value)
    assert "2025-11-30 13:30:00 UTC" in str(caught.value)
    assert "20251130-133000F" in str(caught.value)
    # One second after its end is fine.
    assert bi.restore_target("2025-11-30 13:30:01", REPO, now=NOW).startswith("2025-11-30 13:30:01")


def test_a_time_in_the_future_is_refused() -> None:
    with pytest.raises(bi.TargetError, match="in the future"):
        bi.restore_target("2025-11-30 14:31", REPO, now=NOW)


def test_nothing_to_restore_without_a_backup() -> None:
    empty = info(code=2, message="no valid backups")
    for text in ("latest", "2025-11-30 14:00"):
        with pytest.raises(bi.TargetError, match="holds no backup"):
            bi.restore_target(text, empty, now=NOW)
    with pytest.raises(bi.TargetError, match="no stanza"):
        bi.restore_target("latest", [], now=NOW)


def test_a_backup_with_checksum_errors_is_not_a_restore_point() -> None:
    repo = info(backup("20251130-120000F", "full", FULL_STOP - 5400, error=True), backup("B", "full", FULL_STOP))
    with pytest.raises(bi.TargetError, match="before the oldest backup"):
        bi.restore_target("2025-11-30 13:00", repo, now=NOW)


ARCHIVER = {
    "archived_count": 42,
    "last_archived_wal": "000000010000000000000009",
    "last_archived_time": NOW - 30,
    "failed_count": 0,
    "last_failed_wal": None,
    "last_failed_time": None,
}


def test_status_names_the_last_backup_and_the_last_archived_wal() -> None:
    result = bi.status(REPO, ARCHIVER, NOW)
    text = "\n".join(result.lines)
    assert result.ok
    assert "last good backup: diff 20251130-133000F_20251130-142000D, finished 2025-11-30 14:20:00 UTC" in text
    assert "last archived WAL: 000000010000000000000009 at 2025-11-30 14:29:30 UTC (30 s ago)" in text
    assert "restorable from 2025-11-30 13:30:00 UTC" in text
    assert result.metrics["notes_backup_ok"] == 1
    assert result.metrics['notes_backup_last_success_timestamp_seconds{type="full"}'] == FULL_STOP
    assert result.metrics["notes_backup_last_timestamp_seconds"] == DIFF_STOP
    assert result.metrics["notes_backup_wal_last_archived_timestamp_seconds"] == NOW - 30


@pytest.mark.parametrize(
    ("repo", "archiver", "problem"),
    [
        (info(code=2, message="no valid backups"), ARCHIVER, "no good backup"),
        (info(backup("F", "full", int(NOW) - 49 * 3600)), ARCHIVER, "older than 48 h"),
        (REPO, {**ARCHIVER, "last_failed_wal": "X", "last_failed_time": NOW - 5, "failed_count": 3}, "failing"),
        (info(backup("F", "full", FULL_STOP), code=99, message="other"), ARCHIVER, "status is 'other'"),
        ([], None, "no stanza"),
    ],
)
def test_status_reports_problems(repo: object, archiver: dict[str, object] | None, problem: str) -> None:
    result = bi.status(repo, archiver, NOW)
    assert not result.ok
    assert result.metrics["notes_backup_ok"] == 0
    assert any(line.startswith("PROBLEM:") and problem in line for line in result.lines), result.lines


def test_a_failure_before_the_last_success_is_history_not_a_problem() -> None:
    archiver = {**ARCHIVER, "last_failed_wal": "X", "last_failed_time": NOW - 300, "failed_count": 1}
    assert bi.status(REPO, archiver, NOW).ok


def test_the_metrics_file_is_prometheus_text(tmp_path: Path) -> None:
    text = bi.prometheus_text(bi.status(REPO, ARCHIVER, NOW).metrics)
    assert "# TYPE notes_backup_ok gauge\nnotes_backup_ok 1\n" in text
    assert f'notes_backup_last_success_timestamp_seconds{{type="full"}} {FULL_STOP}\n' in text  # not 1.76e+09
    assert "# TYPE notes_backup_wal_archive_failures_total counter" in text
    assert text.count("# TYPE notes_backup_count gauge") == 1
    for line in text.splitlines():
        assert line.startswith("# ") or len(line.split(" ")) == 2, line


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=30, check=False)


def test_the_command_line(tmp_path: Path) -> None:
    repo = tmp_path / "info.json"
    repo.write_text(json.dumps(REPO))
    archiver = tmp_path / "archiver.json"
    archiver.write_text(json.dumps({**ARCHIVER, "last_archived_time": None}))
    prom = tmp_path / "out" / "backup-status.prom"

    latest = run("target", "latest", "--info", str(repo))
    assert (latest.returncode, latest.stdout) == (0, "latest\n")
    garbage = run("target", "garbage", "--info", str(repo))
    assert garbage.returncode == 2 and "is not a time" in garbage.stderr and not garbage.stdout

    # The fixture's backups are old by the real clock: a problem, said so, exit 1, file written anyway.
    status = run("status", "--info", str(repo), "--archiver", str(archiver), "--prom", str(prom))
    assert status.returncode == 1, status.stdout + status.stderr
    assert "older than 48 h" in status.stdout
    assert "notes_backup_ok 0" in prom.read_text()
    assert not [p for p in prom.parent.iterdir() if p.name.startswith(".")]  # the temporary file was renamed
    # The database down: no archiver figures, said so.
    down = run("status", "--info", str(repo), "--archiver", str(tmp_path / "missing.json"), "--max-age-hours", "1e9")
    assert down.returncode == 0, down.stdout
    assert "last archived WAL: unknown (the database is not running)" in down.stdout
