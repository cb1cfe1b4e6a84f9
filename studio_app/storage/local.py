"""Image bytes on local disk under STUDIO_IMAGES_DIR.

Keys are made here, never taken from users: `YYYY/MM/<32 hex>.<ext>`. Every
key is checked against that shape before it touches the file system, so no
request can reach a path outside the folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

from studio_app.clock import utcnow
from studio_app.settings import get_settings

_KEY = re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}(?:_thumb)?\.(?:png|webp|jpg)$")


class StorageError(Exception):
    """The bytes could not be written or read (disk full, permissions…)."""


def _root() -> Path:
    return get_settings().images_dir


def is_valid_key(key: object) -> bool:
    return isinstance(key, str) and bool(_KEY.match(key))


def path_for(key: str) -> Path:
    if not is_valid_key(key):
        raise StorageError(f"not an image key: {key!r}")
    return _root() / key


def new_key_pair(extension: str) -> tuple[str, str]:
    """A fresh key for an original and its thumbnail."""
    now = utcnow()
    stem = f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}"
    return f"{stem}.{extension}", f"{stem}_thumb.webp"


def write(key: str, data: bytes) -> None:
    write_atomically(path_for(key), data)


def write_atomically(target: Path, data: bytes) -> None:
    """A crash leaves either the whole file or none (shared with storage.previews)."""
    partial = target.with_suffix(target.suffix + ".partial")
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
    """Remove a stored file; a file that cannot be removed is left for the reconciler."""
    if key and is_valid_key(key):
        with contextlib.suppress(OSError):
            path_for(key).unlink(missing_ok=True)


def all_keys() -> Iterator[str]:
    """Every stored key (and leftover partial files, as their own names)."""
    root = _root()
    if not root.is_dir():
        return
    for path in root.glob("*/*/*"):
        if path.is_file():
            yield path.relative_to(root).as_posix()
