"""Docker helpers shared by the tiers that bring up the compose stack
(tests/stack and the browser tier's stack mode)."""

from __future__ import annotations

import ipaddress
import json
import secrets
import shutil
import socket
import subprocess
from pathlib import Path


def docker_problem() -> str | None:
    """Why Docker with Compose v2 cannot be used here, or None when it can."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    for args in (["docker", "info"], ["docker", "compose", "version"]):
        try:
            result = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(args)}` timed out"
        if result.returncode != 0:
            return f"`{' '.join(args)}` failed: {result.stderr.strip()[:300]}"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_subnet() -> str:
    """A /24 in 172.16.0.0/16 (outside Docker's default pools) no network uses."""
    ids = subprocess.run(["docker", "network", "ls", "-q"], capture_output=True, text=True, timeout=30, check=True)
    used: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    if ids.stdout.split():
        out = subprocess.run(
            ["docker", "network", "inspect", *ids.stdout.split(), "--format", "{{json .IPAM.Config}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        for line in out.stdout.splitlines():
            for cfg in json.loads(line) or []:
                if cfg.get("Subnet"):
                    used.append(ipaddress.ip_network(cfg["Subnet"], strict=False))
    candidates = list(range(16, 238))
    secrets.SystemRandom().shuffle(candidates)
    for third in candidates:
        net = ipaddress.ip_network(f"172.16.{third}.0/24")
        if not any(net.overlaps(u) for u in used if u.version == 4):
            return str(net)
    raise RuntimeError("no free /24 left in 172.16.0.0/16 for the test stack")


def write_stack_env(
    path: Path, *, http_port: int, https_port: int, image_tag: str, server_name: str = "localhost", **extra: str
) -> Path:
    """Write a throwaway .env for a test stack: fresh secrets, loopback ports,
    a free frontend subnet; ``extra`` adds settings. Readable by the owner only."""
    lines = [
        f"SECRET_KEY={secrets.token_urlsafe(48)}",
        f"POSTGRES_PASSWORD={secrets.token_urlsafe(24)}",
        f"SERVER_NAME={server_name}",
        "HTTP_BIND=127.0.0.1",
        f"HTTP_PORT={http_port}",
        f"HTTPS_PORT={https_port}",
        f"FRONTEND_SUBNET={free_subnet()}",
        f"NOTES_IMAGE_TAG={image_tag}",
        *(f"{key}={value}" for key, value in extra.items()),
    ]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path
