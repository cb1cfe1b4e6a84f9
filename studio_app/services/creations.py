"""A user's generated images: browser-safe views, paging, deletion and reuse.

Every function here takes the viewer and only ever returns or changes the
viewer's own creations (images are also served to admins, read-only).

Deleting is a soft delete: the files go at once and the row disappears from
every user view, but the row stays (marked `deleted_at`, file keys cleared)
because the ledger's capture, the credit hold and the admin statistics point
at it — a deleted image was still generated, and still paid for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, tuple_
from sqlmodel import col, select
from sqlmodel.sql.expression import Select

from studio_app.clock import as_utc, utcnow
from studio_app.models import GeneratedImage, GenerationStatus, ImageTemplate, ImageUpload
from studio_app.providers.registry import get_provider
from studio_app.services import catalog, community, edit_sources
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound
from studio_app.services.generation import GenerationRequest
from studio_app.services.tiers import get_tier
from studio_app.storage import StoredObject, image_store, keys, upload_store

PUBLIC_ID = re.compile(r"^[0-9a-f]{24}$")
PAGE_SIZE = 24
MAX_PAGE_SIZE = 100


@dataclass
class CreationView:
    """What a page may show about one creation (no ids of rows or users)."""

    public_id: str = ""
    # The request it was made for (several images may share one) and its place there.
    request_id: str = ""
    request_index: int = 0
    status: str = ""
    prompt: str = ""
    enhanced_prompt: str = ""
    template_name: str = ""
    provider: str = ""
    provider_label: str = ""
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
    download_url: str = ""
    created_at: str = ""
    created_iso: str = ""
    # Seconds from start to finish (finished) or to now (still pending).
    elapsed_seconds: int = 0
    # Made by editing one of the owner's uploads.
    is_edit: bool = False

    @classmethod
    def of(cls, row: GeneratedImage, template_name: str | None = None) -> CreationView:
        succeeded = row.status == GenerationStatus.SUCCEEDED.value
        provider = get_provider(row.provider)
        if row.duration_ms is not None:
            elapsed = row.duration_ms // 1000
        else:
            elapsed = max(0, int((utcnow() - as_utc(row.created_at)).total_seconds()))
        image_url = f"/images/{row.public_id}" if succeeded else ""
        return cls(
            public_id=row.public_id,
            request_id=row.request_id,
            request_index=row.request_index,
            is_edit=row.source_upload_id is not None,
            status=row.status,
            prompt=row.prompt,
            enhanced_prompt=row.enhanced_prompt or "",
            template_name=template_name or "",
            provider=row.provider,
            provider_label=provider.label if provider else row.provider,
            model=row.model,
            tier=row.tier,
            tier_label=get_tier(row.tier).label,
            width=row.width or 0,
            height=row.height or 0,
            # Failed and pending creations cost nothing (their hold was or will be released).
            cost_credits=row.cost_credits if succeeded else 0,
            error_code=row.error_code or "",
            error_message=row.error_message or "",
            image_url=image_url,
            thumbnail_url=f"{image_url}/thumbnail" if succeeded else "",
            download_url=f"{image_url}?download=1" if succeeded else "",
            created_at=as_utc(row.created_at).strftime("%d %b %Y, %H:%M UTC"),
            created_iso=as_utc(row.created_at).isoformat(),
            elapsed_seconds=elapsed,
        )


def _with_template_names(
    query: Select[GeneratedImage, str],
) -> Select[GeneratedImage, str]:
    return query.outerjoin(ImageTemplate, col(ImageTemplate.id) == col(GeneratedImage.template_id))


def _own_live_row(viewer: CurrentUser | None, public_id: object) -> GeneratedImage | None:
    """The viewer's own, not-deleted creation, or None."""
    row = _visible_row(viewer, public_id)
    if row is None or viewer is None or row.user_id != viewer.id:
        return None
    return row


def _visible_row(viewer: CurrentUser | None, public_id: object) -> GeneratedImage | None:
    if viewer is None or not isinstance(public_id, str) or not PUBLIC_ID.match(public_id):
        return None
    with read_session() as db:
        row = db.exec(select(GeneratedImage).where(GeneratedImage.public_id == public_id)).first()
    if row is None or row.deleted_at is not None:
        return None
    if row.user_id != viewer.id and not viewer.is_admin:
        return None
    return row


