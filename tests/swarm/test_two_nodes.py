"""A second node: the "VPS in a box" joins the swarm as a worker, and web tasks on it serve traffic.

The box (tests/helpers/vps.py) runs its own Docker engine. It joins over the
address this engine advertises (Docker's bridge, where the box reaches it),
gets the web image the way a registry would give it, and web is scaled so
that Swarm places tasks on it. Requests through nginx must then be answered
by tasks on both nodes. The box leaves, and is removed, however the test ends.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from tests.helpers.stack import Account
from tests.helpers.swarm import SwarmStack, docker
from tests.helpers.vps import running_box


def _task_addresses(stack: SwarmStack, node: str) -> set[str]:
    """The frontend addresses of web's running tasks on ``node``."""
    ids = docker(
        "service", "ps", "-q", "--filter", "desired-state=running", "--filter", f"node={node}", stack.service("web")
    ).stdout.split()
    found: set[str] = set()
    for task in ids:
        out = docker("inspect", "--format", "{{json .NetworksAttachments}}", task).stdout
        for attachment in json.loads(out) or []:
            if attachment["Network"]["Spec"]["Name"] == stack.service("frontend"):
                found.update(address.split("/")[0] for address in attachment["Addresses"])
    return found


def test_web_tasks_on_a_second_node_serve_traffic(stack: SwarmStack, account: Account) -> None:
    manager = docker("info", "--format", "{{.Swarm.NodeAddr}}").stdout.strip()
    if manager.startswith("127."):
        pytest.fail(f"the swarm advertises {manager}, which no other node can reach", pytrace=False)
    image = stack.inspect("web")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0]
    here = docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
    with running_box(image) as box:
        token = docker("swarm", "join-token", "-q", "worker").stdout.strip()
        box.ssh(f"docker swarm join --token {token} --advertise-addr {box.address()} {manager}:2377", timeout=120)
        node = box.ssh("docker info --format '{{.Swarm.NodeID}}'").strip()
        try:
            deadline = time.monotonic() + 60
            while docker("node", "inspect", "--format", "{{.Status.State}}", node).stdout.strip() != "ready":
                assert time.monotonic() < deadline, "the box did not become a ready node"
                time.sleep(1)
            # Swarm spreads tasks over nodes: the three new ones go to the empty node.
            docker("service", "scale", "--detach=false", f"{stack.service('web')}=6", timeout=300)
            remote, local = _task_addresses(stack, node), _task_addresses(stack, here)
            assert remote and local, f"web tasks on the box {remote}, here {local}"
            deadline = time.monotonic() + 30
            while not remote <= stack.web_addresses():
                assert time.monotonic() < deadline, f"nginx's DNS never listed the box's tasks {remote}"
                time.sleep(1)
            time.sleep(4)  # nginx's upstream watch reloads with the new set
            (nginx,) = stack.container_ids("nginx")
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            api = account.api()
            answers = Counter(api.get(stack.url("/api/v1/notes?limit=5"), timeout=20).status_code for _ in range(120))
            result = docker("logs", "--since", since, nginx)
            logged = result.stdout + result.stderr
            served_by = Counter(
                entry["upstream"].rsplit(":", 1)[0]
                for line in logged.splitlines()
                if line.startswith("{")
                and (entry := json.loads(line)).get("request", "").startswith("GET /api/v1/notes")
            )
            print(f"\nanswers {dict(answers)}; served by {dict(served_by)}; box tasks {remote}, here {local}")
            assert answers == Counter({200: 120}), answers
            assert sum(n for address, n in served_by.items() if address in remote) > 0, served_by
            assert sum(n for address, n in served_by.items() if address in local) > 0, served_by
        finally:
            docker("service", "scale", "--detach=false", f"{stack.service('web')}=3", timeout=300, check=False)
            try:
                box.ssh("docker swarm leave --force", timeout=120)
            finally:
                docker("node", "rm", "--force", node, check=False)
