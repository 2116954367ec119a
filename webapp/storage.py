"""Where media files live. Local disk under the instance folder; the interface leaves room for others."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Protocol

from flask import current_app


class Storage(Protocol):
    def save(self, data: bytes, suffix: str) -> str: ...
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

    def save(self, data: bytes, suffix: str) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        key = f"{secrets.token_hex(16)}{suffix}"
        self._path(key).write_bytes(data)
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def media_storage() -> Storage:
    root = Path(current_app.config.get("MEDIA_ROOT") or Path(current_app.instance_path) / "media")
    return LocalStorage(root)
