"""QueueDeadline: a request that queued too long behind busy workers is refused at once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from app.http.overload import CLOCK_SKEW_LIMIT, QueueDeadline, queued_for

NOW = 1_800_000_000.0
PROXY = "172.16.238.3"


class Inner:
    """The app behind the middleware: counts the requests that reached it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return Response("ran")(environ, start_response)


def client(limit: float = 1.0) -> tuple[Client, Inner]:
    inner = Inner()
    return Client(QueueDeadline(inner, limit, ["172.16.238.0/24"], clock=lambda: NOW)), inner


def get(c: Client, path: str = "/api/v1/notes", *, stamp: str | None, peer: str = PROXY) -> Any:
    headers = {} if stamp is None else {"X-Request-Start": stamp}
    return c.get(path, headers=headers, environ_base={"REMOTE_ADDR": peer})


def test_a_request_that_queued_past_the_limit_is_refused_before_the_app_runs() -> None:
    c, inner = client(limit=1.0)
    response = get(c, stamp=f"t={NOW - 1.5:.3f}")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"
    body = json.loads(response.get_data())
    assert body["status"] == 503
    assert "waited 1500 ms" in body["detail"] and "limit is 1000 ms" in body["detail"]
    assert "Try again" in body["detail"]
    assert inner.calls == 0


@pytest.mark.parametrize("waited", [0.0, 0.2, 0.999])
def test_a_request_within_the_limit_runs(waited: float) -> None:
    c, inner = client(limit=1.0)
    response = get(c, stamp=f"t={NOW - waited:.3f}")
    assert response.status_code == 200
    assert inner.calls == 1


def test_without_a_stamp_nothing_is_shed() -> None:
    c, inner = client()
    assert get(c, stamp=None).status_code == 200
    assert inner.calls == 1


def test_a_stamp_from_a_client_that_is_not_a_trusted_proxy_is_not_believed() -> None:
    c, inner = client()
    assert get(c, stamp=f"t={NOW - 60:.3f}", peer="203.0.113.9").status_code == 200
    assert inner.calls == 1


def test_an_ipv4_mapped_proxy_address_is_the_proxy() -> None:
    c, inner = client()
    assert get(c, stamp=f"t={NOW - 5:.3f}", peer=f"::ffff:{PROXY}").status_code == 503
    assert inner.calls == 0


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_probes_are_never_shed(path: str) -> None:
    c, inner = client()
    assert get(c, path, stamp=f"t={NOW - 30:.3f}").status_code == 200
    assert inner.calls == 1


@pytest.mark.parametrize(
    "stamp",
    [
        "",
        "t=",
        "yesterday",
        "t=nan",
        "t=inf",
        "t=-inf",
        f"t={NOW + 5:.3f}",  # from the future: the clocks disagree
        f"t={NOW - CLOCK_SKEW_LIMIT - 1:.3f}",  # longer than any queue: the clocks disagree
        "t=1e999",
    ],
)
def test_an_unusable_stamp_is_ignored_not_shed(stamp: str) -> None:
    c, inner = client()
    assert get(c, stamp=stamp).status_code == 200
    assert inner.calls == 1


def test_a_bare_number_is_read_like_nginx_t_equals() -> None:
    assert queued_for({"HTTP_X_REQUEST_START": f"{NOW - 2:.3f}"}, NOW) == pytest.approx(2.0)
    assert queued_for({"HTTP_X_REQUEST_START": f"t={NOW - 2:.3f}"}, NOW) == pytest.approx(2.0)
    assert queued_for({}, NOW) is None
