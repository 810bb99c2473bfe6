"""`make bench`: load-test the real compose stack and write docs/performance.{md,json}.

    .venv/bin/python bench/run.py            # everything, ~20-25 minutes on 2 cores
    BENCH_SECONDS=5 BENCH_REPEATS=3 BENCH_MATRIX=1 BENCH_KEEP=0   (the defaults)

1. Starts docker-compose.yml + bench/docker-compose.bench.yml (production
   settings: nginx TLS -> gunicorn -> Postgres, plus the framework ceiling and the data floors of
   bench/ceiling_app.py)
   under its own project name, free loopback ports and a free frontend subnet.
2. Seeds users with 1,000 and 100,000 notes (bench/seed.py, in the web container).
3. For each endpoint, BENCH_REPEATS times: maximum throughput with wrk
   (closed loop, after a warm-up), then latency at 25 %, 50 % and 75 % of that
   maximum with bench/openloop.py (open loop, timed from the scheduled send).
   Reports medians over the repeats.
   Around each wrk run it reads where the host's CPU went (each container,
   wrk, Docker's proxy, the rest), per request.
4. EXPLAIN ANALYZE of the list and search queries (bench/explain.py), RSS per
   gunicorn worker, image sizes; with BENCH_MATRIX=1, worker classes/counts.
5. Export and import at 100k notes, once each, not under load (bench/transfer.py):
   the small and the large user's exports through the API, then the large
   one's imported into an empty user, each timed with the serving gunicorn
   worker's RSS before and its peak during; on the stack's Postgres (from
   inside the web container, straight to gunicorn) and then on the embedded
   SQLite default (the app's gunicorn on 127.0.0.1 with a temporary SQLite
   file seeded by bench/seed.py). Runs in every full run, and with BENCH_ONLY
   when it names `transfer` (e.g. BENCH_ONLY=ceiling_json,transfer);
   BENCH_TRANSFER_SQLITE=0 leaves the SQLite half out.
6. Writes docs/performance.json and the generated part of docs/performance.md
   (between the bench:begin/end markers; the rest of the file is kept).
7. Tears the stack down with `down -v`, however it ends (BENCH_KEEP=1 keeps it).

Load goes to 127.0.0.1 only; every phase is bounded in time.
"""

from __future__ import annotations

import ipaddress
import json
import os
import platform
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import urllib3

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
COMPOSE_FILES = [ROOT / "docker-compose.yml", BENCH / "docker-compose.bench.yml"]
DOCS_MD = ROOT / "docs" / "performance.md"
DOCS_JSON = ROOT / "docs" / "performance.json"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
MATRIX = os.environ.get("BENCH_MATRIX", "1") == "1"
KEEP = os.environ.get("BENCH_KEEP", "0") == "1"
ONLY = [n for n in os.environ.get("BENCH_ONLY", "").split(",") if n]
TRANSFER = not ONLY or "transfer" in ONLY
TRANSFER_SQLITE = os.environ.get("BENCH_TRANSFER_SQLITE", "1") == "1"
FRACTIONS = (0.25, 0.50, 0.75)
CMD_TIMEOUT = 600

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def sh(cmd: list[str], *, timeout: float = CMD_TIMEOUT, check: bool = True, **kw: Any) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[:6])}... failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_subnet() -> str:
    """A /24 in 172.16.0.0/16 that no Docker network uses."""
    ids = sh(["docker", "network", "ls", "-q"]).split()
    used = []
    if ids:
        for line in sh(["docker", "network", "inspect", *ids, "--format", "{{json .IPAM.Config}}"]).splitlines():
            for cfg in json.loads(line) or []:
                if cfg.get("Subnet"):
                    used.append(ipaddress.ip_network(cfg["Subnet"], strict=False))
    for third in secrets.SystemRandom().sample(range(16, 238), 222):
        net = ipaddress.ip_network(f"172.16.{third}.0/24")
        if not any(net.overlaps(u) for u in used if u.version == 4):
            return str(net)
    raise RuntimeError("no free /24 in 172.16.0.0/16")


# --- the machine and the code under test ------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    except (OSError, AttributeError):
        pass
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "load_avg_start": [round(x, 2) for x in os.getloadavg()],
        "docker": sh(["docker", "version", "--format", "{{.Server.Version}}"], check=False).strip(),
    }


def commit() -> str:
    rev = sh(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], check=False).strip() or "unknown"
    dirty = sh(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], check=False).strip()
    return rev + ("-dirty" if dirty else "")


# --- the stack ---------------------------------------------------------------


class Stack:
    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="notes-bench-"))
        self.project = f"notes-bench-{uuid.uuid4().hex[:8]}"
        self.https_port, self.ceiling_port = free_port(), free_port()
        self.env_file = self.workdir / "bench.env"
        self.env: dict[str, str] = {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
            "SERVER_NAME": "localhost",
            "HTTP_BIND": "127.0.0.1",
            "HTTP_PORT": str(free_port()),
            "HTTPS_PORT": str(self.https_port),
            "BENCH_CEILING_PORT": str(self.ceiling_port),
            "FRONTEND_SUBNET": free_subnet(),
            "NOTES_IMAGE_TAG": "bench",
        }
        self.write_env()
        self.base = f"https://localhost:{self.https_port}"
        self.ceiling = f"https://localhost:{self.ceiling_port}"

    def write_env(self) -> None:
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in self.env.items()))
        self.env_file.chmod(0o600)

    def compose(
        self, *args: str, timeout: float = CMD_TIMEOUT, check: bool = True, env: dict[str, str] | None = None
    ) -> str:
        files = [a for f in COMPOSE_FILES for a in ("-f", str(f))]
        cmd = ["docker", "compose", "-p", self.project, "--project-directory", str(ROOT), *files]
        return sh([*cmd, "--env-file", str(self.env_file), *args], timeout=timeout, check=check)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/readyz", verify=False, timeout=5).status_code == 200:  # noqa: S501
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise RuntimeError(f"stack not ready after {timeout}s")


