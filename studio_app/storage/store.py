"""What every image store offers: bytes in, bytes or a stream out, by key.

Callers never see where the bytes live. The local disk store (local.py) implements
this protocol; an S3-compatible bucket can implement it too (put = PutObject, open =
GetObject's body and headers, listing = ListObjectsV2 with LastModified, delete =
DeleteObject, sweep_unfinished = aborting incomplete multipart uploads).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

CHUNK_SIZE = 64 * 1024
# Stores date objects coarsely (S3: whole seconds) and their clocks may lag ours a little:
# an object counts as written before a moment only when it is older by more than this.
CLOCK_SLACK = timedelta(seconds=2)


def written_before(modified: datetime, cutoff: datetime) -> bool:
    return modified + CLOCK_SLACK < cutoff


class StorageError(Exception):
    """The bytes could not be written or read (disk full, permissions, store down…)."""


class Readable(Protocol):
    """A byte source read front to back once: an open file, or an S3 response body."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass
class StoredObject:
    """One stored object, opened: what it is, and its bytes to be read once.

    Iterating yields the bytes in chunks and closes the source at the end; a caller
    that does not read them calls `close()`.
    """

    key: str
    size: int
    content_type: str
    modified: datetime  # aware, UTC
    etag: str  # a quoted HTTP entity tag that changes whenever the bytes do
    source: Readable = field(repr=False)

    def __iter__(self) -> Iterator[bytes]:
        try:
            while chunk := self.source.read(CHUNK_SIZE):
                yield chunk
        finally:
            self.source.close()

    def read(self) -> bytes:
        try:
            return self.source.read()
        finally:
            self.source.close()

    def close(self) -> None:
        self.source.close()


class ObjectStore(Protocol):
    """Objects named by keys the store itself checks; invalid keys never touch it."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, whole or not at all; StorageError when it fails."""
        ...

    def open(self, key: str) -> StoredObject | None:
        """The object, opened for reading, or None when there is none under `key`."""
        ...

    def read(self, key: str) -> bytes | None:
        """All the object's bytes, or None when there is none under `key`."""
        ...

    def exists(self, key: str | None) -> bool: ...

    def delete(self, key: str | None) -> None:
        """Remove the object if it is there. Never raises: what cannot be removed now
        is an orphan the reconciler removes later."""
        ...

    def keys(self) -> Iterator[str]:
        """Every stored key."""
        ...

    def listing(self) -> Iterator[tuple[str, datetime]]:
        """Every stored key with when it was last written (a page of keys per request on
        S3): the reconciler's one scan of the store."""
        ...

    def sweep_unfinished(self, cutoff: datetime) -> int:
        """Remove writes that a crash interrupted before `cutoff`; returns how many."""
        ...
