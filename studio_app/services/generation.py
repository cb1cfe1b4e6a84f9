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
    ledger,
    provider_calls,
    provider_models,
    provider_switches,
    throttle,
)
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import (
    HoldNotOpen,
    IdempotencyConflict,
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
ERROR_MESSAGES = {
    STORAGE_FAILED: "We could not save the image. Your credits were not charged.",
    INTERNAL_ERROR: "Something went wrong on our side. Your credits were not charged.",
    EXPIRED: "The image took too long to arrive. Your credits were not charged.",
    INTERRUPTED: "The server restarted while this image was being made. No credits were charged.",
    FILE_MISSING: "The image file was lost. Its credits were refunded.",
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


@dataclass(frozen=True)
class Ticket:
    """A generation that has its hold and its pending row."""

    generation_id: int
    public_id: str
    hold_id: int
    cost: int
    # True when an earlier request with the same idempotency key made this generation.
    replayed: bool = False


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


def validate(db: Session, request: GenerationRequest) -> _Validated:
    """Check everything about a request; raise a StudioError naming the problem."""
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
    )


def running_count(db: Session, user_id: int) -> int:
    return db.exec(
        select(func.count())
        .select_from(GeneratedImage)
        .where(
            GeneratedImage.user_id == user_id,
            GeneratedImage.status == GenerationStatus.PENDING.value,
        )
    ).one()


def request_hash(request: GenerationRequest) -> str:
    """What a client asked for, so a reused Idempotency-Key with another request is refused."""
    return hashlib.sha256(json.dumps(asdict(request), sort_keys=True).encode()).hexdigest()


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
    return _ticket_of(db, row, replayed=True)


def _ticket_of(db: Session, row: GeneratedImage, *, replayed: bool = False) -> Ticket:
    """The ticket of a started generation (its hold is made with its row)."""
    hold_id = db.exec(select(CreditHold.id).where(CreditHold.generation_id == row.id)).first()
    assert row.id is not None and hold_id is not None
    return Ticket(
        generation_id=row.id,
        public_id=row.public_id,
        hold_id=hold_id,
        cost=row.cost_credits,
        replayed=replayed,
    )


def start(
    user_id: int, request: GenerationRequest, *, idempotency_key: str | None = None
) -> Ticket:
    """Steps 1–2: validate, then hold the price and write the pending row, atomically.

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
        checked = validate(db, request)
        limit = settings.max_concurrent_generations
        if running_count(db, user_id) >= limit:
            raise TooManyJobs(
                f"You already have {limit} images in progress. Wait for one to finish."
            )
        # Counted in this transaction: a request refused below is not counted.
        throttle.take_in(
            db,
            _THROTTLE_KIND,
            str(user_id),
            limit=settings.generations_per_minute,
            window_s=60,
            what="images per minute",
        )
        row = GeneratedImage(
            public_id=secrets.token_hex(12),
            user_id=user_id,
            template_id=checked.template_id,
            prompt=checked.prompt,
            enhanced_prompt=checked.enhanced_prompt,
            negative_prompt=checked.negative_prompt,
            seed=checked.seed,
            provider=checked.provider.name,
            model=checked.model,
            tier=checked.tier.id,
            cost_credits=checked.tier.credits,
            idempotency_key=idempotency_key,
            request_hash=fingerprint,
        )
        db.add(row)
        db.flush()
        assert row.id is not None
        hold = ledger.place_hold(db, user_id, checked.tier.credits, generation_id=row.id)
        assert hold.id is not None
        return Ticket(
            generation_id=row.id, public_id=row.public_id, hold_id=hold.id, cost=hold.amount
        )


def _provider_slots() -> asyncio.Semaphore:
    """The process-wide limit on provider calls in flight (one semaphore per event loop)."""
    loop = asyncio.get_running_loop()
    slots = _SLOTS_BY_LOOP.get(loop)
    if slots is None:
        slots = asyncio.Semaphore(get_settings().max_parallel_generations)
        _SLOTS_BY_LOOP[loop] = slots
    return slots


def is_running(public_id: str) -> bool:
    """True while this process is working on the generation (not waiting for a slot)."""
    return public_id in _IN_PROGRESS


async def _call_provider(provider: ImageProvider, request: ImageRequest) -> ProviderImage:
    """Our timeout and the shared retry policy (services/provider_calls.py)."""
    return await provider_calls.call_with_retries(
        f"provider {provider.name}",
        lambda: provider.generate(request),
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


def _finish_failed(
    ticket: Ticket, code: str, message: str, started: float, *, free_idempotency_key: bool = False
) -> None:
    """Release the hold and record the failure, unless another run already finished it
    (read under the write lock: a job that ran twice is never failed after its charge)."""
    with write_session() as db:
        row = db.get(GeneratedImage, ticket.generation_id)
        if row is None or row.status != GenerationStatus.PENDING.value:
            return
        ledger.release(db, ticket.hold_id)
        row.status = GenerationStatus.FAILED.value
        row.error_code = code
        row.error_message = message[:500]
        row.finished_at = utcnow()
        row.duration_ms = int((time.monotonic() - started) * 1000)
        if free_idempotency_key:
            row.idempotency_key = None
        db.add(row)


def close_unqueued(ticket: Ticket) -> None:
    """A started generation the job queue refused: failed, hold released, and its
    idempotency key freed so that the client's retry with the same key starts it anew."""
    message = ERROR_MESSAGES[QUEUE_UNAVAILABLE]
    _finish_failed(ticket, QUEUE_UNAVAILABLE, message, time.monotonic(), free_idempotency_key=True)


def pending_ticket(public_id: str) -> Ticket | None:
    """The ticket of a generation still waiting to be made (a queued job's message)."""
    with read_session() as db:
        row = db.exec(select(GeneratedImage).where(GeneratedImage.public_id == public_id)).first()
        if row is None or row.status != GenerationStatus.PENDING.value:
            return None
        return _ticket_of(db, row)


def _finish_succeeded(ticket: Ticket, stored: _StoredImage, model: str, started: float) -> None:
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
    )