@contextmanager
def running_stack() -> Iterator[Stack]:
    stack = Stack()
    try:
        log(f"building images (project {stack.project})")
        stack.compose("build", timeout=900)
        log("starting the stack")
        stack.compose("up", "-d", "--wait", "--wait-timeout", "300", timeout=420)
        stack.wait_ready()
        yield stack
    finally:
        if KEEP:
            log(f"BENCH_KEEP=1: stack {stack.project} left running (env {stack.env_file})")
        else:
            log("tearing down (down -v)")
            stack.compose("down", "-v", "--remove-orphans", "--timeout", "20", check=False, timeout=180)
            shutil.rmtree(stack.workdir, ignore_errors=True)


# --- measuring ---------------------------------------------------------------


class Endpoint:
    def __init__(
        self, name: str, url: str, headers: dict[str, str] | None = None, body: str = "", expect: int = 200
    ) -> None:
        self.name, self.url, self.body, self.expect = name, url, body, expect
        self.headers = {**(headers or {}), **({"Content-Type": "application/json"} if body else {})}

    @property
    def method(self) -> str:
        return "POST" if self.body else "GET"

    def check(self) -> None:
        """One request with requests: the endpoint answers as expected before it is loaded."""
        r = requests.request(
            self.method, self.url, headers=self.headers, data=self.body.encode() or None, verify=False, timeout=30
        )
        if r.status_code != self.expect:
            raise RuntimeError(
                f"{self.name}: {self.method} {self.url} gave {r.status_code}, expected {self.expect}: {r.text[:300]}"
            )


def wrk(ep: Endpoint, seconds: float) -> dict[str, Any]:
    """Closed-loop maximum throughput; 2 threads, CONNECTIONS connections."""
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{max(1, int(seconds))}s", "--latency", "--timeout", "10s"]
    for k, v in ep.headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if ep.body:
        script = Path(tempfile.mkstemp(suffix=".lua", prefix="bench-")[1])
        body = json.dumps(ep.body)  # a Lua-compatible double-quoted string
        script.write_text(f'wrk.method = "POST"\nwrk.body = {body}\nwrk.headers["Content-Type"] = "application/json"\n')
        cmd += ["-s", str(script)]
    out = sh([*cmd, ep.url], timeout=seconds + 60)
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    sock = (
        sum(int(x) for x in m.groups())
        if (m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out))
        else 0
    )
    return {"rps": rps, "requests": total, "non_2xx": bad, "socket_errors": sock}


def openloop(ep: Endpoint, rate: float, seconds: float) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(BENCH / "openloop.py"),
        ep.url,
        "--rate",
        f"{rate:.1f}",
        "--seconds",
        str(seconds),
        "--method",
        ep.method,
    ]
    for k, v in ep.headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if ep.body:
        cmd += ["--body", ep.body]
    return json.loads(sh(cmd, timeout=seconds + 60))


def median(values: list[float]) -> float:
    clean = [v for v in values if v == v]  # drop NaN
    return round(statistics.median(clean), 2) if clean else float("nan")


class CpuMeter:
    """Where the host's CPU goes during a wrk run: per container, wrk, Docker's proxy, the rest.

    Cumulative CPU time read before and after a run: each of the stack's
    containers from the Docker API (its cgroup's usage), wrk from this
    process's waited-for children, docker-proxy from /proc, and the whole
    host from /proc/stat; "other" is the host minus all of those (the bench
    itself, dockerd, other jobs on a shared host).
    """

    def __init__(self, stack: Stack) -> None:
        import docker  # a dev requirement; only the bench needs it

        self.api = docker.from_env().api
        out = stack.compose("ps", "--format", "{{.ID}} {{.Service}}")
        self.containers = dict(line.split()[::-1] for line in out.splitlines() if line.strip())

    def _container_seconds(self) -> dict[str, float]:
        return {
            service: self.api.stats(cid, stream=False, one_shot=True)["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9
            for service, cid in self.containers.items()
        }

    @staticmethod
    def _proxy_seconds() -> float:
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)
                if fields[0].endswith("(docker-proxy"):
                    utime, stime = fields[1].split()[11:13]
                    total += int(utime) + int(stime)
            except (OSError, IndexError, ValueError):
                continue
        return total / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _host_seconds() -> float:
        busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in busy[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    def snapshot(self) -> dict[str, float]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            **self._container_seconds(),
            "wrk": children.ru_utime + children.ru_stime,
            "docker-proxy": self._proxy_seconds(),
            "host": self._host_seconds(),
        }

    @staticmethod
    def per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
        """CPU milliseconds per request, per component, between two snapshots."""
        ms = {k: (after[k] - before[k]) * 1000 / max(requests, 1) for k in before}
        ms["other"] = ms["host"] - sum(v for k, v in ms.items() if k != "host")
        return {k: round(v, 3) for k, v in ms.items()}


