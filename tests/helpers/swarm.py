"""The Swarm tier's stack: deploy/swarm/ on a single-node swarm made for the tier, and left after it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.helpers.docker_env import free_port, free_subnet, write_stack_env
from tests.helpers.stack import CMD_TIMEOUT, ROOT, UNTHROTTLED, Stack

DEPLOY = ROOT / "deploy" / "swarm" / "deploy.sh"
# The first deploy's image tag; the rolling update moves on from it.
FIRST_TAG = "swarm-test-1"
DEPLOY_TIMEOUT = 900  # seconds: three image builds from cold, then the first start


def docker(*args: str, timeout: float = CMD_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI; raise AssertionError with its output when ``check`` and it fails."""
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def swarm_state() -> str:
    """This engine's swarm state: inactive, active, pending, error or locked."""
    return docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()


class SwarmStack(Stack):
    """A stack deployed with `docker stack deploy`: the compose helpers of Stack become service ones."""

    def __init__(self, name: str, env_file: Path, http_port: int, https_port: int, ca: Path) -> None:
        super().__init__(name, env_file, http_port, https_port, ca)
        self.name = name

    def compose(self, *args: str, timeout: float = CMD_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess[str]:
        raise NotImplementedError("a swarm stack has no compose project; use its service helpers")

    def deploy(self, tag: str, *, build: bool = True, timeout: float = DEPLOY_TIMEOUT, **env: str) -> str:
        """`make swarm-deploy`'s script with this stack's .env and image ``tag``; its output.

        Raises AssertionError with the output when it fails (a refused setting,
        a rolled-back update, not healthy in time).
        """
        result = subprocess.run(
            [str(DEPLOY)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={
                **_base_env(),
                "ENV_FILE": str(self.env_file),
                "STACK": self.name,
                "NOTES_IMAGE_TAG": tag,
                "SKIP_BUILD": "0" if build else "1",
                **env,
            },
        )
        if result.returncode != 0:
            raise AssertionError(f"swarm-deploy failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout + result.stderr

    def setting(self, name: str) -> str:
        """``name``'s value in the stack's env file; AssertionError when it is not there."""
        for line in self.env_file.read_text().splitlines():
            if line.startswith(f"{name}="):
                return line.split("=", 1)[1]
        raise AssertionError(f"{name} is not in {self.env_file}")

    def service(self, name: str) -> str:
        return f"{self.name}_{name}"

    def container_ids(self, service: str) -> list[str]:
        """The running containers of ``service``'s tasks on this node."""
        return docker(
            "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={self.service(service)}"
        ).stdout.split()

    def exec(self, service: str, *command: str, timeout: float = CMD_TIMEOUT) -> str:
        ids = self.container_ids(service)
        assert ids, f"{self.service(service)} has no running container"
        return docker("exec", "-i", ids[0], *command, timeout=timeout).stdout

    def logs(self, service: str) -> str:
        return docker("service", "logs", "--raw", "--no-trunc", self.service(service), timeout=60).stdout

    def tasks(self, service: str) -> list[dict[str, Any]]:
        """``service``'s tasks, newest first: id, image, desired and current state, error."""
        out = docker("service", "ps", "--no-trunc", "--format", "{{json .}}", self.service(service)).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def running(self, service: str) -> list[dict[str, Any]]:
        """``service``'s tasks that are running and meant to be."""
        tasks = self.tasks(service)
        return [t for t in tasks if t["DesiredState"] == "Running" and t["CurrentState"].startswith("Running")]

    def inspect(self, service: str) -> dict[str, Any]:
        out = docker("service", "inspect", self.service(service)).stdout
        return dict(json.loads(out)[0])

    def update_state(self, service: str = "web") -> str:
        """The service's update status (updating, completed, rollback_started, rollback_completed...), or ''."""
        return str((self.inspect(service).get("UpdateStatus") or {}).get("State", ""))

    def web_addresses(self) -> set[str]:
        """What the name `web` resolves to for nginx: one address per web task in DNS."""
        out = self.exec("nginx", "getent", "ahostsv4", "web")
        return {line.split()[0] for line in out.splitlines() if line.strip()}


def _base_env() -> dict[str, str]:
    """This process's environment without the settings a stack's .env must decide (the environment wins there)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "DATABASE_URL", "POSTGRES_"))}


def advertise_address() -> str:
    """Where the swarm's manager listens: Docker's default bridge, which a second
    node running in a container (tests/swarm/test_two_nodes.py) can reach, and
    loopback when there is no such bridge."""
    out = docker(
        "network", "inspect", "bridge", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}", check=False
    ).stdout.split()
    return out[0] if out else "127.0.0.1"


@contextmanager
def single_node_swarm() -> Iterator[None]:
    """This engine as a swarm (one node, a manager) for the block, left (and its bridge removed) however the block ends.

    Raises AssertionError when the engine is already in a swarm: the tier
    never takes over, or leaves, a swarm it did not make.
    """
    state = swarm_state()
    assert state == "inactive", (
        f"this Docker engine is already in a swarm ({state}); the Swarm tier makes and leaves its own, "
        "so run it on an engine outside any swarm (`docker swarm leave` if that one is yours to leave)"
    )
    docker("swarm", "init", "--advertise-addr", advertise_address(), timeout=120)
    try:
        yield
    finally:
        docker("swarm", "leave", "--force", timeout=120, check=False)
        # Swarm's bridge for tasks' traffic out; made by `swarm init`, not removed by leaving.
        docker("network", "rm", "docker_gwbridge", check=False)


@contextmanager
def deployed_stack(tag: str, **settings: str) -> Iterator[SwarmStack]:
    """deploy/swarm/ deployed with a throwaway .env on free ports, trusted and ready; removed with its volumes."""
    workdir = Path(tempfile.mkdtemp(prefix="notes-swarm-"))
    name = f"notes-swarm-{uuid.uuid4().hex[:6]}"
    http_port, https_port = free_port(), free_port()
    env_file = write_stack_env(
        workdir / "stack.env",
        http_port=http_port,
        https_port=https_port,
        image_tag=tag,
        REGISTRATION="open",
        SWARM_FRONTEND_SUBNET=free_subnet(),
        **{**UNTHROTTLED, **settings},
    )
    stack = SwarmStack(name, env_file, http_port, https_port, workdir / "ca.pem")
    try:
        stack.deploy(tag)
        stack.ca = str(workdir / "ca.pem")
        pem = docker("run", "--rm", "-v", f"{name}_certs:/certs:ro", f"notes-web:{tag}", "cat", "/certs/fullchain.pem")
        Path(stack.ca).write_text(pem.stdout)
        stack.wait_ready(timeout=120)
        yield stack
    finally:
        try:
            for service in ("web", "nginx", "db"):
                print(f"--- {service} (last lines)\n" + "\n".join(_tail(stack, service)))
        finally:
            remove(stack)
            shutil.rmtree(workdir, ignore_errors=True)


def _tail(stack: SwarmStack, service: str) -> list[str]:
    """The service's last log lines; `docker service logs` can hang once tasks are gone, so bounded."""
    try:
        result = docker("service", "logs", "--raw", "--tail", "60", stack.service(service), check=False, timeout=20)
    except subprocess.TimeoutExpired:
        return [f"(docker service logs {stack.service(service)} did not answer within 20 s)"]
    return (result.stdout + result.stderr).splitlines()


def remove(stack: SwarmStack) -> None:
    """`docker stack rm`, then wait (bounded) until its containers are gone and remove its volumes and secrets."""
    docker("stack", "rm", stack.name, check=False, timeout=120)
    deadline = time.monotonic() + 90
    label = f"label=com.docker.stack.namespace={stack.name}"
    while time.monotonic() < deadline and docker("ps", "-aq", "--filter", label, check=False).stdout.strip():
        time.sleep(1)
    # Containers linger briefly after their tasks end; a volume in use cannot go.
    for _ in range(30):
        volumes = docker("volume", "ls", "-q", "--filter", f"name={stack.name}_", check=False).stdout.split()
        if not volumes or docker("volume", "rm", *volumes, check=False).returncode == 0:
            break
        time.sleep(1)
    secrets = docker("secret", "ls", "-q", "--filter", f"name={stack.name}_", check=False).stdout.split()
    if secrets:
        docker("secret", "rm", *secrets, check=False)
