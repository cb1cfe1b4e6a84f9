"""Template preview images: an admin's upload, or a picture from the offline provider.

Uploaded bytes are never served as they came: the file must decode with Pillow
as PNG, JPEG or WebP, within a byte and a pixel budget checked from the header
before any pixel is decoded (so a decompression bomb costs nothing), and is
re-encoded to a WebP of at most PREVIEW_MAX_SIDE px. Previews are public
catalog images, stored apart from private ones (storage.preview_store) and served
at /template-previews/<key> only while a template points at that key.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel import select

from studio_app.models import ImageCategory, ImageTemplate
from studio_app.providers import offline
from studio_app.services import audit
from studio_app.services.auth import CurrentUser
from studio_app.services.catalog_admin import preview_url, require_admin
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound
from studio_app.services.tiers import get_tier
from studio_app.storage import StoredObject, keys, preview_store

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_PIXELS = 40_000_000  # e.g. 8000×5000; far below what a bomb declares
PREVIEW_MAX_SIDE = 640
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
_WEBP_QUALITY = 82


def _describe_size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size // 1024 or 1} KB"


def _open_checked(data: bytes) -> Image.Image:
    """Open the header only, and refuse anything we would not decode."""
    if not data:
        raise InvalidInput("The file is empty.", field="preview")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            f"The image is {_describe_size(len(data))}; the limit is "
            f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
            field="preview",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput("That file is not a PNG, JPEG or WebP image.", field="preview") from exc
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_UPLOAD_PIXELS:
        raise _too_many_pixels()
    return image


def _too_many_pixels() -> InvalidInput:
    return InvalidInput(
        f"The image has too many pixels; the limit is {MAX_UPLOAD_PIXELS // 1_000_000} megapixels.",
        field="preview",
    )


def _to_webp(image: Image.Image) -> tuple[bytes, int, int]:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=_WEBP_QUALITY, method=4)
    return buffer.getvalue(), image.width, image.height


def reencode_upload(data: bytes) -> tuple[bytes, int, int]:
    """The uploaded bytes as a fresh WebP preview (bytes, width, height), or InvalidInput."""
    image = _open_checked(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if image.format == "JPEG":
                # Decode at a reduced scale: enough for a 640-px preview, far less memory.
                image.draft("RGB", (PREVIEW_MAX_SIDE * 2, PREVIEW_MAX_SIDE * 2))
            image.load()
            image = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput("That image file is damaged or incomplete.", field="preview") from exc
    return _to_webp(image)


def _store(
    actor: CurrentUser, template_id: object, webp: bytes, action: str, source: str, size: str
) -> str:
    """Save the WebP under a new key, point the template at it, audit; returns its URL."""
    if type(template_id) is not int or template_id <= 0:
        raise NotFound("That template does not exist.")
    key = keys.new_preview_key()
    store = preview_store()
    store.put(key, webp, keys.content_type_of(key))
    try:
        with write_session() as db:
            template = db.get(ImageTemplate, template_id)
            if template is None:
                raise NotFound("That template does not exist.")
            old_key = template.preview_image_key
            template.preview_image_key = key
            db.add(template)
            audit.record(
                db,
                actor.id,
                action,
                f"Template “{template.name}”",
                before={"preview": preview_url(old_key) or "none"},
                after={"preview": preview_url(key), "source": source, "size": size},
            )
    except BaseException:
        store.delete(key)
        raise
    # The old picture is unreachable now (the route serves only keys a template holds).
    store.delete(old_key)
    return preview_url(key)


def upload_preview(
    actor: CurrentUser | None, template_id: object, data: bytes, filename: str = ""
) -> str:
    """Check, re-encode and store an uploaded preview for a template; returns its URL."""
    admin = require_admin(actor)
    if not isinstance(data, bytes | bytearray):
        raise InvalidInput("Choose an image file to upload.", field="preview")
    webp, width, height = reencode_upload(bytes(data))
    name = " ".join(str(filename or "").split())[:80] or "an image"
    source = f"upload of {name} ({_describe_size(len(data))})"
    return _store(admin, template_id, webp, "template.preview_upload", source, f"{width}×{height}")


def generate_preview(actor: CurrentUser | None, template_id: object) -> str:
    """Draw a preview with the offline provider from the template's prompt; returns its URL."""
    admin = require_admin(actor)
    if type(template_id) is not int or template_id <= 0:
        raise NotFound("That template does not exist.")
    with read_session() as db:
        template = db.get(ImageTemplate, template_id)
        category = db.get(ImageCategory, template.category_id) if template else None
    if template is None:
        raise NotFound("That template does not exist.")
    tier = get_tier(template.default_tier)
    scale = PREVIEW_MAX_SIDE / max(tier.width, tier.height)
    width, height = round(tier.width * scale), round(tier.height * scale)
    picture = offline.render(template.prompt, width, height, category.slug if category else "")
    webp, width, height = _to_webp(picture)
    return _store(
        admin,
        template_id,
        webp,
        "template.preview_generate",
        "offline provider",
        f"{width}×{height}",
    )


def open_preview(key: object) -> StoredObject | None:
    """The picture behind a public preview URL, or None: a valid key a template holds,
    stored. The caller reads or closes it."""
    if not keys.PREVIEW_KEYS.is_valid(key):
        return None
    with read_session() as db:
        holder = db.exec(
            select(ImageTemplate.id).where(ImageTemplate.preview_image_key == key)
        ).first()
    if holder is None:
        return None
    return preview_store().open(keys.PREVIEW_KEYS.check(key))