def measure(ep: Endpoint, meter: CpuMeter | None = None) -> dict[str, Any]:
    """Warm-up, then REPEATS x (wrk maximum, open-loop at each fraction of it); medians."""
    ep.check()
    wrk(ep, WARMUP)
    runs = []
    for rep in range(REPEATS):
        before = meter.snapshot() if meter else None
        top = wrk(ep, SECONDS)
        if meter and before:
            top["cpu_ms"] = CpuMeter.per_request(before, meter.snapshot(), top["requests"])
        points = {}
        for frac in FRACTIONS:
            points[str(frac)] = openloop(ep, max(1.0, top["rps"] * frac), SECONDS)
        runs.append({"max": top, "points": points})
        p50 = points["0.5"]
        log(
            f"  {ep.name} #{rep + 1}: {top['rps']:.0f} req/s (non-2xx {top['non_2xx']}, socket errors {top['socket_errors']}); "
            f"at 50%: p50 {p50['p50_ms']} p90 {p50['p90_ms']} p99 {p50['p99_ms']} ms (client lag p99 {p50['send_lag_p99_ms']} ms)"
        )
    result: dict[str, Any] = {"rps": median([r["max"]["rps"] for r in runs])}
    for frac in FRACTIONS:
        key = str(frac)
        result[key] = {
            q: median([r["points"][key][q] for r in runs])
            for q in ("p50_ms", "p90_ms", "p99_ms", "achieved_rps", "send_lag_p99_ms")
        }
        result[key]["rate"] = median([r["points"][key]["rate"] for r in runs])
        result[key]["failed"] = sum(
            r["points"][key]["non_2xx"] + sum(r["points"][key]["errors"].values()) for r in runs
        )
    result["wrk_failed"] = sum(r["max"]["non_2xx"] + r["max"]["socket_errors"] for r in runs)
    if all("cpu_ms" in r["max"] for r in runs):
        result["cpu_ms"] = {k: median([r["max"]["cpu_ms"][k] for r in runs]) for k in runs[0]["max"]["cpu_ms"]}
    result["runs"] = runs
    return result


