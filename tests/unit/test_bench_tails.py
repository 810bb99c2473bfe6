"""bench/run.py's tails: each endpoint's p99 at half load against the ceiling's, in the same run."""

from __future__ import annotations

from bench.run import render, tails


def point(p99: float, lag: float = 0.0) -> dict[str, float]:
    return {"p50_ms": 1.0, "p90_ms": 2.0, "p99_ms": p99, "send_lag_p99_ms": lag, "failed": 0}


def result(p99: float, lag: float = 0.0) -> dict[str, object]:
    return {"rps": 100.0, "wrk_failed": 0, "0.25": point(1.0), "0.5": point(p99, lag), "0.75": point(1.0)}


def test_each_dynamic_endpoint_is_a_ratio_of_the_ceiling_p99_and_the_references_are_left_out() -> None:
    results = {
        "ceiling_json": result(20.0),
        "static": result(90.0),
        "floor_list": result(70.0),
        "api_list": result(30.0),
        "html_list": result(31.0, lag=6.0),
    }
    assert tails(results) == [
        {"endpoint": "api_list", "p99_ms": 30.0, "ratio": 1.5, "met": True, "client_bound": False},
        {"endpoint": "html_list", "p99_ms": 31.0, "ratio": 1.55, "met": False, "client_bound": True},
    ]


def test_without_a_ceiling_there_is_no_ratio() -> None:
    assert tails({"api_list": result(30.0)}) == []
    assert tails({"ceiling_json": result(0.0), "api_list": result(30.0)}) == []


def test_the_report_shows_the_tails_table() -> None:
    report = {
        "date": "2026-12-01T00:00:00Z",
        "commit": "abc",
        "machine": {"nproc": 2, "cpu": "x", "memory_gib": 1, "kernel": "k", "docker": "d", "load_avg_start": [0, 0, 0]},
        "settings": {
            "gunicorn": {"worker_class": "gthread", "workers": 5, "threads": 4},
            "wrk": "wrk",
            "warmup_seconds": 2,
            "seconds_per_point": 5,
            "repeats": 3,
        },
        "seed": {
            "notes": {"small": 1000, "large": 100000},
            "seed": 1,
            "seconds": 1,
            "common_word": "a",
            "rare_word": "b",
        },
        "results": {"ceiling_json": result(20.0), "api_list": result(40.0)},
    }
    text = render(report)
    assert "| api_list | 40.0 | 2.0 | no |" in text
    assert "Met by 0 of 1." in text
