"""A user's generated images: browser-safe views and who may see which file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select

from studio_app.models import GeneratedImage, GenerationStatus
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session
from studio_app.services.tiers import get_tier
from studio_app.storage import local as storage

_PUBLIC_ID = re.compile(r"^[0-9a-f]{24}$")


@dataclass
class CreationView:
    """What a page may show about one creation (no ids of rows or users)."""

    public_id: str = ""
    status: str = ""
    prompt: str = ""
    enhanced_prompt: str = ""
    provider: str = ""
    model: str = ""
    tier: str = ""
    tier_label: str = ""
    width: int = 0
    height: int = 0
    cost_credits: int = 0
    error_code: str = ""
    error_message: str = ""
    image_url: str = ""
    thumbnail_url: str = ""
    created_at: str = ""

    @classmethod
    def of(cls, row: GeneratedImage) -> CreationView:
        succeeded = row.status == GenerationStatus.SUCCEEDED.value
        return cls(
            public_id=row.public_id,
            status=row.status,
            prompt=row.prompt,
            enhanced_prompt=row.enhanced_prompt or "",
            provider=row.provider,
            model=row.model,
            tier=row.tier,
            tier_label=get_tier(row.tier).label,
            width=row.width or 0,
            height=row.height or 0,
            cost_credits=row.cost_credits if succeeded else 0,
            error_code=row.error_code or "",
            error_message=row.error_message or "",
            image_url=f"/images/{row.public_id}" if succeeded else "",
            thumbnail_url=f"/images/{row.public_id}/thumbnail" if succeeded else "",
            created_at=row.created_at.strftime("%d %b %Y, %H:%M UTC"),
        )


def get_creation(viewer: CurrentUser, public_id: str) -> CreationView | None:
    """The creation if `viewer` owns it (or is an admin), else None."""
    row = _visible_row(viewer, public_id)
    return CreationView.of(row) if row else None


def recent_creations(user_id: int, *, limit: int = 12) -> list[CreationView]:
    with read_session() as db:
        rows = db.exec(
            select(GeneratedImage)
            .where(GeneratedImage.user_id == user_id)
            .order_by(col(GeneratedImage.created_at).desc(), col(GeneratedImage.id).desc())
            .limit(limit)
        ).all()
    return [CreationView.of(row) for row in rows]


def _visible_row(viewer: CurrentUser | None, public_id: object) -> GeneratedImage | None:
    if viewer is None or not isinstance(public_id, str) or not _PUBLIC_ID.match(public_id):
        return None
    with read_session() as db:
        row = db.exec(select(GeneratedImage).where(GeneratedImage.public_id == public_id)).first()
    if row is None or (row.user_id != viewer.id and not viewer.is_admin):
        return None
    return row


def image_file(viewer: CurrentUser | None, public_id: object, *, thumbnail: bool) -> Path | None:
    """The file to serve, or None — the same None for "not yours" and "not there"."""
    row = _visible_row(viewer, public_id)
    if row is None or row.status != GenerationStatus.SUCCEEDED.value:
        return None
    key = row.thumbnail_key if thumbnail else row.image_key
    if not storage.exists(key):
        return None
    return storage.path_for(key or "")


def download_name(public_id: str, prompt: str, extension: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:40].rstrip("-")
    return f"studio-{words or 'image'}-{public_id[:8]}.{extension}"
