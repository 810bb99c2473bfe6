"""Point-in-time recovery with pgBackRest: lose the database volume, restore, count.

On a stack of its own (it destroys its database). The backup service takes
the first full backup by itself; then notes are written under light load
through the API, and each acknowledged write is recorded with the time its
201 came back. PostgreSQL is killed (SIGKILL, no chance to archive anything
more) and its volume removed, and `make restore-pitr TIME=latest` brings it
back from the repository. No WAL switch is forced before the failure: what
is lost is what a real failure loses, the writes since the last segment
archive_timeout closed. Then the same database goes back to a time in the
middle of the load, and the notes written after it must be gone and those
before it there.

The stack closes a segment every PITR_ARCHIVE_TIMEOUT seconds (20 here, so
the tier is short; PG_ARCHIVE_TIMEOUT's default is 60), and the load runs
PITR_LOAD_SECONDS (15 s past it), long enough for one archived segment to
end inside it. `make pitr-drill` runs with the stack's default and writes
the figures into docs/reliability.md (PITR_REPORT).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.load import WriteLoad, psql, stored_rows
from tests.helpers.pitr import (
    backups,
    container_started,
    pgbackrest_info,
    run_make,
    wait_for_backup,
    write_section,
)
from tests.helpers.stack import ROOT, UNTHROTTLED, Account, Stack, running_stack

pytestmark = pytest.mark.stack

ARCHIVE_TIMEOUT = int(os.environ.get("PITR_ARCHIVE_TIMEOUT", "20"))  # the stack's PG_ARCHIVE_TIMEOUT
LOAD_SECONDS = float(os.environ.get("PITR_LOAD_SECONDS", str(ARCHIVE_TIMEOUT + 15)))
# Past archive_timeout: the checkpointer's wake-up (about 1 s) and archive-push's run.
SLACK = 10
WRITERS = 2
RATE = 5.0  # writes a second per writer


@pytest.fixture(scope="module")
def pitr_stack(compose_available: None) -> Iterator[Stack]:
    with running_stack(PG_ARCHIVE_TIMEOUT=str(ARCHIVE_TIMEOUT), **UNTHROTTLED) as stack:
        yield stack


@pytest.fixture(scope="module")
def writer(pitr_stack: Stack) -> Account:
    account = Account(pitr_stack, f"pitr-{os.urandom(4).hex()}@example.com")
    assert account.register().status_code == 302
    account.create_token()
    return account


@pytest.fixture(scope="module")
def report(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    figures: dict[str, Any] = {}
    yield figures
    if not figures.get("latest"):
        return
    text = render(figures)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            for line in text.splitlines():
                reporter.write_line(line)
    target = os.environ.get("PITR_REPORT")
    if target:
        path = Path(target) if Path(target).is_absolute() else ROOT / target
        write_section(path, text)


def utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def test_bad_targets_are_refused_and_change_nothing(pitr_stack: Stack) -> None:
    wait_for_backup(pitr_stack)
    before = {service: container_started(pitr_stack, service) for service in ("db", "web", "backup")}
    notes = psql(pitr_stack, "SELECT count(*) FROM notes").strip()
    first_stop = backups(pitr_stack)[0]["timestamp"]["stop"]

    missing = run_make(pitr_stack, "restore-pitr")
    assert missing.returncode != 0, missing.stdout + missing.stderr
    assert "make restore-pitr TIME=latest" in missing.stderr

    garbage = run_make(pitr_stack, "restore-pitr", TIME="garbage")
    assert garbage.returncode != 0, garbage.stdout + garbage.stderr
    assert "TIME='garbage' is not a time" in garbage.stderr
    assert "nothing was changed" in garbage.stderr

    early = run_make(pitr_stack, "restore-pitr", TIME="2000-01-01 00:00:00")
    assert early.returncode != 0, early.stdout + early.stderr
    assert "before the oldest backup" in early.stderr
    assert datetime.fromtimestamp(first_stop, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") in early.stderr

    future = run_make(pitr_stack, "restore-pitr", TIME="2999-01-01 00:00:00Z")
    assert future.returncode != 0 and "in the future" in future.stderr

    for result in (missing, garbage, early, future):
        assert "stopping" not in (result.stdout + result.stderr).lower()
    assert {service: container_started(pitr_stack, service) for service in ("db", "web", "backup")} == before
    assert psql(pitr_stack, "SELECT count(*) FROM notes").strip() == notes


def test_backup_status_names_the_last_backup_and_archived_wal(pitr_stack: Stack, tmp_path: Path) -> None:
    assert psql(pitr_stack, "SHOW archive_mode").strip() == "on"
    assert psql(pitr_stack, "SELECT setting FROM pg_settings WHERE name = 'archive_timeout'").strip() == str(
        ARCHIVE_TIMEOUT
    )
    first = wait_for_backup(pitr_stack, kind="full")
    # Something to archive: close the current segment and wait for the archiver.
    psql(pitr_stack, "SELECT pg_current_xact_id()")
    segment = psql(pitr_stack, "SELECT pg_walfile_name(pg_switch_wal())").strip()
    deadline = time.monotonic() + 60
    while psql(pitr_stack, "SELECT last_archived_wal FROM pg_stat_archiver").strip() < segment:
        assert time.monotonic() < deadline, "the switched WAL segment was never archived"
        time.sleep(1)

    result = run_make(pitr_stack, "backup-status", BACKUP_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"last good backup: full {first['label']}, finished " in result.stdout
    archived = re.search(r"last archived WAL: ([0-9A-F]{24}) at ", result.stdout)
    assert archived and archived.group(1) >= segment, result.stdout
    assert "PROBLEM" not in result.stdout
    metrics = dict(
        line.rsplit(" ", 1) for line in (tmp_path / "backup-status.prom").read_text().splitlines() if line[0] != "#"
    )
    assert metrics["notes_backup_ok"] == "1"
    assert int(metrics['notes_backup_last_success_timestamp_seconds{type="full"}']) == first["timestamp"]["stop"]
    assert abs(float(metrics["notes_backup_wal_last_archived_timestamp_seconds"]) - time.time()) < 120


def test_lose_the_volume_restore_latest_then_a_time_in_the_middle(
    pitr_stack: Stack, writer: Account, report: dict[str, Any]
) -> None:
    stack = pitr_stack
    wait_for_backup(stack)
    wall = time.time() - time.monotonic()  # monotonic -> Unix time

    with WriteLoad(stack, writer.token, seconds=LOAD_SECONDS + 60, writers=WRITERS, per_writer_rate=RATE) as load:
        time.sleep(LOAD_SECONDS)
        failed_at = time.time()
        stack.compose("kill", "-s", "SIGKILL", "db")
        load.stop()
    acked = {o.note_id: o for o in load.snapshot() if o.note_id is not None}
    titles = dict(load.acknowledged)
    assert len(acked) > LOAD_SECONDS * WRITERS * RATE * 0.5, f"only {len(acked)} writes acknowledged"

    # The volume is gone, as with a dead disk.
    stack.compose("rm", "-f", "-s", "db", "backup")
    subprocess.run(["docker", "volume", "rm", f"{stack.project}_pgdata"], check=True, capture_output=True, timeout=60)

    started = time.monotonic()
    restored = run_make(stack, "restore-pitr", TIME="latest")
    latest_seconds = time.monotonic() - started
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "restored to latest" in restored.stdout
    stack.wait_ready()

    rows = stored_rows(stack, load.tag)
    lost = sorted(i for i in acked if i not in rows)
    ages = sorted(failed_at - (acked[i].ended + wall) for i in lost)
    assert all(rows[i] == titles[i] for i in acked if i in rows)
    survived_last = max(acked[i].ended + wall for i in acked if i in rows)
    report["latest"] = {
        "acknowledged": len(acked),
        "lost": len(lost),
        "oldest lost (s before the failure)": round(ages[-1], 1) if ages else None,
        "newest surviving write (s before the failure)": round(failed_at - survived_last, 1),
        "restore took (s)": round(latest_seconds, 1),
        "load (s)": LOAD_SECONDS,
    }
    assert not ages or ages[-1] <= ARCHIVE_TIMEOUT + SLACK, (
        f"{len(lost)} acknowledged writes lost, the oldest {ages[-1]:.1f} s before the failure"
    )
    # Notes from before the last archive are all there: nothing older than
    # archive_timeout is missing, whatever else was lost.
    assert all(failed_at - (acked[i].ended + wall) <= ARCHIVE_TIMEOUT + SLACK for i in lost)

    # A time in the middle of what survived: between the load's start and its last archived write.
    middle = (load.started + wall + survived_last) / 2
    target = datetime.fromtimestamp(middle, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    before = [i for i in acked if i in rows and acked[i].ended + wall < middle]
    after = [i for i in acked if acked[i].started + wall > middle]
    assert before and after

    started = time.monotonic()
    rewound = run_make(stack, "restore-pitr", TIME=target)
    middle_seconds = time.monotonic() - started
    assert rewound.returncode == 0, rewound.stdout + rewound.stderr
    stack.wait_ready()
    rows_then = stored_rows(stack, load.tag)
    missing_before = [i for i in before if rows_then.get(i) != titles[i]]
    present_after = [i for i in after if rows_then.get(i) == titles[i]]
    report["middle"] = {
        "target": utc(middle),
        "written before it": len(before),
        "of them missing": len(missing_before),
        "written after it": len(after),
        "of them present": len(present_after),
        "restore took (s)": round(middle_seconds, 1),
    }
    assert not missing_before, f"{len(missing_before)} notes acknowledged before {target} are missing"
    assert not present_after, f"{len(present_after)} notes written after {target} are present"
    # The app works on the rewound database, and with the database up,
    # TIME=latest loses nothing: restore-pitr archives the current WAL first
    # (a clean shutdown alone would leave these writes in an unarchived segment).
    api = writer.api()
    fresh = {}
    for n in range(5):
        created = api.post(stack.url("/api/v1/notes"), json={"title": f"{load.tag}-live-{n}"}, timeout=15)
        assert created.status_code == 201, created.text[:300]
        fresh[created.json()["id"]] = f"{load.tag}-live-{n}"
    started = time.monotonic()
    again = run_make(stack, "restore-pitr", TIME="latest")
    live_seconds = time.monotonic() - started
    assert again.returncode == 0, again.stdout + again.stderr
    assert "archiving the current WAL" in again.stdout
    stack.wait_ready()
    rows_now = stored_rows(stack, load.tag)
    report["live"] = {
        "acknowledged": len(fresh),
        "lost": sum(1 for i, title in fresh.items() if rows_now.get(i) != title),
        "restore took (s)": round(live_seconds, 1),
    }
    assert all(rows_now.get(i) == title for i, title in fresh.items()), report["live"]
    # Still the rewound history (ids start again from T's, so compare titles).
    assert not [i for i in after if rows_now.get(i) == titles[i]]


def test_retention_expires_old_full_backups(pitr_stack: Stack) -> None:
    """Two more full backups with repo1-retention-full=2: pgBackRest's expire drops the oldest."""
    before = [b["label"] for b in backups(pitr_stack) if b["type"] == "full"]
    for _ in range(2):
        pitr_stack.compose("exec", "-T", "backup", "pgbackrest", "--stanza=notes", "backup", "--type=full", timeout=300)
    fulls = [b["label"] for b in pgbackrest_info(pitr_stack)["backup"] if b["type"] == "full"]
    assert len(fulls) == 2, fulls
    assert before[0] not in fulls, f"the oldest full backup {before[0]} was not expired"


