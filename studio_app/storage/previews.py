"""Template preview images on local disk: PUBLIC catalog pictures, kept apart.

They live in their own folder (`<STUDIO_IMAGES_DIR>/template-previews/`) with
their own key shape (`<32 hex>.webp`, no date folders), so a preview key can
never name a private user image and the private-image reconciler (which walks
`YYYY/MM/*`) never sees them. Keys are made here, never taken from users, and
checked against the shape before they touch the file system.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from pathlib import Path

from studio_app.settings import get_settings
from studio_app.storage.local import StorageError, write_atomically

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
    write_atomically(path_for(key), data)


def exists(key: str | None) -> bool:
    return key is not None and is_valid_key(key) and path_for(key).is_file()


def delete(key: str | None) -> None:
    if key and is_valid_key(key):
        with contextlib.suppress(OSError):
            path_for(key).unlink(missing_ok=True)
