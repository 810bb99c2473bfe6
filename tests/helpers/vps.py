"""The "VPS in a box": a container running its own Docker engine and an SSH server, reached over loopback.

Used by the stack tier (`make deploy` to a server, tests/stack/test_deploy.py)
and the Swarm tier (a second node, tests/swarm/test_two_nodes.py). Its image
is tests/stack/vps/. A real server pulls base images from Docker Hub; this
machine has no registry, so the box is handed what it needs with `docker save`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers.docker_env import free_port
from tests.helpers.stack import ROOT

VPS_IMAGE = "notes-test-vps:latest"


class Box:
    """The VPS in a box: how to reach it over SSH, and the loopback port of its HTTPS."""

    def __init__(self, name: str, key: Path, ssh_port: int, https_port: int) -> None:
        self.name = name
        self.key = key
        self.ssh_port = ssh_port
        self.https_port = https_port

    @property
    def ssh_command(self) -> str:
        return (
            f"ssh -p {self.ssh_port} -i {self.key} -o BatchMode=yes -o StrictHostKeyChecking=no "
            "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
        )

    def ssh(self, command: str, *, timeout: float = 120, stdin: bytes | None = None) -> str:
        result = subprocess.run(
            [*self.ssh_command.split(), "root@127.0.0.1", command],
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"{command!r} on the box: {result.stderr.decode()[-2000:]}"
        return result.stdout.decode()

    def load(self, *images: str) -> None:
        """Hand the box's engine ``images`` from this one, as a registry would."""
        saved = subprocess.run(["docker", "save", *images], capture_output=True, check=True, timeout=600)
        self.ssh("docker load -q", stdin=saved.stdout, timeout=600)

    def address(self) -> str:
        """The box's address on Docker's default bridge, where this machine reaches it."""
        return _docker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", self.name).stdout.strip()


def _docker(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert result.returncode == 0, f"docker {' '.join(args)}: {result.stderr[-2000:]}"
    return result


@contextmanager
def running_box(*images: str) -> Iterator[Box]:
    """A fresh box with ``images`` loaded, removed with its volume however the block ends."""
    workdir = Path(tempfile.mkdtemp(prefix="notes-vps-"))
    key = workdir / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    _docker("build", "-t", VPS_IMAGE, str(ROOT / "tests" / "stack" / "vps"))
    name = f"notes-vps-{uuid.uuid4().hex[:8]}"
    ssh_port, https_port = free_port(), free_port()
    _docker(
        "run", "-d", "--name", name,
        # What its own engine needs. Not --privileged: this machine is itself a
        # container without CAP_SYS_RESOURCE, which --privileged asks for. The
        # cgroup tree is this machine's, written under a parent of the box's own.
        "--cap-add=ALL", "--cap-drop=SYS_RESOURCE",
        "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
        "--security-opt", "systempaths=unconfined",
        "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
        # The box's engine keeps its images and volumes on a volume of ours:
        # overlayfs cannot stack on the container's own overlay root.
        "-v", f"{name}-docker:/var/lib/docker",
        "-p", f"127.0.0.1:{ssh_port}:22", "-p", f"127.0.0.1:{https_port}:{https_port}",
        "-e", f"AUTHORIZED_KEY={(workdir / 'id_ed25519.pub').read_text().strip()}",
        VPS_IMAGE,
    )  # fmt: skip
    box = Box(name, key, ssh_port, https_port)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                box.ssh("docker info --format '{{.ServerVersion}}'", timeout=15)
                break
            except (AssertionError, subprocess.TimeoutExpired) as exc:
                if time.monotonic() > deadline:
                    logs = _docker("logs", name, check=False).stderr
                    raise AssertionError(f"the box did not come up:\n{logs}") from exc
                time.sleep(1)
        if images:
            box.load(*images)
        yield box
    finally:
        if os.environ.get("CI") == "true":
            print(_docker("exec", name, "sh", "-c", "tail -50 /var/log/dockerd.log", check=False).stdout)
        _docker("rm", "-f", "-v", name, check=False)
        _docker("volume", "rm", "-f", f"{name}-docker", check=False)
        shutil.rmtree(workdir, ignore_errors=True)
