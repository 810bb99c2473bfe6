"""sslyze checks the stack's TLS against Mozilla's intermediate profile.

It runs from its own venv (.venv-sslyze, made by `make test-stack` and
`make audit-tls`) because it needs an older cryptography than the app.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from tests.helpers.stack import Stack

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
SSLYZE = Path(os.environ.get("SSLYZE", ROOT / ".venv-sslyze" / "bin" / "sslyze"))


def test_tls_is_compliant_with_mozilla_intermediate(stack: Stack) -> None:
    if not SSLYZE.exists():
        message = f"sslyze is not installed at {SSLYZE}; `make test-stack` or `make audit-tls` installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [
            str(SSLYZE),
            "--mozilla_config=intermediate",
            f"--certinfo_ca_file={stack.ca}",
            f"localhost:{stack.https_port}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    report = result.stdout + result.stderr
    print(report)
    assert result.returncode == 0, report[-3000:]
    assert f"localhost:{stack.https_port}: OK - Compliant." in report, report[-3000:]
    assert "Not compliant" not in report
