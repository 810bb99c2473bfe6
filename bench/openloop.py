"""An open-loop HTTP/1.1 load generator: sends at a fixed rate, whatever the server does.

    python bench/openloop.py https://127.0.0.1:8443/ceiling --rate 200 --seconds 10 \
        [-H "Authorization: Bearer ..."] [--method POST --body '{"title": "x"}']

A closed-loop client (wrk, hey) waits for a response before sending the
next request, so when the server stalls it stops asking and the stall hides
in a few slow samples ("coordinated omission"). Here request i is *scheduled*
at start + i / rate, sent then (or as soon as the event loop can), on an
idle keep-alive connection or a new one, and its latency is
completion time - scheduled time. A server that falls behind therefore shows
its queueing delay in every request that waited.

With --closed it is the opposite, a closed loop: --threads connections per
process each send the next request as soon as the last one is answered,
for --seconds, and achieved_rps is the most the server answers this client
(the overload fault uses it to find 3 x the maximum).

Standard library only (threads with blocking TLS sockets: asyncio's TLS layer
is pure Python and could not keep up here), so it runs anywhere the bench
does; each of up to --threads threads per process takes the next scheduled
slot, sleeps until it and sends on its own keep-alive connection. Above
1,000 req/s the schedule is split over two processes. TLS is not verified
(loopback, self-signed). Prints one JSON object:
sent, ok (2xx/3xx), non_2xx, errors, achieved_rps, p50_ms/p90_ms/p99_ms/max_ms,
and send_lag_p99_ms: how late the client itself was in sending; when that is
more than a millisecond or two, the client, not the server, was the bottleneck.
ok_p50_ms/ok_p99_ms/ok_max_ms and refused_p50_ms/refused_p99_ms/refused_max_ms
split the latencies into answers that served the request (2xx/3xx) and the
rest (e.g. 503 from load shedding).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import socket
import ssl
import sys
import threading
import time
from urllib.parse import urlsplit

TIMEOUT = 10.0  # seconds for one request; longer counts as an error


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values`` by nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 1))))
    return ordered[rank - 1]


class Target:
    """Where to send and the raw request bytes (built once)."""

    def __init__(self, url: str, method: str, headers: dict[str, str], body: bytes) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.tls: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self.tls = ssl.create_default_context()
            self.tls.check_hostname = False
            self.tls.verify_mode = ssl.CERT_NONE  # loopback bench against a self-signed certificate
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers)
        host_header = headers.pop("Host", f"localhost:{self.port}")
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host_header}", "User-Agent: notes-openloop"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_hostname="localhost")
        return sock


def exchange(sock: socket.socket, request: bytes) -> tuple[int, bool]:
    """Send ``request``, read the whole response; (status, keep the connection)."""
    sock.sendall(request)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response head")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lower = head.lower()
    status = int(head[9:12])
    keep = b"\r\nconnection: close" not in lower
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.find(b"\r\n", at + 2)
        length = int(lower[at + 17 : end if end > 0 else len(lower)])
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-body")
            rest += chunk
    elif b"\r\ntransfer-encoding: chunked" in lower:
        while not rest.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-body")
            rest += chunk
    else:
        keep = False
    return status, keep


def send_one(target: Target, sock: socket.socket | None) -> tuple[socket.socket | None, int | None, str]:
    """One request on ``sock`` (a new connection when None).

    Returns the socket to reuse (None once closed), the status (None on a
    failure) and the failure's class name ("" on success).
    """
    try:
        if sock is None:
            sock = target.connect()
        status, keep = exchange(sock, target.request)
    except (OSError, ValueError) as exc:
        if sock is not None:
            sock.close()
        return None, None, type(exc).__name__
    if not keep:
        sock.close()
        sock = None
    return sock, status, ""


def _worker_process(args: tuple[str, str, dict[str, str], bytes, float, float, float, int, int]) -> dict[str, object]:
    """One process: ``threads`` threads sending request i at start + i / rate."""
    url, method, headers, body, rate, seconds, start, threads, offset_num = args
    target = Target(url, method, headers, body)
    total = int(rate * seconds)
    counter = itertools.count()
    latencies: list[float] = []
    ok_latencies: list[float] = []
    lags: list[float] = []
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    lock = threading.Lock()
    phase = offset_num / rate  # processes interleave their schedules

    def loop() -> None:
        sock: socket.socket | None = None
        while True:
            i = next(counter)
            if i >= total:
                break
            scheduled = start + phase + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            sock, status, error = send_one(target, sock)
            done = time.perf_counter()
            if status is None:
                with lock:
                    errors[error] = errors.get(error, 0) + 1
                continue
            with lock:
                (ok_latencies if 200 <= status < 400 else latencies).append(done - scheduled)
                lags.append(sent - scheduled)
                statuses[status] = statuses.get(status, 0) + 1
        if sock is not None:
            sock.close()

    pool = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(seconds + TIMEOUT + 30)
    return {
        "ok_latencies": ok_latencies,
        "refused_latencies": latencies,
        "lags": lags,
        "statuses": statuses,
        "errors": errors,
        "sent": total,
    }


def _closed_process(args: tuple[str, str, dict[str, str], bytes, float, float, int]) -> dict[str, object]:
    """One process: ``threads`` connections, each sending its next request when the last is answered."""
    url, method, headers, body, seconds, start, threads = args
    target = Target(url, method, headers, body)
    ok_latencies: list[float] = []
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    sent = itertools.count()
    lock = threading.Lock()
    deadline = start + seconds

    def loop() -> None:
        sock: socket.socket | None = None
        delay = start - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            next(sent)
            sock, status, error = send_one(target, sock)
            if status is None:
                with lock:
                    errors[error] = errors.get(error, 0) + 1
                continue
            with lock:
                (ok_latencies if 200 <= status < 400 else latencies).append(time.perf_counter() - began)
                statuses[status] = statuses.get(status, 0) + 1
        if sock is not None:
            sock.close()

    pool = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(seconds + TIMEOUT + 30)
    return {
        "ok_latencies": ok_latencies,
        "refused_latencies": latencies,
        "lags": [],
        "statuses": statuses,
        "errors": errors,
        "sent": next(sent),
    }


def run(
    url: str,
    rate: float,
    seconds: float,
    method: str,
    headers: dict[str, str],
    body: bytes,
    threads: int = 64,
    procs: int = 1,
    closed: bool = False,
) -> dict[str, object]:
    """Send ``rate`` requests a second for ``seconds`` (or, ``closed``, as fast as
    ``threads`` x ``procs`` connections are answered); the latency summary as a dict."""
    start = time.perf_counter() + 0.3  # perf_counter is CLOCK_MONOTONIC: the same clock in every process
    if closed:
        closed_jobs = [(url, method, headers, body, seconds, start, threads)] * procs
        if procs == 1:
            parts = [_closed_process(closed_jobs[0])]
        else:
            with multiprocessing.get_context("fork").Pool(procs) as pool:
                parts = pool.map(_closed_process, closed_jobs)
    else:
        jobs = [(url, method, headers, body, rate / procs, seconds, start, threads, n) for n in range(procs)]
        # Each process gets rate/procs; offset n/rate interleaves them into one even schedule.
        jobs = [(*job[:8], job[8] / procs) for job in jobs]
        if procs == 1:
            parts = [_worker_process(jobs[0])]
        else:
            with multiprocessing.get_context("fork").Pool(procs) as pool:
                parts = pool.map(_worker_process, jobs)
    ok_latencies = [x * 1000 for p in parts for x in p["ok_latencies"]]  # type: ignore[attr-defined]
    refused_latencies = [x * 1000 for p in parts for x in p["refused_latencies"]]  # type: ignore[attr-defined]
    latencies = ok_latencies + refused_latencies
    lags = [x * 1000 for p in parts for x in p["lags"]]  # type: ignore[attr-defined]
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    for p in parts:
        for k, v in p["statuses"].items():  # type: ignore[attr-defined]
            statuses[k] = statuses.get(k, 0) + v
        for k, v in p["errors"].items():  # type: ignore[attr-defined]
            errors[k] = errors.get(k, 0) + v
    ok = sum(n for s, n in statuses.items() if 200 <= s < 400)
    return {
        "rate": rate,
        "seconds": seconds,
        "sent": sum(int(p["sent"]) for p in parts),  # type: ignore[call-overload]
        "ok": ok,
        "non_2xx": sum(statuses.values()) - ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors,
        "achieved_rps": round(ok / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p90_ms": round(percentile(latencies, 0.90), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "max_ms": round(max(latencies), 2) if latencies else float("nan"),
        "send_lag_p99_ms": round(percentile(lags, 0.99), 2),
        "ok_p50_ms": round(percentile(ok_latencies, 0.50), 2),
        "ok_p99_ms": round(percentile(ok_latencies, 0.99), 2),
        "ok_max_ms": round(max(ok_latencies), 2) if ok_latencies else float("nan"),
        "refused_p50_ms": round(percentile(refused_latencies, 0.50), 2),
        "refused_p99_ms": round(percentile(refused_latencies, 0.99), 2),
        "refused_max_ms": round(max(refused_latencies), 2) if refused_latencies else float("nan"),
        "procs": procs,
        "closed": closed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=0.0, help="requests per second (open loop)")
    parser.add_argument("--closed", action="store_true", help="closed loop: --threads connections per process")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--method", default="GET")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--body", default="")
    parser.add_argument(
        "--threads", type=int, default=64, help="sending threads per process (the most requests in flight)"
    )
    parser.add_argument("--procs", type=int, default=0, help="client processes; default: 1, or 2 above 1,000 req/s")
    args = parser.parse_args(argv)
    if (args.rate <= 0 and not args.closed) or args.seconds <= 0:
        parser.error("--rate (or --closed) and --seconds must be above zero")
    headers = {}
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep:
            parser.error(f"header {item!r} is not 'Name: value'")
        headers[name.strip()] = value.strip()
    procs = args.procs or (2 if args.rate > 1000 else 1)
    result = run(
        args.url,
        args.rate,
        args.seconds,
        args.method.upper(),
        headers,
        args.body.encode(),
        args.threads,
        procs,
        closed=args.closed,
    )
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
