"""The picture an edit starts from: one of the user's uploads, fitted to the tier.

Fitting is a crop, never a stretch or a border: the largest centred rectangle of the
tier's aspect is cut from the picture and scaled to the tier's size (up or down). The
studio says so beside the picture ("cropped from the centre to 1536×1024").
"""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import ColumnElement, Exists, and_, exists, or_
from sqlmodel import Session, col, select

from studio_app.models import GeneratedImage, GenerationStatus, ImageUpload
from studio_app.providers.base import SourcePicture
from studio_app.services.errors import InvalidInput
from studio_app.storage import upload_store
from studio_app.tiers import Tier

NO_SUCH_UPLOAD = "That picture is not among your uploads any more. Upload it again."
SOURCE_REMOVED = (
    "The picture this image was edited from was removed: the prompt is filled in; "
    "upload the picture again to edit it."
)


def own_upload(db: Session, user_id: int, public_id: object) -> ImageUpload:
    """The user's upload that an edit names, else InvalidInput (changes nothing)."""
    row = None
    if isinstance(public_id, str) and public_id:
        row = db.exec(select(ImageUpload).where(ImageUpload.public_id == public_id)).first()
    if row is None or row.user_id != user_id or row.deleted_at is not None:
        raise InvalidInput(NO_SUCH_UPLOAD, field="source_upload_id")
    return row


def crop_box(width: int, height: int, tier: Tier) -> tuple[int, int, int, int]:
    """The centred rectangle of `tier`'s aspect inside a `width`×`height` picture."""
    target = tier.width / tier.height
    if width / height > target:
        kept = round(height * target)
        left = (width - kept) // 2
        return left, 0, left + kept, height
    kept = round(width / target)
    top = (height - kept) // 2
    return 0, top, width, top + kept


def fit_note(width: int, height: int, tier: Tier) -> str:
    """What fitting does to a `width`×`height` picture, said for people."""
    left, top, right, bottom = crop_box(width, height, tier)
    size = f"{tier.width}×{tier.height}"
    if (right - left, bottom - top) == (width, height):
        if (width, height) == (tier.width, tier.height):
            return f"Used as it is ({size})."
        return f"Scaled to {size}; nothing is cut off."
    cut = "its sides" if right - left < width else "its top and bottom"
    return f"Cropped from the centre to {tier.aspect_ratio} ({size}): {cut} are cut off."


def _on_white(picture: Image.Image) -> Image.Image:
    """RGB; a transparent picture (a logo, a cut-out) laid on white, not on black."""
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return picture.convert("RGB")


def fitted(data: bytes, tier: Tier) -> SourcePicture:
    """The upload's bytes fitted to `tier`. CPU work: call it off the event loop."""
    # (Uploads were turned upright when they were kept: no EXIF is left to apply.)
    with Image.open(io.BytesIO(data)) as opened:
        picture = _on_white(opened)
    box = crop_box(picture.width, picture.height, tier)
    picture = picture.resize((tier.width, tier.height), Image.Resampling.LANCZOS, box=box)
    encoded = io.BytesIO()
    picture.save(encoded, "PNG", compress_level=3)
    return SourcePicture(
        data=encoded.getvalue(), width=tier.width, height=tier.height, picture=picture
    )


def load_fitted(image_key: str, tier: Tier) -> SourcePicture:
    """Read an upload's object and fit it; StorageError or OSError when it cannot be read."""
    stored = upload_store().open(image_key)
    if stored is None:
        raise FileNotFoundError(f"upload object {image_key} is missing")
    return fitted(stored.read(), tier)


def _wants_its_picture() -> ColumnElement[bool]:
    """A creation that is not deleted and did not fail (a failed edit never needs its
    picture again: done again, it names the upload anew)."""
    return and_(
        col(GeneratedImage.deleted_at).is_(None),
        col(GeneratedImage.status) != GenerationStatus.FAILED.value,
    )


def is_referenced(db: Session, upload_id: int) -> bool:
    """Whether a creation made (or being made) from the upload still wants its picture."""
    found = db.exec(
        select(GeneratedImage.id).where(
            GeneratedImage.source_upload_id == upload_id, _wants_its_picture()
        )
    ).first()
    return found is not None


def _used_by_a_creation() -> Exists:
    return exists().where(
        col(GeneratedImage.source_upload_id) == col(ImageUpload.id), _wants_its_picture()
    )


def kept_upload_keys(db: Session) -> set[str]:
    """The objects of uploads still wanted: not removed by their owner, or removed but
    still the picture of a creation that is not deleted."""
    return set(
        db.exec(
            select(ImageUpload.image_key).where(
                or_(col(ImageUpload.deleted_at).is_(None), _used_by_a_creation())
            )
        ).all()
    )


def removable_object(db: Session, upload_id: int | None) -> str | None:
    """The upload's object key when nothing wants it any more (removed by its owner and
    no creation left uses it), else None."""
    if upload_id is None:
        return None
    upload = db.get(ImageUpload, upload_id)
    if upload is None or upload.deleted_at is None or is_referenced(db, upload_id):
        return None
    return upload.image_key
