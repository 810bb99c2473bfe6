"""Where attachments' bytes live: an interface, and the local-volume backend.

The app talks to ``Storage`` only, so another backend (an S3-compatible
bucket: put_object, get_object, delete_object and list_objects_v2 map onto
the four methods one to one; see docs/attachments.md) can replace
``LocalStorage`` without touching the rest. Keys are made by the app
(random, URL-safe); a key that is not one of ours is refused before it
reaches a path.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

_KEY = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


def is_key(key: str) -> bool:
    """True when ``key`` has the shape of a key the app makes (and so is safe in a path)."""
    return bool(_KEY.match(key))


class Storage(Protocol):
    def save(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, whole or not at all."""

    def open(self, key: str) -> BinaryIO:
        """The bytes under ``key``; FileNotFoundError when there are none."""

    def delete(self, key: str) -> None:
        """Forget ``key``; nothing happens when it is already gone."""

    def listing(self) -> Iterator[tuple[str, datetime]]:
        """Every stored key, with when it was stored (for sweeping orphans)."""

    def accel_path(self, key: str) -> str:
        """``key``'s path below the directory nginx serves (X-Accel-Redirect)."""


class LocalStorage:
    """Files in a directory (a Docker volume in the stack), two levels deep so no directory grows too large."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def accel_path(self, key: str) -> str:
        if not is_key(key):
            raise ValueError(f"not an attachment key: {key!r}")
        return f"{key[:2]}/{key}"

    def _path(self, key: str) -> Path:
        return self.root / self.accel_path(key)

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside its place and renamed into it: a reader never sees half a file.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o644)  # nginx reads it as another user
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def listing(self) -> Iterator[tuple[str, datetime]]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/*"):
            if is_key(path.name):
                yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC)
