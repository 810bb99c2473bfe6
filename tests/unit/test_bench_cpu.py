"""bench/run.py's CPU accounting: CPU seconds between two snapshots, per request."""

from __future__ import annotations

from bench.run import CpuMeter


def test_each_part_is_its_cpu_per_request_and_other_is_what_the_host_used_besides() -> None:
    before = {"web": 10.0, "db": 5.0, "wrk": 1.0, "docker-proxy": 0.5, "host": 100.0}
    after = {"web": 12.0, "db": 5.5, "wrk": 1.2, "docker-proxy": 0.6, "host": 104.0}

    ms = CpuMeter.per_request(before, after, requests=1000)

    assert ms == {"web": 2.0, "db": 0.5, "wrk": 0.2, "docker-proxy": 0.1, "host": 4.0, "other": 1.2}


def test_a_run_with_no_requests_does_not_divide_by_zero() -> None:
    snapshot = {"web": 1.0, "host": 2.0}
    assert CpuMeter.per_request(snapshot, {"web": 1.5, "host": 3.0}, requests=0) == {
        "web": 500.0,
        "host": 1000.0,
        "other": 500.0,
    }


def test_the_host_counts_busy_time_only() -> None:
    # Two readings a moment apart: the busy CPU seconds never go backwards.
    first = CpuMeter._host_seconds()
    assert CpuMeter._host_seconds() >= first > 0