def _load_for_run(ticket: Ticket) -> tuple[GeneratedImage, str]:
    with read_session() as db:
        row = db.get(GeneratedImage, ticket.generation_id)
        if row is None:
            raise NotFound("No such generation.")
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
        return row, slug


def _record_model_gone(provider: ImageProvider, model: str, detail: str) -> None:
    """An operator problem: hide the provider until an admin picks another model.

    Never in the way of releasing the hold, which comes next.
    """
    try:
        provider_models.record_model_gone(provider, model, detail)
    except Exception:
        log.exception("could not record that %s's model %s is gone", provider.name, model)


async def run(ticket: Ticket) -> str:
    """Steps 3–5. Returns the final status; never raises for provider or storage failures."""
    try:
        return await _run(ticket)
    finally:
        _IN_PROGRESS.discard(ticket.public_id)


async def _run(ticket: Ticket) -> str:
    started = time.monotonic()
    row, category_slug = await asyncio.to_thread(_load_for_run, ticket)
    if row.status != GenerationStatus.PENDING.value:
        return row.status  # a second run of a job that has ended: nothing to do
    provider = get_provider(row.provider)
    try:
        if provider is None:
            raise NotConfigured(f"provider {row.provider} is gone")
        async with _provider_slots():
            _IN_PROGRESS.add(row.public_id)
            image_request = _image_request(row, category_slug)
            image = await _call_provider(provider, image_request)
            stored = await asyncio.to_thread(_store, image, image_request.tier)
    except ProviderError as exc:
        log.warning("generation %s failed: %s %s", row.public_id, exc.code, exc.detail)
        if isinstance(exc, ModelUnavailable) and provider is not None:
            await asyncio.to_thread(_record_model_gone, provider, row.model, exc.detail)
        await asyncio.to_thread(_finish_failed, ticket, exc.code, exc.user_message, started)
        return GenerationStatus.FAILED.value
    except StorageError as exc:
        log.error("generation %s: storage failed: %s", row.public_id, exc)
        message = ERROR_MESSAGES[STORAGE_FAILED]
        await asyncio.to_thread(_finish_failed, ticket, STORAGE_FAILED, message, started)
        return GenerationStatus.FAILED.value
    except BaseException:
        # Cancelled (shutdown) or a bug: the credits go back before anything else.
        log.exception("generation %s crashed", row.public_id)
        _finish_failed(ticket, INTERNAL_ERROR, ERROR_MESSAGES[INTERNAL_ERROR], started)
        raise
    try:
        await asyncio.to_thread(_finish_succeeded, ticket, stored, image.model, started)
    except HoldNotOpen:
        store = image_store()
        store.delete(stored.image_key)
        store.delete(stored.thumbnail_key)
        message = ERROR_MESSAGES[EXPIRED]
        await asyncio.to_thread(_finish_failed, ticket, EXPIRED, message, started)
        return GenerationStatus.FAILED.value
    return GenerationStatus.SUCCEEDED.value
