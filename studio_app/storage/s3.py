"""An `ObjectStore` in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, R2…).

Objects are private: the bucket needs no public access, the app reads them with its
own credentials and serves them through its own routes. Each store lives under its own
folder of the bucket (`<prefix><folder>/<key>`), so a key of one store can never name an
object of another. A PutObject is whole or absent, so there are no half-written objects
to sweep; what a crash can leave is an incomplete multipart upload (this app makes none,
but old ones under the store's folder are aborted all the same).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from studio_app.storage.keys import KeyShape, content_type_of
from studio_app.storage.store import StorageError, StoredObject, written_before

log = logging.getLogger(__name__)

# What S3 and its look-alikes answer for "no such object" (GetObject / HeadObject).
_MISSING = {"NoSuchKey", "404", "NotFound"}
# ... and for a request the credentials may not make, or the server does not offer.
_NOT_ALLOWED = {"AccessDenied", "403", "NotImplemented", "501"}
# Seconds: a store that does not answer is an unavailable store, not a slow request.
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 30


@dataclass(frozen=True)
class S3Location:
    """Where the objects live and how to reach them (from STUDIO_STORAGE_URL and STUDIO_S3_*)."""

    bucket: str
    prefix: str  # "" or ending in "/"
    endpoint_url: str = ""  # "" = AWS itself
    region: str = "us-east-1"
    access_key_id: str = ""  # "" = boto3's own chain (AWS_* variables, instance role)
    secret_access_key: str = field(default="", repr=False)


@functools.cache
def s3_client(location: S3Location) -> Any:
    """One client per location and process (boto3 clients are thread-safe, and making
    one costs ~50 ms of CPU)."""
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=64,
        # S3-compatible servers on an address of their own want path-style URLs.
        s3={"addressing_style": "path" if location.endpoint_url else "auto"},
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=location.endpoint_url or None,
        region_name=location.region,
        aws_access_key_id=location.access_key_id or None,
        aws_secret_access_key=location.secret_access_key or None,
        config=config,
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Store:
    """An `ObjectStore` in one folder of a bucket."""

    def __init__(self, location: S3Location, folder: str, shape: KeyShape) -> None:
        self._location = location
        self._base = f"{location.prefix}{folder}/"
        self._shape = shape

    @property
    def _client(self) -> Any:
        return s3_client(self._location)

    def _object_key(self, key: str) -> str:
        return self._base + self._shape.check(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        object_key = self._base + self._shape.check_holds(key, content_type)
        try:
            self._client.put_object(
                Bucket=self._location.bucket, Key=object_key, Body=data, ContentType=content_type
            )
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"could not store {key}: {exc}") from exc

    def _object_request(self, call: Any, doing: str, key: str) -> dict[str, Any] | None:
        """GetObject or HeadObject for `key`: the answer, None when there is no such object,
        StorageError when the store cannot say."""
        try:
            return call(Bucket=self._location.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                return None
            raise StorageError(f"could not {doing} {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"could not {doing} {key}: {exc}") from exc

    def open(self, key: str) -> StoredObject | None:
        if not self._shape.is_valid(key):
            return None
        answer = self._object_request(self._client.get_object, "read", key)
        if answer is None:
            return None
        return StoredObject(
            key=key,
            size=int(answer["ContentLength"]),
            content_type=content_type_of(key),
            modified=_utc(answer["LastModified"]),
            etag=_quoted(answer.get("ETag", "")),
            source=answer["Body"],
        )

    def read(self, key: str) -> bytes | None:
        stored = self.open(key)
        if stored is None:
            return None
        try:
            return stored.read()
        except (BotoCoreError, OSError) as exc:
            raise StorageError(f"could not read {key}: {exc}") from exc

    def exists(self, key: str | None) -> bool:
        if not self._shape.is_valid(key):
            return False
        return self._object_request(self._client.head_object, "look up", key) is not None

    def delete(self, key: str | None) -> None:
        if not self._shape.is_valid(key):
            return
        # What cannot be removed now is an orphan the reconciler's listing removes later.
        with contextlib.suppress(BotoCoreError, ClientError):
            self._client.delete_object(Bucket=self._location.bucket, Key=self._base + key)

    def listing(self) -> Iterator[tuple[str, datetime]]:
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._location.bucket, Prefix=self._base
            )
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(self._base) :]
                    if self._shape.is_valid(name):
                        yield name, _utc(item["LastModified"])
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"could not list the store: {exc}") from exc

    def keys(self) -> Iterator[str]:
        for name, _ in self.listing():
            yield name

    def sweep_unfinished(self, cutoff: datetime) -> int:
        bucket = self._location.bucket
        try:
            pages = self._client.get_paginator("list_multipart_uploads").paginate(
                Bucket=bucket, Prefix=self._base
            )
            stale = [
                upload
                for page in pages
                for upload in page.get("Uploads", [])
                if written_before(upload["Initiated"], cutoff)
            ]
            for upload in stale:
                self._client.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
        except ClientError as exc:
            if _error_code(exc) in _NOT_ALLOWED:
                # A policy without the multipart permissions: this app makes no multipart
                # uploads, so there is nothing of its own to sweep; the scan goes on.
                log.warning("cannot list or abort multipart uploads here: %s", exc)
                return 0
            raise StorageError(f"could not sweep unfinished uploads: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"could not sweep unfinished uploads: {exc}") from exc
        return len(stale)


def _utc(moment: datetime) -> datetime:
    """botocore's dates carry dateutil's tzutc; the app's (and HTTP dates) want UTC itself."""
    return moment.astimezone(UTC)


def _quoted(etag: str) -> str:
    return etag if etag.startswith('"') else f'"{etag}"'
