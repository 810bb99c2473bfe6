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


def host_pid(container: str) -> int | None:
    """The host pid of ``container``'s first process, or None when this /proc cannot show it.

    Being root is not enough: the engine may run elsewhere (a remote
    DOCKER_HOST, a VM), where its pid names some other process here. So the
    pid counts only if its cgroup names the container. Raises
    CalledProcessError when the container is not running.
    """
    if os.geteuid() != 0:  # other users' /proc/<pid>/fd is closed to us
        return None
    out = subprocess.run(
        ["docker", "inspect", "--format", "{{.Id}} {{.State.Pid}}", container],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    full_id, pid = out[0], int(out[1])
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            return pid if full_id in f.read() else None
    except OSError:
        return None


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):  # the process ended while it was read
        return None


def _read(pid: int, parent: int) -> Proc | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        with open(f"/proc/{pid}/status") as f:
            rss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        fds = 0
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):  # closed since the listing
                fds += not os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    except (OSError, ValueError, IndexError):  # the process ended while it was read
        return None
    return Proc(pid, parent, cmdline, rss, fds)


def _children(pid: int) -> list[int] | None:
    """``pid``'s children from /proc/<pid>/task/*/children, or None where the kernel has no such file."""
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(child) for child in f.read().split())
    except FileNotFoundError:
        return None if not os.path.exists(f"/proc/{pid}/task/{pid}/children") else found
    except OSError:  # the process ended while it was read
        pass
    return found


def tree(root: int) -> list[Proc]:
    """``root`` and all its descendants, as the host sees them.

    Walks down from ``root`` where the kernel lists children; otherwise reads
    every process's parent once. Only the members are read in full.
    """
    members, parents = [root], {root: _parent(root) or 0}
    index: dict[int, list[int]] | None = None
    i = 0
    while i < len(members):
        pid = members[i]
        children = _children(pid)
        if children is None:
            if index is None:
                index = {}
                for name in os.listdir("/proc"):
                    if name.isdigit() and (parent := _parent(int(name))) is not None:
                        index.setdefault(parent, []).append(int(name))
            children = index.get(pid, [])
        for child in children:
            members.append(child)
            parents[child] = pid
        i += 1
    return [p for pid in members if (p := _read(pid, parents[pid]))]
