"""The container's health check: exit 0 when the app answers with 200.

    python /app/healthcheck.py                   # /healthz: the process serves requests
    python /app/healthcheck.py /readyz /healthz  # /readyz until it first passes, then /healthz

The second form is Swarm's. A task gets traffic only once it is healthy, so
it must first be ready: the database answers, at the code's schema. After
that only liveness counts: an orchestrator kills unhealthy tasks, and a
database outage must not restart every replica at once (they answer 503
while it lasts and recover with it). No curl in the image. The Host header
is the first TRUSTED_HOSTS entry, which the app trusts wherever it is deployed.
Under a URL_PREFIX the paths are asked for under it (/notes/healthz), where
the app serves them.
"""

import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

# Per container: /tmp is the container's own.
READY_ONCE = Path(tempfile.gettempdir()) / "notes-ready-once"


def answers(path: str, port: int = 8000) -> bool:
    """Whether the app answers ``path`` with 200 within 2 s; prints why not."""
    host = (os.environ.get("TRUSTED_HOSTS") or "localhost").split(",")[0].strip().lstrip(".")
    prefix = os.environ.get("URL_PREFIX", "").strip().rstrip("/")
    request = urllib.request.Request(f"http://127.0.0.1:{port}{prefix}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - a fixed http://127.0.0.1 URL
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return False


def main(paths: list[str], port: int = 8000, marker: Path = READY_ONCE) -> int:
    """0 when healthy, 1 when not (see the module's docstring)."""
    first = paths[0] if paths else "/healthz"
    then = paths[1] if len(paths) > 1 else None
    if then and marker.exists():
        return 0 if answers(then, port) else 1
    if not answers(first, port):
        return 1
    if then:
        marker.touch()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
