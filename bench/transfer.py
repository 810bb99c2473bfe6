"""One export or import through the app's API, timed, with the serving gunicorn worker's memory.

    python transfer.py export BASE TOKEN ARCHIVE [--master PID]   # GET /api/v1/export into ARCHIVE
    python transfer.py import BASE TOKEN ARCHIVE [--master PID]   # POST ARCHIVE to /api/v1/import

Runs beside gunicorn (in the web container for the stack, on the host for the
embedded SQLite run; standard library only): it reads /proc/<pid>/status of
every worker of the gunicorn master (``--master``, or the one gunicorn whose
parent is not gunicorn) before and after the request. Before, it resets each
worker's peak (``echo 5 > /proc/<pid>/clear_refs``) so that VmHWM afterwards
is the peak during this request, not an earlier one. The worker whose peak grew
the most above its resident size before is the one that served the request.

Prints one JSON object: seconds, bytes, HTTP status, and that worker's idle
RSS, peak and their difference in MiB (``hwm_reset`` false when the kernel
refused the reset: the peak may then be an older one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from pathlib import Path


def _status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("PPid", "VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def _gunicorns() -> dict[int, dict[str, int]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "gunicorn" in cmdline:
                found[int(entry.name)] = _status(int(entry.name))
        except OSError:
            continue
    return found


def workers(master: int | None) -> dict[int, dict[str, int]]:
    """The workers of ``master`` (or of the one gunicorn master here) with their PPid, VmRSS and VmHWM in KiB."""
    procs = _gunicorns()
    if master is None:
        masters = [pid for pid, st in procs.items() if st.get("PPid") not in procs]
        if len(masters) != 1:
            sys.exit(f"transfer: {len(masters)} gunicorn masters here; name one with --master")
        master = masters[0]
    return {pid: st for pid, st in procs.items() if st.get("PPid") == master}


def reset_peaks(pids: list[int]) -> bool:
    ok = True
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            ok = False
    return ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["export", "import"])
    parser.add_argument("base")
    parser.add_argument("token")
    parser.add_argument("archive")
    parser.add_argument("--master", type=int)
    args = parser.parse_args()
    before = workers(args.master)
    reset = reset_peaks(list(before))
    before = workers(args.master)
    headers = {"Authorization": f"Bearer {args.token}"}
    started = time.perf_counter()
    if args.action == "export":
        request = urllib.request.Request(args.base + "/api/v1/export", headers=headers)
        size = 0
        with urllib.request.urlopen(request, timeout=1200) as response, open(args.archive, "wb") as out:  # noqa: S310
            status = response.status
            while chunk := response.read(1024 * 1024):
                out.write(chunk)
                size += len(chunk)
        answer: object = None
    else:
        size = os.path.getsize(args.archive)
        with open(args.archive, "rb") as body:
            request = urllib.request.Request(
                args.base + "/api/v1/import",
                data=body,
                method="POST",
                headers={**headers, "Content-Type": "application/zip", "Content-Length": str(size)},
            )
            try:
                with urllib.request.urlopen(request, timeout=1200) as response:  # noqa: S310
                    status, answer = response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                status, answer = exc.code, exc.read().decode(errors="replace")[:500]
    seconds = time.perf_counter() - started
    after = workers(args.master)
    grown = {pid: after[pid]["VmHWM"] - st["VmRSS"] for pid, st in before.items() if pid in after}
    served = max(grown, key=lambda pid: grown[pid])
    idle, peak = before[served]["VmRSS"] / 1024, after[served]["VmHWM"] / 1024
    print(
        json.dumps(
            {
                "action": args.action,
                "status": status,
                "seconds": round(seconds, 2),
                "bytes": size,
                "answer": answer,
                "workers": len(before),
                "idle_mib": round(idle, 1),
                "peak_mib": round(peak, 1),
                "growth_mib": round(peak - idle, 1),
                "hwm_reset": reset,
            }
        )
    )


if __name__ == "__main__":
    main()
