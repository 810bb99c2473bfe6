"""How long one user's big import keeps other users' writes waiting, on the embedded SQLite default.

    .venv/bin/python bench/import_lock.py                  # 10,000 notes with 20 tags each
    .venv/bin/python bench/import_lock.py --notes 2000     # a smaller notebook

Builds an export of ``--notes`` notes (20 tags each, drawn from 200 names)
and imports it through ``POST /api/v1/import`` into a fresh app on a SQLite
file (the dev configuration's database, WAL, the 5 s busy timeout), while a
second thread writes a note as another user through ``POST /api/v1/notes``
every 50 ms for as long as the import runs. Everything goes through Flask's
test client in this one process: no server, no network.

Reports, as JSON: the import's wall time and answer, and the other user's
writes by status with their slowest answer. A 503 is such a write that
waited out the busy timeout; before imports were written with bulk
statements, those were 500s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from typing import Any

sys.path[:0] = [os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web")]

from app import create_app  # noqa: E402
from app.accounts.service import create_user  # noqa: E402
from app.accounts.tokens import create_token  # noqa: E402
from app.models import db  # noqa: E402

PASSWORD = "import lock bench passphrase"


def export_zip(notes: int) -> bytes:
    """A Notes export of ``notes`` notes with 20 tags each."""
    records = [
        {
            "title": f"Note {n}",
            "content": f"Imported note {n}.\n\n" + "Some text to index. " * 20,
            "tags": [f"tag-{(n + i) % 200}" for i in range(20)],
            "pinned": False,
            "archived": n % 10 == 0,
            "created_at": "2026-01-01T00:00:00+00:00",
            "updated_at": "2026-01-02T00:00:00+00:00",
            "deleted_at": None,
        }
        for n in range(notes)
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.json", json.dumps({"format": "notes-export", "version": 1, "notes": records}))
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=10_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/notes.db", "WTF_CSRF_ENABLED": False}
        )
        with app.app_context():
            db.create_all()
            importer = create_user("importer@example.com", PASSWORD)
            writer = create_user("writer@example.com", PASSWORD)
            importer_secret = create_token(importer, "bench")[1]
            writer_secret = create_token(writer, "bench")[1]
            db.session.remove()
        data = export_zip(args.notes)

        done = threading.Event()
        writes: list[tuple[int, float]] = []

        def write_meanwhile() -> None:
            client = app.test_client()
            while not done.is_set():
                started = time.perf_counter()
                response = client.post(
                    "/api/v1/notes", json={"title": "meanwhile"}, headers={"Authorization": f"Bearer {writer_secret}"}
                )
                writes.append((response.status_code, time.perf_counter() - started))
                time.sleep(0.05)

        other = threading.Thread(target=write_meanwhile)
        other.start()
        time.sleep(0.2)  # the writer is under way before the import starts
        started = time.perf_counter()
        response = app.test_client().post(
            "/api/v1/import",
            data=data,
            headers={"Authorization": f"Bearer {importer_secret}", "Content-Type": "application/zip"},
        )
        import_seconds = time.perf_counter() - started
        done.set()
        other.join()

    report: dict[str, Any] = {
        "notes": args.notes,
        "archive_bytes": len(data),
        "import": {"status": response.status_code, "body": response.get_json(), "seconds": round(import_seconds, 2)},
        "other_writes": {
            "by_status": dict(Counter(str(status) for status, _ in writes)),
            "slowest_seconds": round(max((s for _, s in writes), default=0.0), 2),
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