def _view_with_template_name(row: GeneratedImage) -> CreationView:
    name = None
    if row.template_id is not None:
        with read_session() as db:
            template = db.get(ImageTemplate, row.template_id)
            name = template.name if template else None
    return CreationView.of(row, name)


def get_creation(viewer: CurrentUser, public_id: str) -> CreationView | None:
    """The creation if `viewer` owns it (or is an admin), else None."""
    row = _visible_row(viewer, public_id)
    return None if row is None else _view_with_template_name(row)


def get_own_creation(viewer: CurrentUser, public_id: object) -> CreationView | None:
    """The creation if `viewer` owns it (admins included: only their own), else None."""
    row = _own_live_row(viewer, public_id)
    return None if row is None else _view_with_template_name(row)


def request_creations(viewer: CurrentUser, request_id: str) -> list[CreationView]:
    """The viewer's own, not-deleted images of one request, in the order asked for."""
    with read_session() as db:
        rows = db.exec(
            _with_template_names(select(GeneratedImage, ImageTemplate.name))
            .where(
                GeneratedImage.request_id == request_id,
                GeneratedImage.user_id == viewer.id,
                col(GeneratedImage.deleted_at).is_(None),
            )
            .order_by(col(GeneratedImage.request_index))
        ).all()
    return [CreationView.of(row, name) for row, name in rows]


def request_note(view: CreationView) -> str:
    """ "Image 2 of 4 made together" for an image of a request for several, else ""."""
    with read_session() as db:
        size = db.exec(
            select(func.count())
            .select_from(GeneratedImage)
            .where(GeneratedImage.request_id == view.request_id)
        ).one()
    return f"Image {view.request_index + 1} of {size} made together" if size > 1 else ""


def recent_creations(user_id: int, *, limit: int = 12) -> list[CreationView]:
    with read_session() as db:
        rows = db.exec(
            _with_template_names(select(GeneratedImage, ImageTemplate.name))
            .where(GeneratedImage.user_id == user_id, col(GeneratedImage.deleted_at).is_(None))
            .order_by(col(GeneratedImage.created_at).desc(), col(GeneratedImage.id).desc())
            .limit(limit)
        ).all()
    return [CreationView.of(row, name) for row, name in rows]


# --- My Creations: filters and keyset paging -------------------------------------------------


@dataclass(frozen=True)
class CreationFilters:
    """Checked filters; build them with `parse_filters`."""

    template_id: int | None = None
    provider: str | None = None
    created_from: datetime | None = None  # inclusive, UTC
    created_before: datetime | None = None  # exclusive, UTC


def _parse_day(text: object, label: str) -> date | None:
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise InvalidInput(f"The {label} date must be a date like 2026-01-31.", field=label)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"The {label} date must be a date like 2026-01-31.", field=label
        ) from None


def parse_filters(
    *, template: object = "", provider: object = "", date_from: object = "", date_to: object = ""
) -> CreationFilters:
    """Filters from what the page sent (untrusted): "" or "all" means no filter.

    Dates are whole UTC days, both ends included.
    """
    template_id: int | None = None
    if template not in ("", "all", None):
        try:
            template_id = int(str(template))
        except ValueError:
            raise InvalidInput("Unknown template.", field="template") from None
        if template_id <= 0:
            raise InvalidInput("Unknown template.", field="template")
    provider_name: str | None = None
    if provider not in ("", "all", None):
        if not isinstance(provider, str) or not re.fullmatch(r"[a-z0-9_-]{1,32}", provider):
            raise InvalidInput("Unknown provider.", field="provider")
        provider_name = provider
    start = _parse_day(date_from, "from")
    end = _parse_day(date_to, "to")
    if start and end and end < start:
        raise InvalidInput("The 'to' date is before the 'from' date.", field="to")
    tz = utcnow().tzinfo
    return CreationFilters(
        template_id=template_id,
        provider=provider_name,
        created_from=datetime.combine(start, time.min, tz) if start else None,
        created_before=datetime.combine(end + timedelta(days=1), time.min, tz) if end else None,
    )


@dataclass
class CreationsPage:
    items: list[CreationView] = field(default_factory=list)
    # The public id of the last item: pass it back for the next page. None: no more.
    next_cursor: str | None = None


