"""The container's health check: exit 0 when the app answers ``path`` with 200.

    python /app/healthcheck.py            # /healthz: the process serves requests
    python /app/healthcheck.py /readyz    # and the database answers, at the code's schema

No curl in the image. The Host header is the first TRUSTED_HOSTS entry, which
the app trusts wherever it is deployed.
"""

import os
import sys
import urllib.error
import urllib.request

path = sys.argv[1] if len(sys.argv) > 1 else "/healthz"
host = (os.environ.get("TRUSTED_HOSTS") or "localhost").split(",")[0].strip().lstrip(".")
try:
    with urllib.request.urlopen(
        urllib.request.Request(f"http://127.0.0.1:8000{path}", headers={"Host": host}), timeout=4
    ) as response:
        sys.exit(0 if response.status == 200 else 1)
except (OSError, urllib.error.URLError) as exc:
    print(f"{path}: {exc}", file=sys.stderr)
    sys.exit(1)
