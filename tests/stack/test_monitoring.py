"""The `monitoring` profile: Prometheus scrapes web's metrics listener on the
monitoring network, holds the alert rules, and is published on 127.0.0.1 only;
/metrics is never served through nginx.

A stack of its own (the profile adds a service). Each wait is bounded: the
checks after `up` take about a scrape interval (10 s), two minutes at most.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from tests.helpers.docker_env import free_port
from tests.helpers.stack import Stack, log_entries, running_stack

pytestmark = pytest.mark.stack

WAIT = 60  # seconds, for each thing Prometheus should come to know


@pytest.fixture(scope="module")
def monitored(compose_available: None) -> Iterator[tuple[Stack, str]]:
    port = free_port()
    # Images of its own tag: building this stack never swaps the images
    # under another stack of the tier that is about to start.
    settings = {"COMPOSE_PROFILES": "monitoring", "MONITORING_PORT": str(port), "NOTES_IMAGE_TAG": "monitoring-test"}
    with running_stack(**settings) as stack:
        yield stack, f"http://127.0.0.1:{port}"


def _prometheus() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def _eventually(what: str, probe: Callable[[], Any]) -> Any:
    """``probe()``'s first truthy answer within WAIT seconds; fails naming ``what`` and the last answer."""
    deadline = time.monotonic() + WAIT
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except requests.RequestException as exc:
            last = exc
        time.sleep(2)
    pytest.fail(f"{what} not seen in {WAIT}s; last: {last!r}"[:3000])


def _query(base: str, expr: str) -> list[dict[str, Any]]:
    answer = _prometheus().get(f"{base}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert answer["status"] == "success", answer
    return list(answer["data"]["result"])


def test_prometheus_scrapes_the_app_through_the_internal_listener(monitored: tuple[Stack, str]) -> None:
    stack, base = monitored
    browser = stack.session()
    for _ in range(3):
        assert browser.get(stack.url("/healthz"), timeout=10).status_code == 200
    assert browser.get(stack.url(f"/no-such-page-{uuid.uuid4().hex}"), timeout=10).status_code == 404

    targets = _eventually(
        "web's metrics target up",
        lambda: [
            t
            for t in _prometheus().get(f"{base}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
            if t["labels"]["job"] == "notes-web" and t["health"] == "up"
        ],
    )
    assert all(t["labels"]["instance"].endswith(":9100") for t in targets)

    # Docker's healthcheck asks /healthz too: at least these three, once a scrape came after them.
    _eventually(
        "the /healthz requests",
        lambda: [
            r
            for r in _query(base, 'sum(notes_http_requests_total{endpoint="health.healthz",status="200"})')
            if float(r["value"][1]) >= 3
        ],
    )
    unmatched = _eventually("the 404", lambda: _query(base, 'notes_http_requests_total{endpoint="none",status="404"}'))
    assert unmatched
    for series in (
        "notes_http_request_duration_seconds_bucket",
        "notes_db_pool_checked_out",
        "notes_db_pool_size",
        "notes_login_failures_total",
    ):
        assert _eventually(series, lambda series=series: _query(base, series)), series
    # A path never becomes a label.
    assert not _query(base, '{__name__=~"notes_.*", endpoint=~".*no-such-page.*"}')


def test_the_alert_rules_are_loaded(monitored: tuple[Stack, str]) -> None:
    _, base = monitored
    groups = _prometheus().get(f"{base}/api/v1/rules", timeout=10).json()["data"]["groups"]
    alerts = {rule["name"]: rule for group in groups for rule in group["rules"] if rule["type"] == "alerting"}
    assert {
        "NotesWebDown",
        "NotesWebAbsent",
        "NotesHigh5xxRate",
        "NotesCertificateExpiresSoon",
        "NotesCertificateCheckFailing",
        "NotesCertificateUnknown",
        "NotesBackupTooOld",
        "NotesWalArchiveFailing",
        "NotesBackupUnknown",
    } <= set(alerts)
    assert all(rule["health"] in ("ok", "unknown") for rule in alerts.values()), alerts
    assert alerts["NotesWebDown"]["state"] == "inactive"  # web is up


def test_prometheus_is_published_on_loopback_only(monitored: tuple[Stack, str]) -> None:
    stack, _ = monitored
    published = stack.compose("port", "prometheus", "9090").stdout.strip()
    assert published.startswith("127.0.0.1:"), published
    # web publishes nothing: its metrics port is reached on the monitoring network only.
    assert stack.compose("port", "web", "9100", check=False).stdout.strip() in ("", ":0")


def test_metrics_are_refused_on_the_public_https_path(monitored: tuple[Stack, str]) -> None:
    stack, _ = monitored
    browser = stack.session()
    for path, headers in (
        ("/metrics", {}),
        ("/metrics/", {}),
        ("/metrics?x=1", {}),
        ("/metrics", {"X-Forwarded-Port": "9100", "Host": "localhost:9100"}),
    ):
        response = browser.get(stack.url(path), headers=headers, timeout=10)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert "notes_http_requests" not in response.text
        # nginx's own page: refused at the edge, before the app (which refuses it too).
        assert "<center>nginx</center>" in response.text, (path, response.text[:300])


def test_web_and_nginx_log_json_lines_with_the_request_id(monitored: tuple[Stack, str]) -> None:
    stack, _ = monitored
    rid = f"monitoring-{uuid.uuid4().hex}"
    assert stack.session().get(stack.url("/healthz"), headers={"X-Request-ID": rid}, timeout=10).status_code == 200
    web = [e for e in log_entries(stack.logs("web")) if e.get("request_id") == rid]
    nginx = [e for e in log_entries(stack.logs("nginx")) if e.get("request_id") == rid]
    assert [e["logger"] for e in web] == ["gunicorn.access"], web
    assert web[0]["status"] == 200 and isinstance(web[0]["duration_ms"], float)
    assert [e["logger"] for e in nginx] == ["nginx.access"], nginx
    assert nginx[0]["status"] == 200 and isinstance(nginx[0]["duration_ms"], int)


def test_the_certificate_expiry_is_scraped_from_the_acme_service_report(monitored: tuple[Stack, str]) -> None:
    """With ACME off the acme service still reports the self-signed certificate, a year out; the check is "ok"."""
    _, base = monitored
    expiry = _eventually(
        "the certificate's expiry", lambda: _query(base, "max(notes_certificate_expiry_timestamp_seconds) - time()")
    )
    days_left = float(expiry[0]["value"][1]) / 86400
    assert 300 < days_left <= 366, days_left
    assert float(_query(base, "min(notes_certificate_check_ok)")[0]["value"][1]) == 1.0


def test_the_backup_age_is_scraped_from_the_backup_service_report(monitored: tuple[Stack, str]) -> None:
    """A new stack takes its first full backup at start; the backup service reports it, web serves it."""
    _, base = monitored
    age = _eventually(
        "the newest backup's age", lambda: _query(base, "time() - max(notes_backup_last_full_timestamp_seconds)")
    )
    assert 0 <= float(age[0]["value"][1]) < 3600
    assert _query(base, "max(notes_backup_count) >= 1")