def list_creations(
    viewer: CurrentUser,
    *,
    filters: CreationFilters | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> CreationsPage:
    """One page of the viewer's own creations, newest first.

    Keyset paging on (created_at, id) — the order of ix_generated_image_user_created —
    so page 200 costs what page 1 costs: no OFFSET, no counting, no loading all rows.
    The cursor is the last item's public id; it must be one of the viewer's creations.
    """
    filters = filters or CreationFilters()
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    query = _with_template_names(select(GeneratedImage, ImageTemplate.name)).where(
        GeneratedImage.user_id == viewer.id, col(GeneratedImage.deleted_at).is_(None)
    )
    with read_session() as db:
        if cursor is not None:
            anchor = None
            if isinstance(cursor, str) and PUBLIC_ID.match(cursor):
                anchor = db.exec(
                    select(GeneratedImage.created_at, GeneratedImage.id).where(
                        GeneratedImage.public_id == cursor, GeneratedImage.user_id == viewer.id
                    )
                ).first()
            if anchor is None:
                raise InvalidInput("That page of creations is not available.", field="cursor")
            created, row_id = anchor
            # A row value, not `created_at < x OR (created_at = x AND id < y)`: SQLite
            # seeks the index to the cursor with it, where the OR made it walk (and read
            # the table row of) every creation before the cursor — page 400 read 9,600.
            query = query.where(
                tuple_(col(GeneratedImage.created_at), col(GeneratedImage.id))
                < tuple_(created, row_id)
            )
        if filters.template_id is not None:
            query = query.where(GeneratedImage.template_id == filters.template_id)
        if filters.provider is not None:
            query = query.where(GeneratedImage.provider == filters.provider)
        if filters.created_from is not None:
            query = query.where(col(GeneratedImage.created_at) >= filters.created_from)
        if filters.created_before is not None:
            query = query.where(col(GeneratedImage.created_at) < filters.created_before)
        rows = db.exec(
            query.order_by(
                col(GeneratedImage.created_at).desc(), col(GeneratedImage.id).desc()
            ).limit(limit + 1)
        ).all()
    items = [CreationView.of(row, name) for row, name in rows[:limit]]
    more = len(rows) > limit
    return CreationsPage(items=items, next_cursor=items[-1].public_id if more else None)


@dataclass
class FilterChoice:
    value: str = ""
    label: str = ""


@dataclass
class FilterChoices:
    templates: list[FilterChoice] = field(default_factory=list)
    providers: list[FilterChoice] = field(default_factory=list)


def filter_choices(viewer: CurrentUser) -> FilterChoices:
    """The templates and providers the viewer has actually used (so no filter is empty)."""
    live = (GeneratedImage.user_id == viewer.id, col(GeneratedImage.deleted_at).is_(None))
    with read_session() as db:
        # One index seek per template of the catalog, however many images the user has.
        used = (
            select(GeneratedImage.id)
            .where(*live, col(GeneratedImage.template_id) == col(ImageTemplate.id))
            .exists()
        )
        templates = db.exec(
            select(ImageTemplate.id, ImageTemplate.name)
            .where(used)
            .order_by(col(ImageTemplate.name))
        ).all()
        providers = db.exec(
            select(GeneratedImage.provider).where(*live).distinct().order_by("provider")
        ).all()
    provider_choices = []
    for name in providers:
        provider = get_provider(name)
        provider_choices.append(FilterChoice(name, provider.label if provider else name))
    return FilterChoices(
        templates=[FilterChoice(str(template_id), name) for template_id, name in templates],
        providers=provider_choices,
    )


# --- Delete -------------------------------------------------------------------------------


def delete_creation(viewer: CurrentUser, public_id: object) -> None:
    """Delete one of the viewer's own creations: files removed, row hidden, ledger untouched.

    NotFound for anything that is not the viewer's (admins included: this is the
    owner's action) or that is already deleted; InvalidInput while it is still
    being made.
    """
    if not isinstance(public_id, str) or not PUBLIC_ID.match(public_id):
        raise NotFound("No such image.")
    with write_session() as db:
        row = db.exec(
            select(GeneratedImage).where(
                GeneratedImage.public_id == public_id,
                GeneratedImage.user_id == viewer.id,
                col(GeneratedImage.deleted_at).is_(None),
            )
        ).first()
        if row is None:
            raise NotFound("No such image.")
        if row.status == GenerationStatus.PENDING.value:
            raise InvalidInput("This image is still being made. Delete it when it is done.")
        stored_keys = (row.image_key, row.thumbnail_key)
        row.deleted_at = utcnow()
        # With the keys cleared, a file that cannot be removed now is an orphan the
        # reconciler removes later.
        row.image_key = row.thumbnail_key = None
        db.add(row)
        db.flush()
        # An edit's picture its owner removed goes with the last creation made from it.
        unwanted_upload = edit_sources.removable_object(db, row.source_upload_id)
        # Its post, if it was published, goes now: nothing public is left of it.
        post_objects = community.drop_post_of_creation(db, row.id)
    store = image_store()
    for key in stored_keys:
        store.delete(key)
    if unwanted_upload is not None:
        upload_store().delete(unwanted_upload)
    community.delete_objects(post_objects)


# --- Reuse: "Use this prompt" and "Generate again" ----------------------------------------


@dataclass(frozen=True)
class ReuseSettings:
    """What the studio form needs to make a creation again."""

    prompt: str
    enhanced_prompt: str | None
    tier: str
    provider: str
    template_id: int | None  # None when the template is gone or deactivated
    template_name: str
    negative_prompt: str | None
    seed: int | None
    # An edit's picture: the upload's public id (refused by the generation path once its
    # owner has removed it) and, while it is there, its size.
    source_upload_id: str | None = None
    source_width: int = 0
    source_height: int = 0
    source_removed: bool = False

    def request(self) -> GenerationRequest:
        return GenerationRequest(
            prompt=self.prompt,
            enhanced_prompt=self.enhanced_prompt,
            tier=self.tier,
            provider=self.provider,
            template_id=self.template_id,
            negative_prompt=self.negative_prompt,
            seed=self.seed,
            source_upload_id=self.source_upload_id,
        )


def reuse_settings(viewer: CurrentUser | None, public_id: object) -> ReuseSettings | None:
    """The settings of the viewer's own creation, or None (not theirs, not there, deleted)."""
    row = _own_live_row(viewer, public_id)
    if row is None:
        return None
    template_id, template_name = None, ""
    source = None
    with read_session() as db:
        if row.template_id is not None:
            active = catalog.active_template(db, row.template_id)
            if active is not None:
                template_id, template_name = active.id, active.name
        if row.source_upload_id is not None:
            source = db.get(ImageUpload, row.source_upload_id)
    return ReuseSettings(
        prompt=row.prompt,
        enhanced_prompt=row.enhanced_prompt,
        tier=row.tier,
        provider=row.provider,
        template_id=template_id,
        template_name=template_name,
        negative_prompt=row.negative_prompt,
        seed=row.seed,
        source_upload_id=source.public_id if source else None,
        source_width=source.width if source else 0,
        source_height=source.height if source else 0,
        source_removed=source is not None and source.deleted_at is not None,
    )


# --- Files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageToServe:
    """An image opened for its viewer, and the file name a download of it gets."""

    stored: StoredObject
    download_name: str


def open_image(
    viewer: CurrentUser | None, public_id: object, *, thumbnail: bool, owner_only: bool = False
) -> ImageToServe | None:
    """The image to serve, or None — the same None for "not yours" and "not there".

    Admins may see every image unless `owner_only`. The caller reads or closes `stored`.
    """
    row = (_own_live_row if owner_only else _visible_row)(viewer, public_id)
    return _image_to_serve(row, thumbnail=thumbnail)


def _image_to_serve(row: GeneratedImage | None, *, thumbnail: bool) -> ImageToServe | None:
    if row is None or row.status != GenerationStatus.SUCCEEDED.value:
        return None
    key = row.thumbnail_key if thumbnail else row.image_key
    stored = image_store().open(key) if key else None
    if stored is None:
        return None
    return ImageToServe(
        stored, download_name(row.public_id, row.prompt, keys.extension_of(stored.key))
    )


def open_linked_image(public_id: object) -> ImageToServe | None:
    """The original of a made, not deleted image, for a signed link (checked by the
    caller, services/signed_links.py): no viewer, the link is the permission."""
    if not isinstance(public_id, str) or not PUBLIC_ID.match(public_id):
        return None
    with read_session() as db:
        row = db.exec(select(GeneratedImage).where(GeneratedImage.public_id == public_id)).first()
    if row is not None and row.deleted_at is not None:
        return None
    return _image_to_serve(row, thumbnail=False)


def download_name(public_id: str, prompt: str, extension: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:40].rstrip("-")
    return f"studio-{words or 'image'}-{public_id[:8]}.{extension}"
