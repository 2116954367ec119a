"""Where media files live. Local disk under the instance folder; the interface leaves room for others."""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app


class Storage(Protocol):
    """A store of files named by keys the server makes; an S3-compatible store fits the same shape."""

    def save(self, source: bytes | BinaryIO, suffix: str) -> str: ...
    def open(self, key: str) -> BinaryIO: ...
    def size(self, key: str) -> int: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files under one folder, named by the server, never by the uploader."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def save(self, source: bytes | BinaryIO, suffix: str) -> str:
        """Write the bytes (or the stream from its start) under a new random key, all or nothing."""
        self.root.mkdir(parents=True, exist_ok=True)
        key = f"{secrets.token_hex(16)}{suffix}"
        # Written beside its final place, then renamed, so a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as target:
                if isinstance(source, bytes):
                    target.write(source)
                else:
                    source.seek(0)
                    shutil.copyfileobj(source, target, 1024 * 1024)
            os.replace(temporary, self._path(key))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return key

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def media_storage() -> Storage:
    root = Path(current_app.config.get("MEDIA_ROOT") or Path(current_app.instance_path) / "media")
    return LocalStorage(root)