def render(figures: dict[str, Any]) -> str:
    latest, middle = figures["latest"], figures.get("middle", {})
    lines = [
        "## point-in-time recovery: the database volume lost",
        "",
        f"- **Run:** {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, `make pitr-drill` "
        f"(PITR_ARCHIVE_TIMEOUT={ARCHIVE_TIMEOUT} PITR_LOAD_SECONDS={LOAD_SECONDS:g}): "
        f"{WRITERS} writers, {RATE:g} notes a second each, through nginx.",
        "- **Fault:** PostgreSQL gets SIGKILL while writes run, then its volume is removed "
        "(`docker volume rm`); no WAL switch is forced first, so this is what a dead disk loses. "
        "`make restore-pitr TIME=latest` rebuilds it from pgBackRest's repository (last base backup + archived WAL).",
        "",
        "| acknowledged | lost | oldest lost write (s before the failure) | restore took (s) |",
        "| ---: | ---: | ---: | ---: |",
        f"| {latest['acknowledged']} | **{latest['lost']}** | {latest['oldest lost (s before the failure)'] or '-'} "
        f"| {latest['restore took (s)']} |",
        "",
        "- The newest write that survived was acknowledged "
        f"{latest['newest surviving write (s before the failure)']} s before the failure: "
        "everything older was in the archive. What is lost is what was written since archive_timeout last "
        f"closed a WAL segment: between 0 and about {ARCHIVE_TIMEOUT} s, depending on when the failure strikes "
        "(a longer PITR_LOAD_SECONDS moves it).",
        f"- The check: no acknowledged write older than archive_timeout ({ARCHIVE_TIMEOUT} s) + {SLACK} s "
        "(the checkpointer's wake-up and archive-push) is lost.",
    ]
    if middle:
        lines += [
            f"- Then `make restore-pitr TIME='{middle['target'].removesuffix(' UTC')}'`, a time in the middle of the "
            f"load, took {middle['restore took (s)']} s: of {middle['written before it']} notes acknowledged before "
            f"it, {middle['of them missing']} missing; of {middle['written after it']} written after it, "
            f"{middle['of them present']} present.",
        ]
    lines += [
        "- With the database still running, `make restore-pitr` first commits, switches WAL and waits for the "
        "archive, so TIME=latest then loses nothing; a failure gives no such chance."
        + (
            f" Measured: {figures['live']['acknowledged']} notes written just before "
            f"`make restore-pitr TIME=latest` on the running database, {figures['live']['lost']} lost "
            f"({figures['live']['restore took (s)']} s)."
            if figures.get("live")
            else ""
        ),
        "",
        "```sh",
        f"make pitr-drill PITR_ARCHIVE_TIMEOUT={ARCHIVE_TIMEOUT} PITR_LOAD_SECONDS={LOAD_SECONDS:g}"
        "   # a throwaway stack; rewrites this section",
        "```",
        "",
        "Raw figures: `" + json.dumps(figures, sort_keys=True) + "`",
    ]
    return "\n".join(lines)