# --- setup of the seeded accounts --------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def login_cookie(stack: Stack, email: str, password: str) -> str:
    """Log in through the real form; return the Cookie header a browser would send to /notes/."""
    s = requests.Session()
    s.verify = False
    s.trust_env = False
    s.headers["Referer"] = stack.base + "/"
    page = s.get(stack.base + "/auth/login", timeout=15)
    m = _CSRF.search(page.text)
    if not m:
        raise RuntimeError("login page carries no csrf_token")
    r = s.post(
        stack.base + "/auth/login",
        data={"csrf_token": m.group(1) or m.group(2), "email": email, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    if r.status_code != 302:
        raise RuntimeError(f"login failed: {r.status_code} {r.text[:300]}")
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies if not c.path.startswith("/auth"))


def feature_fixtures(stack: Stack, user: dict[str, Any], cookie: str) -> dict[str, str]:
    """What the share, diff and attachment rows load, made through the API as a user would:
    a share link to one of ``user``'s notes, a second version of another (so it has a
    revision to diff), and a 64 KiB file on a third."""
    s = requests.Session()
    s.verify = False
    s.trust_env = False
    s.headers["Authorization"] = f"Bearer {user['token']}"
    api = stack.base + "/api/v1"
    shared, edited, attached = user["note_ids"][1:4]
    share = s.post(f"{api}/notes/{shared}/shares", json={}, timeout=30)
    share.raise_for_status()
    note = s.get(f"{api}/notes/{edited}", timeout=30)
    note.raise_for_status()
    changed = s.patch(
        f"{api}/notes/{edited}",
        json={"content": note.json()["content"] + "\n\nEdited by the bench."},
        headers={"If-Match": note.headers["ETag"]},
        timeout=30,
    )
    changed.raise_for_status()
    revisions = s.get(f"{api}/notes/{edited}/revisions", timeout=30)
    revisions.raise_for_status()
    revision = revisions.json()["items"][0]["id"]
    upload = s.post(
        f"{api}/notes/{attached}/attachments", files={"file": ("bench.bin", secrets.token_bytes(64 * 1024))}, timeout=30
    )
    upload.raise_for_status()
    return {
        "share_url": share.json()["url"],
        "diff_url": f"{stack.base}/notes/{edited}/history/diff?from={revision}&to=current",
        "file_url": stack.base + upload.json()["content_url"],
    }


def worker_rss(stack: Stack) -> dict[str, Any]:
    """RSS of each gunicorn process in the web container (master first), in MiB."""
    code = (
        "import os,json;out=[]\n"
        "for p in sorted(os.listdir('/proc'),key=lambda x:int(x) if x.isdigit() else 0):\n"
        " if not p.isdigit(): continue\n"
        " try:\n  cmd=open(f'/proc/{p}/cmdline','rb').read().replace(b'\\0',b' ').decode()\n  st=open(f'/proc/{p}/status').read()\n"
        " except OSError: continue\n"
        " if 'gunicorn' in cmd:\n  rss=[int(l.split()[1]) for l in st.splitlines() if l.startswith('VmRSS')]\n"
        "  ppid=[int(l.split()[1]) for l in st.splitlines() if l.startswith('PPid')][0]\n"
        "  out.append({'pid':int(p),'ppid':ppid,'rss_mib':round(rss[0]/1024,1) if rss else 0})\n"
        "print(json.dumps(out))"
    )
    procs = json.loads(stack.compose("exec", "-T", "web", "python", "-c", code))
    master = [p for p in procs if p["ppid"] not in {q["pid"] for q in procs}]
    workers = [p["rss_mib"] for p in procs if p not in master]
    return {
        "master_mib": master[0]["rss_mib"] if master else None,
        "workers": len(workers),
        "worker_mib_median": median(workers) if workers else None,
        "worker_mib_max": max(workers) if workers else None,
    }


def image_sizes() -> dict[str, float]:
    sizes = {}
    for image in ("notes-web:bench", "notes-nginx:bench"):
        raw = sh(["docker", "image", "inspect", image, "--format", "{{.Size}}"], check=False).strip()
        if raw.isdigit():
            sizes[image.split(":")[0]] = round(int(raw) / 1e6, 1)
    return sizes


def recreate_web(stack: Stack, settings: dict[str, str]) -> None:
    """Restart web (and the ceiling) with other gunicorn settings; wait until nginx reaches it."""
    for key in ("GUNICORN_WORKER_CLASS", "WEB_CONCURRENCY", "GUNICORN_THREADS"):
        stack.env.pop(key, None)
    stack.env.update(settings)
    stack.write_env()
    stack.compose("up", "-d", "--wait", "--wait-timeout", "120", "--no-deps", "web", timeout=240)
    time.sleep(4)  # nginx's upstream watcher reloads within 3 s when web's address changed
    stack.compose("exec", "-T", "nginx", "nginx", "-s", "reload", check=False)
    time.sleep(1)
    stack.wait_ready()


def worker_matrix(stack: Stack, endpoints: dict[str, Endpoint]) -> list[dict[str, Any]]:
    """api_list and html_list under several gunicorn worker classes and counts (one wrk + one 50 % point each)."""
    configs = [
        {"GUNICORN_WORKER_CLASS": "gthread", "WEB_CONCURRENCY": "5", "GUNICORN_THREADS": "4"},
        {"GUNICORN_WORKER_CLASS": "sync", "WEB_CONCURRENCY": "5"},
        {"GUNICORN_WORKER_CLASS": "sync", "WEB_CONCURRENCY": "9"},
        {"GUNICORN_WORKER_CLASS": "gthread", "WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "4"},
        {"GUNICORN_WORKER_CLASS": "gthread", "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "8"},
    ]
    rows = []
    for cfg in configs:
        label = f"{cfg['GUNICORN_WORKER_CLASS']} {cfg['WEB_CONCURRENCY']}w" + (
            f"x{cfg['GUNICORN_THREADS']}t" if "GUNICORN_THREADS" in cfg else ""
        )
        log(f"worker matrix: {label}")
        recreate_web(stack, cfg)
        row: dict[str, Any] = {"config": label}
        for name in ("api_list", "html_list"):
            ep = endpoints[name]
            wrk(ep, WARMUP)
            tops = [wrk(ep, SECONDS) for _ in range(REPEATS)]
            rps = median([t["rps"] for t in tops])
            point = openloop(ep, max(1.0, rps * 0.5), SECONDS)
            row[name] = {
                "rps": rps,
                "p99_ms_at_50": point["p99_ms"],
                "failed": sum(t["non_2xx"] + t["socket_errors"] for t in tops),
            }
        row["rss"] = worker_rss(stack)
        rows.append(row)
    recreate_web(stack, {})
    return rows


# --- export and import at 100k notes ---------------------------------------------

# (user of the seed, action): exports of the 1k and the 100k user, then the
# 100k export imported into the empty importer.
TRANSFERS = (("small", "export"), ("large", "export"), ("importer", "import"))


def transfers(run: Any, users: dict[str, Any], archive_dir: str) -> dict[str, Any]:
    """The exports and the import of TRANSFERS with ``run(action, token, archive)`` (bench/transfer.py
    beside the gunicorn measured); one failing leaves its error, not the others' figures lost."""
    out: dict[str, Any] = {}
    for name, action in TRANSFERS:
        label = f"{action}_{'large' if name == 'importer' else name}"
        archive = f"{archive_dir}/{'large' if name == 'importer' else name}.zip"
        try:
            result = run(action, users[name]["token"], archive)
            notes = users["large" if name == "importer" else name]["notes"]
            result["notes"] = notes
            result["ms_per_1k_notes"] = round(result["seconds"] * 1000 / notes * 1000, 1)
            out[label] = result
            log(
                f"  {label}: {result['status']} in {result['seconds']} s, {result['bytes'] / 1048576:.1f} MiB, "
                f"worker {result['idle_mib']} -> {result['peak_mib']} MiB (+{result['growth_mib']})"
            )
        except Exception as exc:  # one failing must not lose the others
            log(f"  {label} FAILED: {exc}")
            out[label] = {"error": str(exc)[:500]}
    return out


def transfers_on_stack(stack: Stack, users: dict[str, Any]) -> dict[str, Any]:
    """TRANSFERS on the stack's Postgres, from inside the web container straight to its gunicorn
    (nginx's timeouts and its 120 MiB body limit are the stack's, not what is measured)."""

    def run(action: str, token: str, archive: str) -> dict[str, Any]:
        out = stack.compose(
            "exec", "-T", "web", "python", "/bench/transfer.py", action, "http://localhost:8000", token, archive,
            timeout=1800,
        )  # fmt: skip
        return json.loads(out.strip().splitlines()[-1])

    return transfers(run, users, "/tmp")  # noqa: S108 - the web container's own /tmp


@contextmanager
def sqlite_gunicorn() -> Iterator[dict[str, Any]]:
    """The app's gunicorn (web/gunicorn.conf.py, as `make run`) on 127.0.0.1 and a free port, on a
    temporary SQLite file seeded by bench/seed.py; its master's pid, address and seed. Stopped and
    removed however it ends."""
    workdir = Path(tempfile.mkdtemp(prefix="notes-bench-sqlite-"))
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "dev",
        "FLASK_APP": "app:create_app",
        "DATABASE_URL": f"sqlite:///{workdir}/notes.db",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ATTACHMENTS_DIR": str(workdir / "attachments"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "METRICS_PORT": "0",
        "WEB_CONCURRENCY": "2",
        "BENCH_PASSWORD": secrets.token_urlsafe(16),
        "IMPORT_MAX_NOTES": "200000",
        "IMPORT_MAX_MB": "2048",
        "IMPORTS_PER_WINDOW": "1000000",
        "EXPORTS_PER_WINDOW": "1000000",
        "API_RATE_LIMIT_PER_TOKEN": "1000000000",
        "API_RATE_LIMIT_PER_USER": "1000000000",
        "TMPDIR": str(workdir),
    }
    web = ROOT / "web"
    server = None
    try:
        sh([sys.executable, "-m", "flask", "db", "upgrade"], cwd=web, env=env)
        log("seeding the SQLite file (bench/seed.py)")
        seed = json.loads(sh([sys.executable, str(BENCH / "seed.py")], cwd=web, env=env, timeout=1800).splitlines()[-1])
        log(f"seeded in {seed['seconds']} s")
        with open(workdir / "gunicorn.log", "wb") as output:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"],
                cwd=web,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"gunicorn on SQLite did not start: {(workdir / 'gunicorn.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield {"base": base, "master": server.pid, "seed": seed, "workdir": str(workdir)}
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def transfers_on_sqlite() -> dict[str, Any]:
    """TRANSFERS on the embedded SQLite default, bench/transfer.py run here beside its gunicorn."""
    with sqlite_gunicorn() as server:

        def run(action: str, token: str, archive: str) -> dict[str, Any]:
            cmd = [sys.executable, str(BENCH / "transfer.py"), action, server["base"], token, archive]
            out = sh([*cmd, "--master", str(server["master"])], timeout=1800)
            return json.loads(out.strip().splitlines()[-1])

        return transfers(run, server["seed"]["users"], server["workdir"])


# --- the run -------------------------------------------------------------------


def main() -> int:
    for tool in ("docker", "wrk"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: `{tool}` is not installed (apt-get install {'wrk' if tool == 'wrk' else 'docker.io'})")
    started = time.monotonic()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit(),
        "machine": machine(),
        "settings": {
            "seconds_per_point": SECONDS,
            "repeats": REPEATS,
            "warmup_seconds": WARMUP,
            "wrk": f"wrk -t2 -c{CONNECTIONS} -d{int(SECONDS)}s",
            "fractions": list(FRACTIONS),
        },
    }
    with running_stack() as stack:
        gunicorn = stack.compose(
            "exec",
            "-T",
            "web",
            "python",
            "-c",
            "import runpy;c=runpy.run_path('/app/gunicorn.conf.py');print(c['worker_class'],c['workers'],c['threads'])",
        ).split()
        report["settings"]["gunicorn"] = {
            "worker_class": gunicorn[0],
            "workers": int(gunicorn[1]),
            "threads": int(gunicorn[2]),
        }
        password = secrets.token_urlsafe(16)
        log("seeding 1,000 + 100,000 notes (bench/seed.py in the web container)")
        seed = json.loads(
            stack.compose(
                "exec", "-T", "-e", f"BENCH_PASSWORD={password}", "web", "python", "/bench/seed.py", timeout=1800
            )
            .strip()
            .splitlines()[-1]
        )
        report["seed"] = {
            "seconds": seed["seconds"],
            "seed": seed["seed"],
            "common_word": seed["common_word"],
            "rare_word": seed["rare_word"],
            "notes": {k: v["notes"] for k, v in seed["users"].items()},
        }
        log(f"seeded in {seed['seconds']} s")
        small, large, writer = (seed["users"][k] for k in ("small", "large", "writer"))
        cookie = login_cookie(stack, small["email"], password)
        large_cookie = login_cookie(stack, large["email"], password)
        extras = feature_fixtures(stack, small, cookie)

        def bearer(user: dict[str, Any]) -> dict[str, str]:
            return {"Authorization": f"Bearer {user['token']}"}

        css = "/static/css/app.css"
        body = json.dumps({"title": "Bench note", "content": "Written by the bench. " * 20, "tags": ["bench", "work"]})
        endpoints = {
            "ceiling_json": Endpoint("ceiling_json", stack.ceiling + "/ceiling"),
            # api_list's statements and JSON in a bare view: see bench/ceiling_app.py.
            "floor_list": Endpoint("floor_list", stack.ceiling + "/floor", bearer(small)),
            "static": Endpoint("static", stack.base + css),
            "api_list": Endpoint("api_list", stack.base + "/api/v1/notes?limit=20", bearer(small)),
            "api_get": Endpoint("api_get", stack.base + f"/api/v1/notes/{small['note_ids'][0]}", bearer(small)),
            # The search's statements and JSON in a bare view, next to the endpoint it is the floor of.
            "floor_search": Endpoint(
                "floor_search", stack.ceiling + f"/floor/search?q={seed['common_word']}", bearer(small)
            ),
            "search_common": Endpoint(
                "search_common", stack.base + f"/api/v1/notes?q={seed['common_word']}", bearer(small)
            ),
            "search_rare": Endpoint("search_rare", stack.base + f"/api/v1/notes?q={seed['rare_word']}", bearer(small)),
            # The notes page's statements and template in a bare view, at the page's own path.
            "floor_html_list": Endpoint("floor_html_list", stack.ceiling + "/notes/", {"Cookie": cookie}),
            "html_list": Endpoint("html_list", stack.base + "/notes/", {"Cookie": cookie}),
            "api_list_100k": Endpoint("api_list_100k", stack.base + "/api/v1/notes?limit=20", bearer(large)),
            "search_common_100k": Endpoint(
                "search_common_100k", stack.base + f"/api/v1/notes?q={seed['common_word']}", bearer(large)
            ),
            "search_rare_100k": Endpoint(
                "search_rare_100k", stack.base + f"/api/v1/notes?q={seed['rare_word']}", bearer(large)
            ),
            "html_list_100k": Endpoint("html_list_100k", stack.base + "/notes/", {"Cookie": large_cookie}),
            "tags": Endpoint("tags", stack.base + "/notes/tags", {"Cookie": cookie}),
            "tags_100k": Endpoint("tags_100k", stack.base + "/notes/tags", {"Cookie": large_cookie}),
            "note_view": Endpoint("note_view", stack.base + f"/notes/{small['note_ids'][0]}", {"Cookie": cookie}),
            "note_view_100k": Endpoint(
                "note_view_100k", stack.base + f"/notes/{large['note_ids'][0]}", {"Cookie": large_cookie}
            ),
            # The features issue's pages: a shared note (no login), a revision's diff, and a
            # file sent by nginx after the app's check (X-Accel-Redirect).
            "share_page": Endpoint("share_page", extras["share_url"]),
            "revision_diff": Endpoint("revision_diff", extras["diff_url"], {"Cookie": cookie}),
            "attachment_download": Endpoint("attachment_download", extras["file_url"], bearer(small)),
            # Last: it adds notes (to the writer, so the other users keep their sizes).
            "api_create": Endpoint("api_create", stack.base + "/api/v1/notes", bearer(writer), body, expect=201),
        }
        results: dict[str, Any] = {}
        errors: dict[str, str] = {}
        report["errors"] = errors
        meter = CpuMeter(stack)
        for name, ep in endpoints.items():
            if ONLY and name not in ONLY:
                continue
            log(f"measuring {name}")
            try:
                results[name] = measure(ep, meter)
            except Exception as exc:  # one broken endpoint must not lose the others' figures
                log(f"  {name} FAILED: {exc}")
                errors[name] = str(exc)[:500]
        report["results"] = results
        log("EXPLAIN ANALYZE of list and search queries")
        report["explain"] = json.loads(
            stack.compose(
                "exec",
                "-T",
                "-e",
                f"BENCH_COMMON={seed['common_word']}",
                "-e",
                f"BENCH_RARE={seed['rare_word']}",
                "web",
                "python",
                "/bench/explain.py",
                timeout=600,
            )
            .strip()
            .splitlines()[-1]
        )
        report["rss"] = worker_rss(stack)
        report["images_mb"] = image_sizes()
        if MATRIX and not ONLY:
            report["matrix"] = worker_matrix(stack, endpoints)
        if TRANSFER:
            # Last on the stack: the import adds 100,000 notes to the database.
            log("export and import at 100k notes on Postgres (bench/transfer.py in the web container)")
            report["transfer"] = {"postgres": transfers_on_stack(stack, seed["users"])}
    if TRANSFER and TRANSFER_SQLITE:
        log("export and import at 100k notes on the embedded SQLite default")
        try:
            report.setdefault("transfer", {})["sqlite"] = transfers_on_sqlite()
        except Exception as exc:  # the stack's figures are written anyway
            log(f"  SQLite transfer FAILED: {exc}")
            report.setdefault("transfer", {})["sqlite"] = {"error": str(exc)[:500]}
    report["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    report["minutes"] = round((time.monotonic() - started) / 60, 1)
    write_docs(report)
    log(f"done in {report['minutes']} min; wrote {DOCS_MD.relative_to(ROOT)} and {DOCS_JSON.relative_to(ROOT)}")
    return 0


# --- the report ----------------------------------------------------------------

# Each endpoint that has a data floor (bench/ceiling_app.py), and that floor.
FLOORS = {"api_list": "floor_list", "search_common": "floor_search", "html_list": "floor_html_list"}

NAMES = [
    "api_list",
    "api_get",
    "api_create",
    "search_common",
    "search_rare",
    "html_list",
    "static",
    "api_list_100k",
    "search_common_100k",
    "html_list_100k",
    "tags",
    "tags_100k",
    "note_view",
    "note_view_100k",
    "share_page",
    "revision_diff",
    "attachment_download",
]


TRANSFER_SUMMARY = ("notes", "seconds", "ms_per_1k_notes", "bytes", "idle_mib", "peak_mib", "growth_mib")


def write_docs(report: dict[str, Any]) -> None:
    results = report.get("results", {})
    (ROOT / "bench" / "last-run.json").write_text(json.dumps(report, indent=1) + "\n")
    summary: dict[str, Any] = {
        "date": report["date"],
        "commit": report["commit"],
        "ceiling_json_rps": results.get("ceiling_json", {}).get("rps"),
        "static_rps": results.get("static", {}).get("rps"),
        **{f"{floor}_rps": results.get(floor, {}).get("rps") for floor in FLOORS.values()},
        "x_floor": {name: ratio for name in FLOORS if (ratio := floor_ratio(results, name)) is not None},
        "endpoints": {
            name: {"rps": r["rps"], **{q: r["0.5"][q] for q in ("p50_ms", "p90_ms", "p99_ms")}}
            for name in [*NAMES, "search_rare_100k"]
            if (r := results.get(name))
        },
        "tails": tails(results),
        "transfer": {
            db: {label: {k: r.get(k) for k in TRANSFER_SUMMARY} for label, r in runs.items() if "error" not in r}
            for db, runs in report.get("transfer", {}).items()
            if "error" not in runs
        },
        "machine": report["machine"],
        "settings": report["settings"],
    }
    DOCS_JSON.write_text(json.dumps(summary, indent=2) + "\n")
    generated = render(report)
    text = DOCS_MD.read_text() if DOCS_MD.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    DOCS_MD.write_text(f"{head}{BEGIN}\n{generated}\n{END}{tail}")


# Not the app's own endpoints: the ceilings and the floors, which the tails are compared to.
REFERENCE = ("ceiling_json", "static")
TAIL_TARGET = 1.5


def tails(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each dynamic endpoint's p99 at 50 % of its maximum as a ratio of the ceiling's in the same run.

    An absolute p99 cannot be met on a shared host (the bare ceiling misses
    it), so issue 17 asks for this ratio instead. Empty when the run has no
    ceiling; a point where the client itself sent late is flagged, since its
    p99 includes the client's delay.
    """
    ceiling = results.get("ceiling_json", {}).get("0.5")
    if not ceiling or not ceiling.get("p99_ms"):
        return []
    rows = []
    for name, r in results.items():
        if name in REFERENCE or name.startswith("floor_") or "0.5" not in r:
            continue
        p99 = r["0.5"]["p99_ms"]
        ratio = round(p99 / ceiling["p99_ms"], 2)
        rows.append(
            {
                "endpoint": name,
                "p99_ms": p99,
                "ratio": ratio,
                "met": ratio <= TAIL_TARGET,
                "client_bound": (r["0.5"].get("send_lag_p99_ms") or 0) > 5,
            }
        )
    return rows


def floor_ratio(results: dict[str, Any], name: str) -> float | None:
    """``name``'s max req/s over its data floor's, or None when either was not measured (or the floor gave 0)."""
    floor = results.get(FLOORS.get(name, ""), {}).get("rps")
    rps = results.get(name, {}).get("rps")
    return round(rps / floor, 2) if rps and floor else None


def render(report: dict[str, Any]) -> str:
    results = report.get("results", {})
    m, s = report["machine"], report["settings"]
    ceiling = results.get("ceiling_json", {}).get("rps")
    lines = [
        f"_Generated by `make bench` on {report['date']} at commit `{report['commit']}`, in {report.get('minutes', '?')} min._",
        "",
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB RAM, kernel {m['kernel']}, Docker {m['docker']}; "
        f"load average {m['load_avg_start']} at the start, {m.get('load_avg_end')} at the end (the host is shared).",
        f"- Settings: gunicorn {s['gunicorn']['worker_class']} x {s['gunicorn']['workers']} workers x {s['gunicorn']['threads']} threads; "
        f"maximum with `{s['wrk']}` after a {s['warmup_seconds']} s warm-up; latency with bench/openloop.py for {s['seconds_per_point']} s "
        f"per rate; {s['repeats']} repeats, medians shown. Load generators and the stack share the same CPUs.",
        f"- Data: users with {report['seed']['notes']['small']:,} and {report['seed']['notes']['large']:,} notes (seed {report['seed']['seed']}, "
        f"seeded in {report['seed']['seconds']} s); common word `{report['seed']['common_word']}` (~20 % of notes), rare word "
        f"`{report['seed']['rare_word']}` (~0.1 %).",
        "- Reproduce: `make bench` (or `BENCH_SECONDS=10 make bench` for longer points).",
        "",
        "| endpoint | max req/s (wrk) | x ceiling | x floor | p50 / p90 / p99 ms at 25 % | at 50 % | at 75 % | failed |",
        "| --- | ---: | ---: | ---: | --- | --- | --- | ---: |",
    ]
    for name, r in results.items():
        cells = []
        for frac in ("0.25", "0.5", "0.75"):
            p = r[frac]
            lag = " (client-bound)" if (p["send_lag_p99_ms"] or 0) > 5 else ""
            cells.append(f"{p['p50_ms']} / {p['p90_ms']} / {p['p99_ms']}{lag}")
        ratio = f"{r['rps'] / ceiling:.2f}" if ceiling else "-"
        floor = floor_ratio(results, name)
        lines.append(
            f"| {name} | {r['rps']:.0f} | {ratio} | {'' if floor is None else f'{floor:.2f}'} | {' | '.join(cells)} | {r['wrk_failed'] + sum(r[f]['failed'] for f in ('0.25', '0.5', '0.75'))} |"
        )
    for name, error in report.get("errors", {}).items():
        lines.append(f"| {name} | failed: {error[:150]} | | | | | | |")
    lines += [
        "",
        "ceiling_json is a bare Flask view returning a constant (the framework ceiling). The data floors are bare "
        "Flask views that run an endpoint's own statements on the same database and answer the same "
        "(bench/ceiling_app.py): floor_list api_list's two statements and JSON, floor_search the token lookup "
        "and the app's search for the common word, floor_html_list the notes page's statements and template "
        "(the same HTML but for the CSRF token). All run under the same gunicorn settings behind the same nginx. "
        '"x floor" is api_list, search_common and html_list as a ratio of their floor: what Notes\' own request '
        "path leaves of the bare data work.",
        "",
        "Percentiles are from the open-loop client (latency = completion - scheduled send). "
        '"client-bound": the client itself sent late (p99 lag > 5 ms), so those figures include the client\'s own delay.',
    ]
    tail_rows = tails(results)
    if tail_rows:
        c = results["ceiling_json"]["0.5"]
        met = sum(row["met"] for row in tail_rows)
        lines += [
            "",
            "### Tails as a ratio of the ceiling's (p99 at 50 % of each one's maximum)",
            "",
            f"The ceiling's p99 at 50 % of its maximum was {c['p99_ms']} ms in this run"
            f"{' (client-bound)' if (c.get('send_lag_p99_ms') or 0) > 5 else ''}; the target is at most "
            f"{TAIL_TARGET}× that for every dynamic endpoint. Met by {met} of {len(tail_rows)}.",
            "",
            "| endpoint | p99 ms at 50 % | × the ceiling's | met? |",
            "| --- | ---: | ---: | --- |",
        ]
        for row in tail_rows:
            flag = " (client-bound)" if row["client_bound"] else ""
            lines.append(f"| {row['endpoint']} | {row['p99_ms']}{flag} | {row['ratio']} | {'yes' if row['met'] else 'no'} |")
    cpu_rows = [(name, r["cpu_ms"]) for name, r in results.items() if "cpu_ms" in r]
    if cpu_rows:
        parts = sorted({k for _, c in cpu_rows for k in c} - {"host", "wrk", "docker-proxy", "other"})
        parts += ["wrk", "docker-proxy", "other"]
        lines += [
            "",
            "### Where the CPU goes at maximum throughput (ms of CPU time per request, median of the repeats)",
            "",
            "Measured around each wrk run: each container's cgroup, wrk, Docker's userland proxy, and the whole "
            "host (`/proc/stat`); \"other\" is the host minus the rest (the bench itself, dockerd, other jobs). "
            "With 2 CPUs busy, max req/s is about 2,000 / host ms.",
            "",
            "| endpoint | " + " | ".join(parts) + " | host |",
            "| --- | " + " | ".join("---:" for _ in parts) + " | ---: |",
        ]
        for name, c in cpu_rows:
            lines.append(f"| {name} | " + " | ".join(str(c.get(k, "-")) for k in parts) + f" | {c['host']} |")
    rss = report.get("rss", {})
    if rss:
        lines += [
            "",
            f"RSS after the run: gunicorn master {rss['master_mib']} MiB, {rss['workers']} workers, median {rss['worker_mib_median']} MiB, "
            f"max {rss['worker_mib_max']} MiB each. Images: "
            + ", ".join(f"`{k}` {v} MB" for k, v in report.get("images_mb", {}).items())
            + ".",
        ]
    lines += render_transfer(report.get("transfer", {}))
    matrix = report.get("matrix")
    if matrix:
        lines += [
            "",
            "### Worker classes and counts (api_list and html_list; max req/s and p99 at 50 % of it)",
            "",
            "| gunicorn | api_list req/s | api_list p99 ms | html_list req/s | html_list p99 ms | worker RSS MiB (median) |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in matrix:
            lines.append(
                f"| {row['config']} | {row['api_list']['rps']:.0f} | {row['api_list']['p99_ms_at_50']} | {row['html_list']['rps']:.0f} | "
                f"{row['html_list']['p99_ms_at_50']} | {row['rss']['worker_mib_median']} x {row['rss']['workers']} |"
            )
    explain = report.get("explain")
    if explain:
        lines += [
            "",
            "### Database time per request (EXPLAIN ANALYZE, median of 11, planning + execution)",
            "",
            "| query | statements | DB ms | indexes used | seq scan on notes |",
            "| --- | ---: | ---: | --- | --- |",
        ]
        for name, case in explain.items():
            used = sorted({u for st in case["statements"] for u in st["uses"]})
            seq = any(st["seq_scan_on_notes"] for st in case["statements"])
            lines.append(
                f"| {name} | {len(case['statements'])} | {case['db_ms']} | {', '.join(used) or '-'} | {'yes' if seq else 'no'} |"
            )
        for name in ("list_100k", "list_100k_page2", "search_common_100k", "search_rare_100k"):
            if name in explain:
                lines += ["", f"<details><summary>Plans: {name}</summary>", ""]
                for st in explain[name]["statements"]:
                    lines += ["```", st["plan"], "```", ""]
                lines += ["</details>"]
    return "\n".join(lines)


RSS_TARGET_MIB = 100  # issue 17: a worker's peak at most this far above its idle RSS
PER_NOTE_TARGET = 1.3  # issue 17: the 100k account within 1.3x of the 1k one


def render_transfer(transfer: dict[str, Any]) -> list[str]:
    """The "Export and import at 100k notes" table, or nothing when the run had none."""
    if not transfer:
        return []
    lines = [
        "",
        "### Export and import at 100k notes",
        "",
        "Once each, not under load (bench/transfer.py): the API's export of the 1k and the 100k user, then "
        "the 100k export imported into an empty user, straight to gunicorn (from inside the web container "
        "on Postgres; on 127.0.0.1 for the embedded SQLite default, 2 workers). Worker memory is the serving "
        "gunicorn worker's: its RSS before (idle) and its peak during the request (VmHWM, reset before). "
        f"Targets: peak at most {RSS_TARGET_MIB} MiB above idle; the 100k account within "
        f"{PER_NOTE_TARGET}x of the 1k one, read per note, as an export's work is linear in its notes.",
        "",
        "| database | what | notes | s | ms per 1k notes | archive MiB | worker idle MiB | peak MiB | peak - idle MiB |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    verdicts = []
    for db, runs in transfer.items():
        name = {"postgres": "Postgres", "sqlite": "SQLite"}.get(db, db)
        if "error" in runs:
            lines.append(f"| {name} | failed: {runs['error'][:150]} | | | | | | | |")
            continue
        for label, r in runs.items():
            if "error" in r:
                lines.append(f"| {name} | {label} failed: {r['error'][:150]} | | | | | | | |")
                continue
            over = " (over)" if r["growth_mib"] > RSS_TARGET_MIB else ""
            lines.append(
                f"| {name} | {label} | {r['notes']:,} | {r['seconds']} | {r['ms_per_1k_notes']} | "
                f"{r['bytes'] / 1048576:.1f} | {r['idle_mib']} | {r['peak_mib']} | {r['growth_mib']}{over} |"
            )
        small, large = runs.get("export_small", {}), runs.get("export_large", {})
        if "ms_per_1k_notes" in small and "ms_per_1k_notes" in large and small["ms_per_1k_notes"]:
            ratio = large["ms_per_1k_notes"] / small["ms_per_1k_notes"]
            met = "met" if ratio <= PER_NOTE_TARGET else "not met"
            verdicts.append(f"{name}: the 100k export takes {ratio:.2f}x the 1k one's time per note ({met})")
    if verdicts:
        lines += ["", "; ".join(verdicts) + "."]
    return lines


if __name__ == "__main__":
    sys.exit(main())
