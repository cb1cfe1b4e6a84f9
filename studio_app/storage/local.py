"""The image stores on local disk (the embedded default), under STUDIO_IMAGES_DIR.

A key is a relative path below the store's folder, checked against the store's key
shape before it touches the file system. A write goes to `<key>.partial`, is flushed
to disk, then renamed into place: a crash leaves the whole file or no file under the
key, and at worst a `.partial` that `sweep_unfinished` removes.

`path_for` is for this store's own tests and crash simulations; it is not part of
`ObjectStore`, and nothing above storage/ uses it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from studio_app.storage.keys import KeyShape, content_type_of
from studio_app.storage.store import StorageError, StoredObject, written_before

_PARTIAL = ".partial"


def _modified(stat: os.stat_result) -> datetime:
    return datetime.fromtimestamp(stat.st_mtime, UTC)


def _etag(stat: os.stat_result) -> str:
    # The formula of Starlette's FileResponse, which served these files before: the
    # validators browsers already hold stay valid.
    base = f"{stat.st_mtime}-{stat.st_size}"
    return f'"{hashlib.md5(base.encode(), usedforsecurity=False).hexdigest()}"'


def write_atomically(target: Path, data: bytes) -> None:
    partial = target.with_suffix(target.suffix + _PARTIAL)
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


class LocalDiskStore:
    """An `ObjectStore` in one folder of the local disk."""

    def __init__(self, root: Path, shape: KeyShape) -> None:
        self._root = root
        self._shape = shape

    def path_for(self, key: str) -> Path:
        return self._root / self._shape.check(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        write_atomically(self._root / self._shape.check_holds(key, content_type), data)

    def open(self, key: str) -> StoredObject | None:
        if not self._shape.is_valid(key):
            return None
        try:
            handle = self.path_for(key).open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise StorageError(str(exc)) from exc
        # Size and validators of the very file opened, even if it is replaced meanwhile.
        stat = os.fstat(handle.fileno())
        return StoredObject(
            key=key,
            size=stat.st_size,
            content_type=content_type_of(key),
            modified=_modified(stat),
            etag=_etag(stat),
            source=handle,
        )

    def read(self, key: str) -> bytes | None:
        stored = self.open(key)
        return None if stored is None else stored.read()

    def exists(self, key: str | None) -> bool:
        return self._shape.is_valid(key) and self.path_for(key or "").is_file()

    def delete(self, key: str | None) -> None:
        if self._shape.is_valid(key):
            with contextlib.suppress(OSError):
                self.path_for(key or "").unlink(missing_ok=True)

    def _files(self) -> Iterator[tuple[str, Path]]:
        """(name relative to the root, path) of every file in the store's folder."""
        if not self._root.is_dir():
            return
        for path in self._root.rglob("*"):
            if path.is_file():
                yield path.relative_to(self._root).as_posix(), path

    def _written_before(self, path: Path, cutoff: datetime) -> bool:
        try:
            return written_before(_modified(path.stat()), cutoff)
        except FileNotFoundError:  # removed meanwhile (its job failed)
            return False

    def keys(self) -> Iterator[str]:
        for name, _ in self._files():
            if self._shape.is_valid(name):
                yield name

    def listing(self) -> Iterator[tuple[str, datetime]]:
        for name, path in self._files():
            if self._shape.is_valid(name):
                try:
                    yield name, _modified(path.stat())
                except FileNotFoundError:  # removed meanwhile (its job failed)
                    continue

    def sweep_unfinished(self, cutoff: datetime) -> int:
        removed = 0
        for name, path in self._files():
            unfinished = name.endswith(_PARTIAL) and self._shape.is_valid(name[: -len(_PARTIAL)])
            if unfinished and self._written_before(path, cutoff):
                try:
                    path.unlink()
                except OSError:  # gone meanwhile, or not removable now: the next sweep
                    continue
                removed += 1
        return removed
