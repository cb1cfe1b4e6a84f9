"""Your public profile over HTTP: the display name others see on what you publish."""

from __future__ import annotations

from fastapi import APIRouter

from studio_app.api import schemas
from studio_app.api.callers import Caller
from studio_app.api.errors import responses
from studio_app.services import profiles

router = APIRouter(prefix="/api/studio/profile", tags=["profile"])


@router.get("", responses=responses(401))
def read_profile(viewer: Caller) -> schemas.Profile:
    """Your display name ("" until you choose one)."""
    return schemas.Profile(display_name=profiles.profile_of(viewer.id).display_name)


@router.put("", responses=responses(401, 422))
def change_profile(viewer: Caller, body: schemas.ProfileChange) -> schemas.Profile:
    """Choose or change your display name: 3–30 letters, digits, spaces and . _ - ',
    unique ignoring case and accents, not your email."""
    return schemas.Profile(
        display_name=profiles.set_display_name(viewer, body.display_name).display_name
    )
