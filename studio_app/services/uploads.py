"""Pictures people upload to edit: checked from their bytes, cleaned, kept privately.

Accepted: PNG, JPEG or WebP — told by the bytes, never by the file's name or declared
type — of at most MAX_UPLOAD_BYTES and MAX_UPLOAD_PIXELS. The pixel count is read from
the header and checked before anything is decoded, so a decompression bomb (a small file
that inflates to gigapixels) is refused without being inflated. EXIF and other metadata
are dropped: the picture is re-encoded (a JPEG's orientation applied first).

Each upload is a row and an object in the upload store (its own folder). The reconciler's
store scan lists that folder against the rows, so an upload is never swept as an orphan.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel import col, select

from studio_app.clock import utcnow
from studio_app.models import ImageUpload
from studio_app.services import creations, edit_sources, throttle
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound
from studio_app.storage import StoredObject, keys, upload_store

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_PIXELS = 25_000_000
UPLOADS_PER_HOUR = 60
LISTED = 50
_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
NOT_KEPT = "We could not keep your picture just now. Please try again."
_NOT_A_PICTURE = "This file is not a picture we can read: upload a PNG, JPEG or WebP."


@dataclass(frozen=True)
class UploadView:
    """What a page or the API may show about one upload."""

    public_id: str
    width: int
    height: int
    size_bytes: int
    content_type: str
    created_iso: str

    @classmethod
    def of(cls, row: ImageUpload) -> UploadView:
        return cls(
            public_id=row.public_id,
            width=row.width,
            height=row.height,
            size_bytes=row.size_bytes,
            content_type=keys.content_type_of(row.image_key),
            created_iso=row.created_at.isoformat(),
        )


def _too_many_pixels(width: int, height: int) -> InvalidInput:
    return InvalidInput(
        f"The picture is {width}×{height} pixels; at most "
        f"{MAX_UPLOAD_PIXELS // 1_000_000} megapixels are accepted.",
        field="file",
    )


def clean_picture(data: bytes) -> tuple[bytes, str, int, int]:
    """(encoded bytes without metadata, extension, width, height); InvalidInput naming
    what is wrong. CPU work: call it off the event loop."""
    if not data:
        raise InvalidInput("The file is empty.", field="file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"The picture is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.", field="file"
        )
    try:
        with warnings.catch_warnings():
            # Pillow warns, then refuses, past its own limit: both are a bomb here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            extension = _FORMATS.get(picture.format or "")
            if extension is None:
                raise InvalidInput(_NOT_A_PICTURE, field="file")
            width, height = picture.size
            if width * height > MAX_UPLOAD_PIXELS:
                raise _too_many_pixels(width, height)
            picture.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(
            f"The picture has too many pixels: at most {MAX_UPLOAD_PIXELS // 1_000_000} "
            "megapixels are accepted.",
            field="file",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(_NOT_A_PICTURE, field="file") from None
    upright = ImageOps.exif_transpose(picture)
    encoded = io.BytesIO()
    if extension == "jpg":
        upright.convert("RGB").save(encoded, "JPEG", quality=95)
    elif extension == "webp":
        upright.save(encoded, "WEBP", quality=95)
    else:
        upright.save(encoded, "PNG", compress_level=6)
    return encoded.getvalue(), extension, upright.width, upright.height


def accept(viewer: CurrentUser, data: bytes) -> UploadView:
    """Check, clean and keep an upload of `viewer`'s. CPU and storage work: call it off
    the event loop."""
    cleaned, extension, width, height = clean_picture(data)
    # Counted once the picture is good: a refused file changes nothing.
    throttle.take(
        "upload", str(viewer.id), limit=UPLOADS_PER_HOUR, window_s=3600, what="uploads per hour"
    )
    key = keys.new_upload_key(extension)
    store = upload_store()
    store.put(key, cleaned, keys.content_type_of(key))
    try:
        with write_session() as db:
            row = ImageUpload(
                public_id=secrets.token_hex(12),
                user_id=viewer.id,
                image_key=key,
                width=width,
                height=height,
                size_bytes=len(cleaned),
            )
            db.add(row)
            db.flush()
            return UploadView.of(row)
    except BaseException:
        store.delete(key)
        raise


def from_creation(viewer: CurrentUser, public_id: object) -> UploadView:
    """One of the viewer's finished creations, kept as an upload to edit ("Edit this
    picture"): a copy, so that deleting either leaves the other as it was."""
    image = creations.open_image(viewer, public_id, thumbnail=False, owner_only=True)
    if image is None:
        raise NotFound("No such image.")
    stored = image.stored
    return accept(viewer, stored.read())


def list_uploads(viewer: CurrentUser) -> list[UploadView]:
    """The viewer's uploads, newest first."""
    with read_session() as db:
        rows = db.exec(
            select(ImageUpload)
            .where(ImageUpload.user_id == viewer.id, col(ImageUpload.deleted_at).is_(None))
            .order_by(col(ImageUpload.created_at).desc(), col(ImageUpload.id).desc())
            .limit(LISTED)
        ).all()
    return [UploadView.of(row) for row in rows]


def _own_row(viewer: CurrentUser, public_id: object) -> ImageUpload | None:
    if not isinstance(public_id, str):
        return None
    with read_session() as db:
        row = db.exec(select(ImageUpload).where(ImageUpload.public_id == public_id)).first()
    if row is None or row.user_id != viewer.id or row.deleted_at is not None:
        return None
    return row


def open_upload(viewer: CurrentUser, public_id: object) -> StoredObject | None:
    """The viewer's own upload's bytes (the caller reads or closes them), else None."""
    row = _own_row(viewer, public_id)
    return None if row is None else upload_store().open(row.image_key)


def delete_upload(viewer: CurrentUser, public_id: object) -> None:
    """Remove one of the viewer's uploads: the row is marked, then the object deleted —
    unless a creation edited from it still exists: the object goes with the last of them
    (creations.delete_creation)."""
    row = _own_row(viewer, public_id)
    if row is None:
        raise NotFound("No such upload.")
    with write_session() as db:
        current = db.get(ImageUpload, row.id)
        if current is None or current.deleted_at is not None:
            return
        current.deleted_at = utcnow()
        db.add(current)
        db.flush()
        unwanted = edit_sources.removable_object(db, current.id)
    if unwanted is not None:
        upload_store().delete(unwanted)
