"""The generation path (ARCHITECTURE.md, "The generation path"):

1. validate                        → InvalidInput etc., nothing written
2. hold + pending row              → one write transaction
3. provider call                   → our timeout, bounded retries for transient errors
4. original + thumbnail written    → storage
5. capture + succeeded             → one write transaction
   or release + failed (error code) on any failure in 3–4
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import re
import secrets
import time
import weakref
from dataclasses import asdict, dataclass, replace

from PIL import Image, UnidentifiedImageError
from sqlalchemy import func
from sqlmodel import Session, col, select

from studio_app.clock import utcnow
from studio_app.models import (
    CreditHold,
    GeneratedImage,
    GenerationStatus,
    ImageCategory,
    ImageTemplate,
    ImageUpload,
    ProviderSetting,
)
from studio_app.providers.base import (
    ImageProvider,
    ImageRequest,
    ImageTooSmall,
    MalformedResponse,
    ModelUnavailable,
    NotConfigured,
    ProviderError,
    ProviderImage,
)
from studio_app.providers.registry import get_provider
from studio_app.services import (
    catalog,
    edit_sources,
    ledger,
    provider_batch,
    provider_models,
    provider_switches,
    throttle,
)
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import (
    HoldNotOpen,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    NotFound,
    StudioError,
)
from studio_app.services.tiers import get_tier
from studio_app.services.validation import MAX_PROMPT_CHARS, clean_prompt, clean_text
from studio_app.settings import get_settings
from studio_app.storage import StorageError, image_store, keys
from studio_app.tiers import Tier

log = logging.getLogger(__name__)

MAX_NEGATIVE_PROMPT_CHARS = 1000
MAX_SEED = 2**32 - 1
MAX_IMAGES_PER_REQUEST = 4
PROVIDER_ATTEMPTS = 3
THUMBNAIL_BOX = (384, 384)
_FORMATS = {"PNG": "png", "WEBP": "webp", "JPEG": "jpg"}
_MIME_EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}

STORAGE_FAILED = "storage_failed"
INTERNAL_ERROR = "internal_error"
EXPIRED = "expired"
INTERRUPTED = "interrupted"
FILE_MISSING = "file_missing"
QUEUE_UNAVAILABLE = "queue_unavailable"
CANCELLED = "cancelled"
SOURCE_MISSING = "source_missing"
ERROR_MESSAGES = {
    STORAGE_FAILED: "We could not save the image. Your credits were not charged.",
    INTERNAL_ERROR: "Something went wrong on our side. Your credits were not charged.",
    EXPIRED: "The image took too long to arrive. Your credits were not charged.",
    INTERRUPTED: "The server restarted while this image was being made. No credits were charged.",
    FILE_MISSING: "The image file was lost. Its credits were refunded.",
    CANCELLED: "You cancelled this image. No credits were charged.",
    SOURCE_MISSING: "The picture to edit could not be read. Your credits were not charged.",
    QUEUE_UNAVAILABLE: "We could not start your image just now. Nothing was charged. "
    "Please try again.",
}


class TooManyJobs(StudioError):
    code = "too_many_jobs"


_THROTTLE_KIND = "generate"
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,100}$")
_SLOTS_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
_IN_PROGRESS: set[str] = set()
# The provider call of each request this process is making, by request id: a cancel
# stops it (stop_provider_call).
_PROVIDER_CALLS: dict[str, asyncio.Future[list[provider_batch.Outcome]]] = {}


# Other names a client may give a provider: the reference report calls the offline one `mock`.
# A request naming one is the request naming the provider (stored, listed and fingerprinted so).
PROVIDER_ALIASES = {"mock": "offline"}


def provider_name(name: str) -> str:
    """The provider a request names, an alias resolved to the provider's own name."""
    # A browser event may send any value: only text can be an alias.
    return PROVIDER_ALIASES.get(name, name) if isinstance(name, str) else name


@dataclass(frozen=True)
class GenerationRequest:
    prompt: str
    tier: str = "standard"
    provider: str = "offline"
    template_id: int | None = None
    # The enhanced text the user accepted; when set, it is what the provider receives.
    enhanced_prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    # How many images (1–MAX_IMAGES_PER_REQUEST): each its own creation, hold and charge.
    count: int = 1
    # An edit: the public id of the user's upload to change as the prompt says.
    source_upload_id: str | None = None
    # A hash of the picture a client sent with the request (/v1 edits): part of the
    # request's fingerprint only, so that a key reused with another picture is refused.
    source_digest: str | None = None


