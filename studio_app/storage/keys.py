"""The keys of the image stores: made here, never taken from users.

Private images: `YYYY/MM/<32 hex>.<ext>` and `YYYY/MM/<32 hex>_thumb.webp`; uploads for
editing (their own store) `YYYY/MM/<32 hex>_upload.<ext>`; public copies of published
posts (their own store) `YYYY/MM/<32 hex>_post.<ext>` and `…_post_thumb.webp`. Template
previews (public catalog pictures): `<32 hex>.webp`, no date folders, so a preview key
can never name a private image. Every key is checked against its shape before it
touches a store, so no request can reach anything outside it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TypeGuard

from studio_app.clock import utcnow
from studio_app.storage.store import StorageError

# The formats the stores hold: a key's extension says its content type.
CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}


@dataclass(frozen=True)
class KeyShape:
    """The keys one store accepts."""

    what: str
    pattern: re.Pattern[str]

    def is_valid(self, key: object) -> TypeGuard[str]:
        return isinstance(key, str) and bool(self.pattern.match(key))

    def check(self, key: object) -> str:
        if not self.is_valid(key):
            raise StorageError(f"not {self.what}: {key!r}")
        return key

    def check_holds(self, key: object, content_type: str) -> str:
        """`key`, checked, when it may hold `content_type`: a key's extension is its type
        (the disk keeps no metadata), so no store is ever asked to mix them."""
        checked = self.check(key)
        if content_type != content_type_of(checked):
            raise StorageError(f"{checked!r} cannot hold {content_type}")
        return checked


IMAGE_KEYS = KeyShape(
    "an image key", re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}(?:_thumb)?\.(?:png|webp|jpg)$")
)
PREVIEW_KEYS = KeyShape("a preview key", re.compile(r"^[0-9a-f]{32}\.webp$"))
PUBLISHED_KEYS = KeyShape(
    "a published key",
    re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}_post(?:_thumb)?\.(?:png|webp|jpg)$"),
)
UPLOAD_KEYS = KeyShape(
    "an upload key", re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}_upload\.(?:png|webp|jpg)$")
)


def new_image_keys(extension: str) -> tuple[str, str]:
    """Fresh keys for an original (`extension`: png, webp or jpg) and its WebP thumbnail."""
    if extension not in CONTENT_TYPES:
        raise StorageError(f"not an image extension: {extension!r}")
    now = utcnow()
    stem = f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}"
    return f"{stem}.{extension}", f"{stem}_thumb.webp"


def new_published_keys(extension: str) -> tuple[str, str]:
    """Fresh keys for a post's public copy (`extension`: png, webp or jpg) and its WebP
    thumbnail."""
    if extension not in CONTENT_TYPES:
        raise StorageError(f"not an image extension: {extension!r}")
    now = utcnow()
    stem = f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}_post"
    return f"{stem}.{extension}", f"{stem}_thumb.webp"


def new_upload_key(extension: str) -> str:
    """A fresh key for an uploaded picture (`extension`: png, webp or jpg)."""
    if extension not in CONTENT_TYPES:
        raise StorageError(f"not an image extension: {extension!r}")
    now = utcnow()
    return f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}_upload.{extension}"


def new_preview_key() -> str:
    return f"{secrets.token_hex(16)}.webp"


def extension_of(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def content_type_of(key: str) -> str:
    return CONTENT_TYPES[extension_of(key)]
