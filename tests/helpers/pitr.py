"""Helpers of the continuous-archiving tests (tests/stack/test_pitr.py, test_offsite.py).

`make` targets called as a user would, pgBackRest's record of the stack, and
the point-in-time recovery section of docs/reliability.md: written between
two markers so that `make chaos`, which rewrites the rest of the file,
keeps it, and the PITR drill rewrites only it.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.helpers.stack import ROOT, Stack

SECTION_START = "<!-- pitr:start (tests/stack/test_pitr.py, make pitr-drill) -->"
SECTION_END = "<!-- pitr:end -->"


def run_make(stack: Stack, target: str, timeout: float = 600, **variables: str) -> subprocess.CompletedProcess[str]:
    """`make <target>` from the repository root with COMPOSE aimed at the test stack."""
    compose = " ".join(
        [
            f"docker compose -p {stack.project} --project-directory {ROOT}",
            *(f"-f {path}" for path in stack.files),
            f"--env-file {stack.env_file}",
        ]
    )
    args = [f"{name}={value}" for name, value in variables.items()]
    return subprocess.run(
        ["make", "--no-print-directory", target, f"COMPOSE={compose}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def pgbackrest_info(stack: Stack) -> dict[str, Any]:
    """The stanza's `pgbackrest info --output=json`, read by a one-off backup container."""
    out = stack.compose(
        "run", "--rm", "--no-deps", "-T", "backup", "pgbackrest", "--stanza=notes", "--output=json", "info"
    ).stdout
    data = json.loads(out)
    assert isinstance(data, list) and data, out
    return dict(data[0])


def backups(stack: Stack) -> list[dict[str, Any]]:
    return list(pgbackrest_info(stack).get("backup") or [])


def wait_for_backup(stack: Stack, *, newer_than: float = 0, kind: str | None = None, timeout: float = 180) -> dict:
    """Until the backup service has finished a backup (of ``kind``) after ``newer_than`` (Unix time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [
            b
            for b in backups(stack)
            if b["timestamp"]["stop"] > newer_than and (kind is None or b["type"] == kind) and not b.get("error")
        ]
        if done:
            return dict(done[-1])
        time.sleep(3)
    raise AssertionError(
        f"no {kind or ''} backup after {newer_than} within {timeout}s:\n{stack.logs('backup')[-3000:]}"
    )


def container_started(stack: Stack, service: str) -> str:
    """The service's container id and start time: unchanged means it was not stopped or recreated."""
    ids = stack.container_ids(service)
    if not ids:
        return "none"
    out = subprocess.run(
        ["docker", "inspect", "--format", "{{.Id}} {{.State.Status}} {{.State.StartedAt}}", *ids],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout.strip()


# Sections of docs/reliability.md that other runs than `make chaos` write:
# their markers, each (start, end).
SWARM_START = "<!-- swarm:start (tests/swarm, make test-swarm SWARM_REPORT=docs/reliability.md) -->"
SWARM_END = "<!-- swarm:end -->"
SECTIONS = ((SECTION_START, SECTION_END), (SWARM_START, SWARM_END))


def write_section(path: Path, body: str, start: str = SECTION_START, end: str = SECTION_END) -> None:
    """Put ``body`` between the markers ``start`` and ``end`` of ``path``, replacing what was there (or appending)."""
    block = f"{start}\n{body.rstrip()}\n{end}\n"
    text = path.read_text() if path.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text)


def kept_section(path: Path) -> str:
    """The PITR and Swarm blocks of ``path`` with their markers, or "" (for `make chaos`, which rewrites the rest)."""
    text = path.read_text() if path.exists() else ""
    kept = [
        start + text.split(start, 1)[1].split(end, 1)[0] + end + "\n"
        for start, end in SECTIONS
        if start in text and end in text
    ]
    return "\n".join(kept)