@dataclass(frozen=True)
class ImageTicket:
    """One image of a request: its pending row and its hold."""

    generation_id: int
    public_id: str
    hold_id: int
    cost: int


@dataclass(frozen=True)
class Ticket:
    """A request whose images have their holds and pending rows: one job."""

    # The request's id, which is its first image's public id and its job's id.
    public_id: str
    images: tuple[ImageTicket, ...]
    # True when an earlier request with the same idempotency key made these images.
    replayed: bool = False

    @property
    def cost(self) -> int:
        """Credits held for the whole request."""
        return sum(image.cost for image in self.images)


@dataclass(frozen=True)
class _Validated:
    prompt: str
    enhanced_prompt: str | None
    negative_prompt: str | None
    seed: int | None
    tier: Tier
    provider: ImageProvider
    # The provider's model now (the admin's choice, else the server's); the row keeps it.
    model: str
    template_id: int | None
    count: int
    # An edit's picture (edit_sources.own_upload): the row's id.
    source_upload_id: int | None = None


def _valid_count(count: object) -> int:
    if type(count) is not int or not 1 <= count <= MAX_IMAGES_PER_REQUEST:
        raise InvalidInput(
            f"Ask for 1 to {MAX_IMAGES_PER_REQUEST} images at a time.", field="count"
        )
    return count


def validate(db: Session, request: GenerationRequest, user_id: int) -> _Validated:
    """Check everything about `user_id`'s request; raise a StudioError naming the problem."""
    prompt = clean_prompt(request.prompt)
    enhanced = clean_text(
        request.enhanced_prompt,
        field="enhanced_prompt",
        label="enhanced prompt",
        limit=MAX_PROMPT_CHARS,
        required=False,
    )
    negative = clean_text(
        request.negative_prompt,
        field="negative_prompt",
        label="negative prompt",
        limit=MAX_NEGATIVE_PROMPT_CHARS,
        required=False,
    )
    count = _valid_count(request.count)
    seed = request.seed
    if seed is not None and (type(seed) is not int or not 0 <= seed <= MAX_SEED):
        raise InvalidInput(f"The seed must be a whole number from 0 to {MAX_SEED}.", field="seed")
    tier = get_tier(request.tier)
    provider = get_provider(request.provider)
    if provider is None:
        raise InvalidInput(f"Unknown provider {request.provider!r}.", field="provider")
    if not provider.is_configured():
        raise InvalidInput(f"{provider.label}: {NotConfigured.user_message}", field="provider")
    setting = db.get(ProviderSetting, provider.name)
    unavailable = provider_switches.unavailable_reason(provider, setting)
    if unavailable:
        raise InvalidInput(
            f"{provider.label} is {unavailable} for now. Choose another provider.",
            field="provider",
        )
    model = provider_models.effective_model(provider, setting)
    reason = provider.unavailable_tiers(model).get(tier.id)
    if reason:
        raise InvalidInput(
            f"{tier.label} is not available with {provider.label}: {reason}", field="tier"
        )
    source_upload_id = None
    if request.source_upload_id is not None:
        source_upload_id = edit_sources.own_upload(db, user_id, request.source_upload_id).id
        why_not = provider.edit_unavailable(model)
        if why_not:
            raise InvalidInput(
                f"{provider.label} cannot edit pictures: {why_not}", field="provider"
            )
    template_id = request.template_id
    if template_id is not None:
        if type(template_id) is not int:
            raise InvalidInput("Unknown template.", field="template_id")
        found = catalog.active_template(db, template_id)
        if found is None:
            raise InvalidInput("That template is not available any more.", field="template_id")
    return _Validated(
        prompt=prompt,
        enhanced_prompt=enhanced or None,
        negative_prompt=negative or None,
        seed=seed,
        tier=tier,
        provider=provider,
        model=model,
        template_id=template_id,
        count=count,
        source_upload_id=source_upload_id,
    )


