"""A container's processes read from the host's /proc, without running anything.

The soak samples memory, descriptors and database connections while it
measures latency. `docker exec` (and the compose CLI around it) costs a burst
of CPU on every sample, enough on a two-CPU host to stall requests past the
app's queue deadline; reading /proc from the host costs next to nothing.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Proc:
    pid: int
    parent: int
    cmdline: str
    rss_kib: int
    fds: int  # open files and pipes, not sockets (those follow the load)


def container_pid(container: str) -> int:
    """The host pid of ``container``'s first process; raises CalledProcessError if it is not running."""
    out = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Pid}}", container],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return int(out.strip())


def readable() -> bool:
    """Whether this process may read other users' /proc/<pid>/fd (root may; a developer's shell may not)."""
    return os.geteuid() == 0


def _read(pid: int) -> Proc | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        with open(f"/proc/{pid}/stat") as f:
            parent = int(f.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{pid}/status") as f:
            rss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        fds = 0
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):  # closed since the listing
                fds += not os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    except (OSError, ValueError, IndexError):  # the process ended while it was read
        return None
    return Proc(pid, parent, cmdline, rss, fds)


def tree(root: int) -> list[Proc]:
    """``root`` and all its descendants, as the host sees them."""
    everything = [p for p in (_read(int(name)) for name in os.listdir("/proc") if name.isdigit()) if p]
    children: dict[int, list[Proc]] = {}
    for p in everything:
        children.setdefault(p.parent, []).append(p)
    found = [p for p in everything if p.pid == root]
    i = 0
    while i < len(found):
        found.extend(children.get(found[i].pid, []))
        i += 1
    return found
