"""Replicas coming and going under load: a rolling update, scaling, a killed task, a failed update.

Each runs under a bounded load from loopback: paced writes (tests/helpers/load.py,
every acknowledged one checked in the database afterwards) and paced reads.

A "failed request" is any answer but 2xx, or a request that got no answer at
all (a reset or closed connection, a timeout), each attempt on its own: a
write that a retry with its Idempotency-Key then stored still counts its
failed attempt. The clients keep their connections alive, so a change of web
tasks that closed them (an nginx reload in front of the clients, which the
stack avoids: nginx/templates/upstream/) would show here.
The figures go to the report (SWARM_REPORT writes them into docs/reliability.md).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from tests.helpers.load import WriteLoad, lost_writes
from tests.helpers.pitr import SWARM_END, SWARM_START, write_section
from tests.helpers.stack import ROOT, Account
from tests.helpers.swarm import FIRST_TAG, SwarmStack, docker

WRITERS = 4
WRITES_PER_WRITER = 4.0  # a second: 16 writes a second in all
READS_PER_SECOND = 20.0
LOAD_LIMIT = 300.0  # seconds: no fault's load runs longer


@dataclass
class Reader:
    """GETs the notes list every 1/rate s in a thread; records each answer's status (or exception name)."""

    stack: SwarmStack
    token: str
    rate: float = READS_PER_SECOND
    results: list[tuple[float, str]] = field(default_factory=list)  # (monotonic start, status or exception)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        session = self.stack.session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        deadline = time.monotonic() + LOAD_LIMIT
        next_at = time.monotonic()
        while not self._stop.is_set() and time.monotonic() < deadline:
            at = time.monotonic()
            try:
                response = session.get(self.stack.url("/api/v1/notes?limit=5"), timeout=20)
                self.results.append((at, str(response.status_code)))
            except requests.RequestException as exc:
                self.results.append((at, type(exc).__name__))
            next_at += 1 / self.rate
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def failures(self) -> list[tuple[float, str]]:
        return [(at, r) for at, r in self.results if not r.startswith("2")]


@dataclass
class Traffic:
    writes: WriteLoad
    reads: Reader
    started: float

    def figures(self, stack: SwarmStack) -> dict[str, Any]:
        """Requests, failures and lost writes, once the load has stopped."""
        summary = self.writes.summary()
        lost = lost_writes(stack, self.writes)
        failed_reads = self.reads.failures()
        attempts = self.writes.snapshot()
        # Every attempt that stored nothing failed, even when a retry then did.
        failed_writes = [(o.started, o.result) for o in attempts if o.note_id is None]
        return {
            "seconds": round(time.monotonic() - self.started, 1),
            "requests": len(attempts) + len(self.reads.results),
            "failed": len(failed_writes) + len(failed_reads),
            "failed_writes": len(failed_writes),
            "failed_reads": len(failed_reads),
            "unacknowledged_writes": self.writes.writes_begun - len(self.writes.acknowledged),
            # Seconds after the event began, and what came back: to tell a
            # shed request (503) from a dropped connection when one fails.
            "failures": sorted((round(at - self.started, 1), kind) for at, kind in failed_writes + failed_reads),
            "answers": dict(Counter(r for _, r in self.reads.results) + Counter(summary.by_kind)),
            "acknowledged_writes": summary.acknowledged,
            "lost_writes": len(lost["lost"]),
            "duplicates": lost["duplicates"],
        }


@contextmanager
def traffic(stack: SwarmStack, account: Account) -> Iterator[Traffic]:
    reader = Reader(stack, account.token or "")
    thread = threading.Thread(target=reader.run, daemon=True)
    with WriteLoad(
        stack, account.token or "", seconds=LOAD_LIMIT, writers=WRITERS, per_writer_rate=WRITES_PER_WRITER
    ) as writes:
        thread.start()
        time.sleep(3)  # the load is flowing before the fault
        try:
            yield Traffic(writes, reader, time.monotonic())
        finally:
            time.sleep(3)  # and still flows after it
            reader._stop.set()
            thread.join(timeout=30)
            writes.stop()