def running_count(db: Session, user_id: int) -> int:
    """The user's requests (jobs) still in progress: 4 images of one request are one."""
    return db.exec(
        select(func.count(func.distinct(GeneratedImage.request_id))).where(
            GeneratedImage.user_id == user_id,
            GeneratedImage.status == GenerationStatus.PENDING.value,
        )
    ).one()


def request_hash(request: GenerationRequest) -> str:
    """What a client asked for, so a reused Idempotency-Key with another request is refused."""
    asked = asdict(request)
    # As fingerprints were before several images and edits: keys stay replayable.
    if asked["count"] == 1:
        del asked["count"]
    for absent in ("source_upload_id", "source_digest"):
        if asked[absent] is None:
            del asked[absent]
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


def _valid_idempotency_key(key: object) -> str:
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInput(
            "An Idempotency-Key is 8 to 100 letters, digits, '-', '_', ':' or '.'.",
            field="idempotency_key",
        )
    return key


def _replay(db: Session, user_id: int, key: str, fingerprint: str) -> Ticket | None:
    row = db.exec(
        select(GeneratedImage).where(
            GeneratedImage.user_id == user_id, GeneratedImage.idempotency_key == key
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used for a different request. "
            "Use a new key for a new image."
        )
    return ticket_of(db, request_rows(db, row.request_id), replayed=True)


def edit_source_of(user_id: int, idempotency_key: str) -> str | None:
    """The upload that the user's edit with this idempotency key changed, if there was
    one: a retried edit edits the same picture rather than uploading it again."""
    with read_session() as db:
        found = db.exec(
            select(ImageUpload.public_id)
            .join(GeneratedImage, col(GeneratedImage.source_upload_id) == ImageUpload.id)
            .where(
                GeneratedImage.user_id == user_id,
                GeneratedImage.idempotency_key == idempotency_key,
            )
        ).first()
    return found


def request_rows(db: Session, request_id: str) -> list[GeneratedImage]:
    """The images of one request, in order."""
    return list(
        db.exec(
            select(GeneratedImage)
            .where(GeneratedImage.request_id == request_id)
            .order_by(col(GeneratedImage.request_index))
        ).all()
    )


def ticket_of(db: Session, rows: list[GeneratedImage], *, replayed: bool = False) -> Ticket:
    """The ticket of a started request, from its rows (`request_rows`): each image's hold
    is made with its row."""
    ids = [row.id for row in rows]
    holds = dict(
        db.exec(
            select(CreditHold.generation_id, CreditHold.id).where(
                col(CreditHold.generation_id).in_(ids)
            )
        ).all()
    )
    images = []
    for row in rows:
        hold_id = holds.get(row.id)
        assert row.id is not None and hold_id is not None
        images.append(ImageTicket(row.id, row.public_id, hold_id, row.cost_credits))
    return Ticket(public_id=rows[0].request_id, images=tuple(images), replayed=replayed)


def start(
    user_id: int, request: GenerationRequest, *, idempotency_key: str | None = None
) -> Ticket:
    """Steps 1–2: validate, then hold each image's price and write its pending row,
    atomically.

    With an idempotency key, a request already made with that key returns the first
    ticket (`replayed`) and nothing new is held or started.
    """
    settings = get_settings()
    request = replace(request, provider=provider_name(request.provider))
    fingerprint = request_hash(request) if idempotency_key is not None else None
    with write_session() as db:
        if idempotency_key is not None:
            key = _valid_idempotency_key(idempotency_key)
            assert fingerprint is not None
            replayed = _replay(db, user_id, key, fingerprint)
            if replayed is not None:
                return replayed
        checked = validate(db, request, user_id)
        limit = settings.max_concurrent_generations
        if running_count(db, user_id) >= limit:
            raise TooManyJobs(
                f"You already have {limit} generations in progress. Wait for one to finish."
            )
        # Counted in this transaction: a request refused below is not counted.
        throttle.take_in(
            db,
            _THROTTLE_KIND,
            str(user_id),
            limit=settings.generations_per_minute,
            window_s=60,
            what="images per minute",
            amount=checked.count,
        )
        request_id = secrets.token_hex(12)
        images = []
        for index in range(checked.count):
            row = GeneratedImage(
                public_id=request_id if index == 0 else secrets.token_hex(12),
                request_id=request_id,
                request_index=index,
                user_id=user_id,
                template_id=checked.template_id,
                source_upload_id=checked.source_upload_id,
                prompt=checked.prompt,
                enhanced_prompt=checked.enhanced_prompt,
                negative_prompt=checked.negative_prompt,
                # Each image its own seed, so that the images differ and each can be redone.
                seed=None if checked.seed is None else (checked.seed + index) % (MAX_SEED + 1),
                provider=checked.provider.name,
                model=checked.model,
                tier=checked.tier.id,
                cost_credits=checked.tier.credits,
                idempotency_key=idempotency_key if index == 0 else None,
                request_hash=fingerprint if index == 0 else None,
            )
            db.add(row)
            db.flush()
            assert row.id is not None
            try:
                hold = ledger.place_hold(db, user_id, checked.tier.credits, generation_id=row.id)
            except InsufficientCredits as short:
                # Said for the whole request: 4 images need 4 prices.
                held = index * checked.tier.credits
                raise InsufficientCredits(
                    needed=checked.tier.credits * checked.count, available=short.available + held
                ) from None
            assert hold.id is not None
            images.append(ImageTicket(row.id, row.public_id, hold.id, hold.amount))
        return Ticket(public_id=request_id, images=tuple(images))


def _provider_slots() -> asyncio.Semaphore:
    """The process-wide limit on provider calls in flight (one semaphore per event loop)."""
    loop = asyncio.get_running_loop()
    slots = _SLOTS_BY_LOOP.get(loop)
    if slots is None:
        slots = asyncio.Semaphore(get_settings().max_parallel_generations)
        _SLOTS_BY_LOOP[loop] = slots
    return slots


def is_running(request_id: str) -> bool:
    """True while this process is working on the request (not waiting for a slot)."""
    return request_id in _IN_PROGRESS


class _Stopped(ProviderError):
    """The owner cancelled the request while its provider call was in flight."""

    code = CANCELLED
    user_message = ERROR_MESSAGES[CANCELLED]


def stop_provider_call(request_id: str) -> bool:
    """Stop the request's provider call if this process is making it (a cancel); the
    images it would have made are not made. True when there was one to stop."""
    call = _PROVIDER_CALLS.get(request_id)
    if call is None or call.done():
        return False
    call.cancel()
    return True


async def _call_unless_cancelled(
    request_id: str, provider: ImageProvider, requests: list[ImageRequest]
) -> list[provider_batch.Outcome]:
    # Cancelled while it waited for a slot (or a worker): nothing to ask for.
    if not await asyncio.to_thread(any_pending, request_id):
        return [_Stopped("cancelled before its provider call")] * len(requests)
    return await _call_provider(provider, requests)


async def _stoppable_call(
    request_id: str, provider: ImageProvider, requests: list[ImageRequest]
) -> list[provider_batch.Outcome]:
    """The provider call, registered before anything else so that a cancel recorded at
    any moment from here on stops it (stop_provider_call)."""
    call = asyncio.ensure_future(_call_unless_cancelled(request_id, provider, requests))
    _PROVIDER_CALLS[request_id] = call
    try:
        return await call
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # this job itself is being stopped (shutdown), not only its call
        return [_Stopped("cancelled by its owner")] * len(requests)
    finally:
        if _PROVIDER_CALLS.get(request_id) is call:
            del _PROVIDER_CALLS[request_id]


async def _call_provider(
    provider: ImageProvider, requests: list[ImageRequest]
) -> list[provider_batch.Outcome]:
    """Our timeout and the shared retry policy (services/provider_calls.py), per call."""
    return await provider_batch.make_images(
        provider,
        requests,
        timeout=get_settings().provider_timeout_seconds,
        attempts=PROVIDER_ATTEMPTS,
    )


def _thumbnail_webp(picture: Image.Image) -> bytes:
    """The WebP thumbnail. An RGB `picture` is shrunk in place (a copy costs ~5 ms)."""
    thumbnail = picture if picture.mode == "RGB" else picture.convert("RGB")
    # Halving first (reducing_gap=1) and WebP's method 2 take ~11 ms less per image than
    # the defaults (bench/concurrency: CPU is what a burst of generations waits for);
    # the thumbnails look the same and are ~5% larger.
    thumbnail.thumbnail(THUMBNAIL_BOX, reducing_gap=1.0)
    encoded = io.BytesIO()
    thumbnail.save(encoded, "WEBP", quality=80, method=2)
    return encoded.getvalue()


@dataclass(frozen=True)
class _StoredImage:
    image_key: str
    thumbnail_key: str
    width: int
    height: int


# How far a delivered image may stray from its tier: providers round sides to their own
# grid (multiples of 16 or 64; Gemini's 16:9 is 1344×768), never below the pixels paid for.
PIXEL_SHORTFALL_ALLOWED = 0.01
ASPECT_DRIFT_ALLOWED = 0.03


def check_delivered_size(tier: Tier, width: int, height: int) -> None:
    """ImageTooSmall unless `width`×`height` gives the pixels and the shape `tier` promises."""
    paid_pixels = tier.width * tier.height
    aspect, paid_aspect = width / max(height, 1), tier.width / tier.height
    if width * height < paid_pixels * (1 - PIXEL_SHORTFALL_ALLOWED) or (
        abs(aspect - paid_aspect) > paid_aspect * ASPECT_DRIFT_ALLOWED
    ):
        raise ImageTooSmall(
            f"{width}×{height} delivered for {tier.label} ({tier.size_label}, {tier.aspect_ratio})"
        )


def _store(image: ProviderImage, tier: Tier) -> _StoredImage:
    """Check the bytes are an image of the tier's size, write them and a thumbnail."""
    try:
        if image.picture is not None and image.mime_type in _MIME_EXTENSIONS:
            # The provider drew it (offline): its own PNG needs no check, and decoding it
            # again cost ~10% of the whole generation (bench/RESULTS.md).
            extension = _MIME_EXTENSIONS[image.mime_type]
            width, height = image.picture.size
            thumb_bytes = _thumbnail_webp(image.picture)
        else:
            with Image.open(io.BytesIO(image.data)) as decoded:
                decoded.load()
                extension = _FORMATS.get(decoded.format or "")
                if extension is None:
                    raise MalformedResponse(f"unsupported image format {decoded.format}")
                width, height = decoded.size
                thumb_bytes = _thumbnail_webp(decoded)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MalformedResponse(f"not a decodable image: {exc}") from exc
    check_delivered_size(tier, width, height)
    image_key, thumbnail_key = keys.new_image_keys(extension)
    store = image_store()
    try:
        store.put(image_key, image.data, keys.content_type_of(image_key))
        store.put(thumbnail_key, thumb_bytes, keys.content_type_of(thumbnail_key))
    except StorageError:
        store.delete(image_key)
        raise
    return _StoredImage(image_key, thumbnail_key, width, height)


def _finish_failed(ticket: ImageTicket, code: str, message: str, started: float) -> None:
    """Release the hold and record the failure, unless another run already finished it
    (read under the write lock: a job that ran twice is never failed after its charge)."""
    duration_ms = int((time.monotonic() - started) * 1000)
    with write_session() as db:
        fail_pending(db, ticket, code, message, duration_ms=duration_ms)


def fail_pending(
    db: Session,
    ticket: ImageTicket,
    code: str,
    message: str,
    *,
    duration_ms: int,
    free_idempotency_key: bool = False,
) -> bool:
    """In the caller's write transaction: release the image's hold and record the
    failure, unless its row has ended already. Whether it did."""
    row = db.get(GeneratedImage, ticket.generation_id)
    if row is None or row.status != GenerationStatus.PENDING.value:
        return False
    ledger.release(db, ticket.hold_id)
    row.status = GenerationStatus.FAILED.value
    row.error_code = code
    row.error_message = message[:500]
    row.finished_at = utcnow()
    row.duration_ms = duration_ms
    if free_idempotency_key:
        row.idempotency_key = None
    db.add(row)
    return True


def close_unqueued(ticket: Ticket) -> None:
    """A started request the job queue refused: its images failed, holds released, and
    its idempotency key freed so that the client's retry with the same key starts it
    anew — all in one transaction."""
    message = ERROR_MESSAGES[QUEUE_UNAVAILABLE]
    with write_session() as db:
        for image in ticket.images:
            fail_pending(
                db, image, QUEUE_UNAVAILABLE, message, duration_ms=0, free_idempotency_key=True
            )


def pending_ticket(request_id: str) -> Ticket | None:
    """The ticket of a request with images still to be made (a queued job's message)."""
    with read_session() as db:
        rows = request_rows(db, request_id)
        if not any(row.status == GenerationStatus.PENDING.value for row in rows):
            return None
        return ticket_of(db, rows)


def _finish_succeeded(
    ticket: ImageTicket, stored: _StoredImage, model: str, started: float
) -> None:
    with write_session() as db:
        row = db.get(GeneratedImage, ticket.generation_id)
        if row is None or row.status != GenerationStatus.PENDING.value:
            raise HoldNotOpen("This generation was already closed.")
        ledger.capture(db, ticket.hold_id, reference=f"Image {row.public_id} ({row.tier})")
        row.status = GenerationStatus.SUCCEEDED.value
        row.image_key = stored.image_key
        row.thumbnail_key = stored.thumbnail_key
        row.width, row.height = stored.width, stored.height
        row.model = model or row.model
        row.finished_at = utcnow()
        row.duration_ms = int((time.monotonic() - started) * 1000)
        db.add(row)


def _image_request(row: GeneratedImage, category_slug: str) -> ImageRequest:
    return ImageRequest(
        prompt=row.enhanced_prompt or row.prompt,
        tier=get_tier(row.tier),
        category_slug=category_slug,
        negative_prompt=row.negative_prompt,
        seed=row.seed,
        model=row.model,
        variant=row.request_index,
    )


def any_pending(request_id: str) -> bool:
    """Whether an image of the request is still to be made."""
    with read_session() as db:
        found = db.exec(
            select(GeneratedImage.id).where(
                GeneratedImage.request_id == request_id,
                GeneratedImage.status == GenerationStatus.PENDING.value,
            )
        ).first()
    return found is not None


@dataclass(frozen=True)
class _RunInputs:
    rows: list[GeneratedImage]
    category_slug: str
    # An edit's upload object key.
    source_key: str | None


def _load_for_run(ticket: Ticket) -> _RunInputs:
    """The request's rows in the ticket's order, its template's category and an edit's
    picture."""
    with read_session() as db:
        by_id = {row.id: row for row in request_rows(db, ticket.public_id)}
        rows = [by_id.get(image.generation_id) for image in ticket.images]
        if not rows or any(row is None for row in rows):
            raise NotFound("No such generation.")
        row = rows[0]
        assert row is not None
        slug = ""
        if row.template_id is not None:
            slug = (
                db.exec(
                    select(ImageCategory.slug)
                    .join(ImageTemplate, col(ImageTemplate.category_id) == ImageCategory.id)
                    .where(ImageTemplate.id == row.template_id)
                ).first()
                or ""
            )
        source_key = None
        if row.source_upload_id is not None:
            upload = db.get(ImageUpload, row.source_upload_id)
            source_key = upload.image_key if upload is not None else ""
        return _RunInputs([row for row in rows if row is not None], slug, source_key)


def _record_model_gone(provider: ImageProvider, model: str, detail: str) -> None:
    """An operator problem: hide the provider until an admin picks another model.

    Never in the way of releasing the hold, which comes next.
    """
    try:
        provider_models.record_model_gone(provider, model, detail)
    except Exception:
        log.exception("could not record that %s's model %s is gone", provider.name, model)


async def run(ticket: Ticket) -> str:
    """Steps 3–5 for every image of the request still pending. Returns the request's
    status (succeeded when at least one image arrived); never raises for provider or
    storage failures."""
    try:
        return await _run(ticket)
    finally:
        _IN_PROGRESS.discard(ticket.public_id)


def _request_status(statuses: list[str]) -> str:
    if GenerationStatus.PENDING.value in statuses:
        return GenerationStatus.PENDING.value
    if GenerationStatus.SUCCEEDED.value in statuses:
        return GenerationStatus.SUCCEEDED.value
    return GenerationStatus.FAILED.value


async def _run(ticket: Ticket) -> str:
    started = time.monotonic()
    inputs = await asyncio.to_thread(_load_for_run, ticket)
    rows = inputs.rows
    todo = [
        (image, row)
        for image, row in zip(ticket.images, rows, strict=True)
        if row.status == GenerationStatus.PENDING.value
    ]
    if not todo:
        return _request_status([row.status for row in rows])  # a second run of an ended job
    provider = get_provider(rows[0].provider)
    requests = [_image_request(row, inputs.category_slug) for _image, row in todo]
    try:
        if provider is None:
            raise NotConfigured(f"provider {rows[0].provider} is gone")
        if inputs.source_key is not None:
            requests = await _with_source(inputs.source_key, requests)
        # One slot per request: its images are made together.
        async with _provider_slots():
            _IN_PROGRESS.add(ticket.public_id)
            outcomes = await _stoppable_call(ticket.public_id, provider, requests)
    except ProviderError as exc:
        outcomes = [exc] * len(todo)
    except _SourceUnreadable as exc:
        log.error("generation %s: the picture to edit is unreadable: %s", ticket.public_id, exc)
        message = ERROR_MESSAGES[SOURCE_MISSING]
        for image, _row in todo:
            await asyncio.to_thread(_finish_failed, image, SOURCE_MISSING, message, started)
        return GenerationStatus.FAILED.value
    except BaseException:
        # Cancelled (shutdown) or a bug: the credits go back before anything else.
        log.exception("generation %s crashed", ticket.public_id)
        for image, _row in todo:
            _finish_failed(image, INTERNAL_ERROR, ERROR_MESSAGES[INTERNAL_ERROR], started)
        raise
    gone_recorded = False
    statuses = [row.status for row in rows]
    delivered = 0
    try:
        for (image, row), outcome, request in zip(todo, outcomes, requests, strict=True):
            if isinstance(outcome, ModelUnavailable) and provider and not gone_recorded:
                await asyncio.to_thread(_record_model_gone, provider, row.model, outcome.detail)
                gone_recorded = True
            statuses[rows.index(row)] = await _deliver(image, row, outcome, request, started)
            delivered += 1
    except BaseException:
        # Stopped mid-way (shutdown): the images not delivered yet give their credits back.
        for image, _row in todo[delivered:]:
            _finish_failed(image, INTERNAL_ERROR, ERROR_MESSAGES[INTERNAL_ERROR], started)
        raise
    return _request_status(statuses)


class _SourceUnreadable(Exception):
    """An edit's picture could not be read or decoded."""


async def _with_source(source_key: str, requests: list[ImageRequest]) -> list[ImageRequest]:
    """The requests of an edit, each with the upload fitted to the tier."""
    try:
        if not source_key:
            raise _SourceUnreadable("its upload row is gone")
        source = await asyncio.to_thread(edit_sources.load_fitted, source_key, requests[0].tier)
    except (StorageError, OSError, ValueError) as exc:
        raise _SourceUnreadable(str(exc)) from exc
    return [replace(request, source=source) for request in requests]


async def _deliver(
    image: ImageTicket,
    row: GeneratedImage,
    outcome: provider_batch.Outcome,
    request: ImageRequest,
    started: float,
) -> str:
    """Store one image and capture its price, or release its hold; its final status."""
    try:
        if isinstance(outcome, ProviderError):
            raise outcome
        stored = await asyncio.to_thread(_store, outcome, request.tier)
    except ProviderError as exc:
        log.warning("generation %s failed: %s %s", row.public_id, exc.code, exc.detail)
        await asyncio.to_thread(_finish_failed, image, exc.code, exc.user_message, started)
        return GenerationStatus.FAILED.value
    except StorageError as exc:
        log.error("generation %s: storage failed: %s", row.public_id, exc)
        message = ERROR_MESSAGES[STORAGE_FAILED]
        await asyncio.to_thread(_finish_failed, image, STORAGE_FAILED, message, started)
        return GenerationStatus.FAILED.value
    except BaseException:
        log.exception("generation %s crashed", row.public_id)
        _finish_failed(image, INTERNAL_ERROR, ERROR_MESSAGES[INTERNAL_ERROR], started)
        raise
    try:
        await asyncio.to_thread(_finish_succeeded, image, stored, outcome.model, started)
    except HoldNotOpen:
        store = image_store()
        store.delete(stored.image_key)
        store.delete(stored.thumbnail_key)
        message = ERROR_MESSAGES[EXPIRED]
        await asyncio.to_thread(_finish_failed, image, EXPIRED, message, started)
        return GenerationStatus.FAILED.value
    return GenerationStatus.SUCCEEDED.value
