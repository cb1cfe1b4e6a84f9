"""Template preview images on local disk: PUBLIC catalog pictures, kept apart.

They live in their own folder (`<STUDIO_IMAGES_DIR>/template-previews/`) with
their own key shape (`<32 hex>.webp`, no date folders), so a preview key can
never name a private user image and the private-image reconciler (which walks
`YYYY/MM/*`) never sees them. Keys are made here, never taken from users, and
checked against the shape before they touch the file system.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

from studio_app.settings import get_settings
from studio_app.storage.local import StorageError

FOLDER = "template-previews"
_KEY = re.compile(r"^[0-9a-f]{32}\.webp$")


def _root() -> Path:
    return get_settings().images_dir / FOLDER


def is_valid_key(key: object) -> bool:
    return isinstance(key, str) and bool(_KEY.match(key))


def path_for(key: str) -> Path:
    if not is_valid_key(key):
        raise StorageError(f"not a preview key: {key!r}")
    return _root() / key


def new_key() -> str:
    return f"{secrets.token_hex(16)}.webp"


def write(key: str, data: bytes) -> None:
    """Write atomically: a crash leaves either the whole file or none."""
    target = path_for(key)
    partial = target.with_suffix(".partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise StorageError(str(exc)) from exc


def exists(key: str | None) -> bool:
    return key is not None and is_valid_key(key) and path_for(key).is_file()


def delete(key: str | None) -> None:
    if key and is_valid_key(key):
        with contextlib.suppress(OSError):
            path_for(key).unlink(missing_ok=True)