def no_failures(figures: dict[str, Any]) -> str:
    """The assertion message for failed requests: when and what, and every answer."""
    return f"failed requests (seconds in, answer): {figures['failures']}; all answers: {figures['answers']}"


def wait_until(condition: Any, timeout: float, what: str) -> float:
    """Seconds until ``condition()`` holds; AssertionError naming ``what`` after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:g}s")


def broken_web_image(tag: str) -> str:
    """``notes-web:<tag>``: a release that starts but never becomes ready (its health check always fails)."""
    lines = [
        f"FROM notes-web:{FIRST_TAG}",
        "USER root",
        "RUN printf 'raise SystemExit(1)\\n' > /app/healthcheck.py",
        "USER app",
    ]
    subprocess.run(
        ["docker", "build", "-q", "-t", f"notes-web:{tag}", "-"],
        input="\n".join(lines) + "\n",
        text=True,
        capture_output=True,
        timeout=300,
        check=True,
    )
    return f"notes-web:{tag}"


@pytest.fixture(scope="module")
def report() -> Iterator[dict[str, dict[str, Any]]]:
    """Collects each fault's figures; prints them, and writes SWARM_REPORT's section at the end."""
    results: dict[str, dict[str, Any]] = {}
    yield results
    if not results:
        return
    lines = [
        "## Docker Swarm: replicas under load",
        "",
        f"A single-node swarm on this host; web at 3 replicas behind nginx, {WRITERS} writers at "
        f"{WRITES_PER_WRITER:g} writes/s each and {READS_PER_SECOND:g} reads/s from loopback during each event. "
        "Clients keep their connections alive. A failed request is any answer but 2xx, or none (a closed "
        "connection, a timeout), counting every attempt: a write's retry with its Idempotency-Key does not "
        "hide the attempt that failed (tests/swarm/test_rolling.py). Generated by the run "
        f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).",
        "",
        "| event | took (s) | requests | failed | writes never acked | acked writes | lost | duplicates |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['took_s']} | {r['requests']} | {r['failed']} | {r['unacknowledged_writes']} "
            f"| {r['acknowledged_writes']} | {r['lost_writes']} | {r['duplicates']} |"
        )
    lines += ["", "Answers per event:", ""]
    lines += [f"- {name}: {dict(sorted(r['answers'].items()))}" for name, r in results.items()]
    lines += ["", "Reproduce: `make test-swarm SWARM_REPORT=docs/reliability.md` (about 9 minutes).", ""]
    text = "\n".join(lines)
    print("\n" + text)
    target = os.environ.get("SWARM_REPORT")
    if target:
        path = Path(target) if Path(target).is_absolute() else ROOT / target
        write_section(path, text, SWARM_START, SWARM_END)


def test_a_rolling_update_to_a_new_tag_fails_no_request(
    stack: SwarmStack, account: Account, report: dict[str, dict[str, Any]]
) -> None:
    old = {t["ID"] for t in stack.running("web")}
    steady = {service: {t["ID"] for t in stack.running(service)} for service in ("nginx", "db")}
    with traffic(stack, account) as load:
        started = time.monotonic()
        # What an operator runs for a release: build, tag, deploy, wait.
        out = stack.deploy("swarm-test-2")
        took = time.monotonic() - started
    figures = load.figures(stack)
    report["rolling update of web to a new tag (make swarm-deploy)"] = {**figures, "took_s": round(took, 1)}
    running = stack.running("web")
    assert {t["Image"] for t in running} == {"notes-web:swarm-test-2"}, out
    assert len(running) == 3 and not old & {t["ID"] for t in running}
    # nginx and the database kept their tasks: only web's image changed.
    assert {service: {t["ID"] for t in stack.running(service)} for service in steady} == steady
    assert figures["lost_writes"] == 0 and figures["duplicates"] == 0, figures
    assert figures["failed"] == 0, (
        f"failed requests (seconds in, answer): {figures['failures']}; all: {figures['answers']}"
    )


def test_scaling_web_up_and_down_fails_no_request(
    stack: SwarmStack, account: Account, report: dict[str, dict[str, Any]]
) -> None:
    web = stack.service("web")
    with traffic(stack, account) as load:
        started = time.monotonic()
        docker("service", "scale", "--detach=false", f"{web}=5", timeout=300)
        wait_until(lambda: len(stack.web_addresses()) == 5, 60, "nginx's DNS lists 5 web tasks")
        time.sleep(5)  # traffic reaches the new ones
        docker("service", "scale", "--detach=false", f"{web}=2", timeout=300)
        wait_until(lambda: len(stack.web_addresses()) == 2, 60, "nginx's DNS lists 2 web tasks")
        took = time.monotonic() - started
    figures = load.figures(stack)
    report["scale web 3 -> 5 -> 2"] = {**figures, "took_s": round(took, 1)}
    docker("service", "scale", "--detach=false", f"{web}=3", timeout=300)
    assert figures["lost_writes"] == 0 and figures["duplicates"] == 0, figures
    assert figures["failed"] == 0, (
        f"failed requests (seconds in, answer): {figures['failures']}; all: {figures['answers']}"
    )


def test_a_killed_web_task_is_replaced_and_loses_no_acknowledged_write(
    stack: SwarmStack, account: Account, report: dict[str, dict[str, Any]]
) -> None:
    assert len(stack.running("web")) == 3
    victim = stack.container_ids("web")[0]
    task = docker("inspect", "--format", '{{index .Config.Labels "com.docker.swarm.task.id"}}', victim).stdout.strip()
    with traffic(stack, account) as load:
        docker("kill", "--signal", "KILL", victim)
        took = wait_until(
            lambda: len(ids := {t["ID"] for t in stack.running("web")}) == 3 and task not in ids,
            120,
            "Swarm replaced the killed web task",
        )
        wait_until(lambda: len(stack.web_addresses()) == 3, 60, "nginx's DNS lists 3 web tasks again")
    states = {t["ID"]: t["CurrentState"] for t in stack.tasks("web")}
    assert states.get(task, "").startswith("Failed"), states
    figures = load.figures(stack)
    report["kill -9 one web task's container"] = {**figures, "took_s": round(took, 1)}
    print(f"\nkill -9: failed requests during the gap: {figures['failed']} ({figures['answers']})")
    assert figures["lost_writes"] == 0 and figures["duplicates"] == 0, figures


def _back_on(stack: SwarmStack, image: str) -> bool:
    running = stack.running("web")
    return len(running) == 3 and {t["Image"] for t in running} == {image}


def test_an_update_whose_health_check_fails_rolls_back_and_keeps_answering(
    stack: SwarmStack, account: Account, report: dict[str, dict[str, Any]]
) -> None:
    web = stack.service("web")
    image = broken_web_image("swarm-test-broken")
    with traffic(stack, account) as load:
        docker("service", "update", "--detach", "--image", image, web, timeout=120)
        took = wait_until(lambda: stack.update_state() == "rollback_completed", 240, "the update rolled back")
        # Swarm marks the rollback completed once every slot has its old spec again, which can be
        # while the last old-image task is still passing its health check; the load keeps
        # running (and counting) until the service is whole again.
        took += wait_until(lambda: _back_on(stack, "notes-web:swarm-test-2"), 60, "3 web tasks on the old image")
    figures = load.figures(stack)
    report["update to an image whose health check fails (rolled back)"] = {**figures, "took_s": round(took, 1)}
    running = stack.running("web")
    assert len(running) == 3 and {t["Image"] for t in running} == {"notes-web:swarm-test-2"}, stack.tasks("web")
    assert stack.session().get(stack.url("/readyz"), timeout=10).status_code == 200
    assert figures["lost_writes"] == 0 and figures["duplicates"] == 0, figures
    assert figures["failed"] == 0, (
        f"failed requests (seconds in, answer): {figures['failures']}; all: {figures['answers']}"
    )
