"""Operating the stack: restarts keep data, replicas share load, a stop
during writes loses nothing that was acknowledged."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid

import pytest
import requests
from tests.helpers.stack import Account, Stack, access_request_ids

pytestmark = pytest.mark.stack


def test_data_survives_down_and_up(stack: Stack, account: Account) -> None:
    title = f"persistent-{uuid.uuid4().hex[:8]}"
    created = account.api().post(stack.url("/api/v1/notes"), json={"title": title}, timeout=10)
    assert created.status_code == 201
    note_id = created.json()["id"]

    stack.compose("down", "--timeout", "30", timeout=120)  # no -v: volumes stay
    assert stack.container_ids("db") == []
    stack.up()
    stack.wait_ready()

    again = account.api().get(stack.url(f"/api/v1/notes/{note_id}"), timeout=10)
    assert again.status_code == 200
    assert again.json()["title"] == title
    # The session cookie (same SECRET_KEY) and the token both still work.
    assert account.browser.get(stack.url("/notes/"), allow_redirects=False, timeout=10).status_code == 200


def test_three_web_replicas_all_serve(stack: Stack, account: Account) -> None:
    stack.up("--scale", "web=3", "--no-recreate")
    try:
        containers = stack.container_ids("web")
        assert len(containers) == 3
        tag = uuid.uuid4().hex
        served: set[str] = set()
        api = account.api()
        deadline = time.monotonic() + 60
        n = 0
        # nginx re-resolves `web` within seconds of the change; keep asking
        # until each replica has logged one of our requests (bounded).
        while served != set(containers) and time.monotonic() < deadline:
            for _ in range(30):
                n += 1
                response = api.get(
                    stack.url("/api/v1/notes?limit=1"), headers={"X-Request-ID": f"{tag}-{n}"}, timeout=10
                )
                assert response.status_code == 200, response.text[:300]
            for cid in containers:
                out = subprocess.run(["docker", "logs", cid], capture_output=True, text=True, timeout=30).stdout
                if any(rid.startswith(f"{tag}-") for rid in access_request_ids(out)):
                    served.add(cid)
        assert served == set(containers), f"{len(served)} of 3 replicas served after {n} requests"
    finally:
        stack.up("--scale", "web=1")
        stack.wait_ready()


def test_stopping_web_during_writes_loses_no_acknowledged_write(stack: Stack, account: Account) -> None:
    acknowledged: dict[int, str] = {}
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(worker: int) -> None:
        api = account.api()
        n = 0
        while not stop.is_set():
            n += 1
            title = f"burst-{worker}-{n}-{uuid.uuid4().hex[:6]}"
            try:
                response = api.post(stack.url("/api/v1/notes"), json={"title": title}, timeout=15)
            except requests.RequestException as exc:
                with lock:
                    failures.append(type(exc).__name__)
                time.sleep(0.1)
                continue
            with lock:
                if response.status_code == 201:
                    acknowledged[response.json()["id"]] = title
                else:
                    failures.append(str(response.status_code))
            if response.status_code != 201:
                time.sleep(0.1)

    threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)
        before = len(acknowledged)
        stack.compose("stop", "web", timeout=90)  # SIGTERM: gunicorn finishes in-flight requests
        time.sleep(1)
        stack.up()
        time.sleep(2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert before > 0, "no write was acknowledged before the stop"
    assert len(acknowledged) > before, "no write was acknowledged after the restart"

    stack.wait_ready()
    api = account.api()
    missing = []
    for note_id, title in acknowledged.items():
        response = api.get(stack.url(f"/api/v1/notes/{note_id}"), timeout=10)
        if response.status_code != 200 or response.json()["title"] != title:
            missing.append((note_id, title, response.status_code))
    assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged writes lost"


def test_with_web_down_nginx_answers_a_503_problem_with_retry_after(stack: Stack) -> None:
    # The same answer nginx gives when every web container has
    # NGINX_UPSTREAM_MAX_CONNS requests in flight (the overload fault).
    stack.compose("stop", "web", timeout=90)
    try:
        response = stack.session().get(stack.url("/api/v1/notes"), timeout=10)
        assert response.status_code == 503
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.json()["status"] == 503
        assert int(response.headers["Retry-After"]) > 0
        # Its own add_header must not have dropped the server's security headers.
        assert "max-age=" in response.headers["Strict-Transport-Security"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        stack.up()
        stack.wait_ready()
