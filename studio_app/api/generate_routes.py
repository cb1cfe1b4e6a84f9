"""The studio over HTTP: enhance, generate (202 + status), my creations and their images."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import WithJsonSchema

from studio_app.api import images, schemas
from studio_app.api.callers import Caller
from studio_app.api.cursors import MAX_ROW_ID
from studio_app.api.errors import not_found, responses
from studio_app.api.stored_files import stored_response
from studio_app.models import GenerationStatus
from studio_app.services import creations, enhance, generation, jobs
from studio_app.services.auth import CurrentUser
from studio_app.services.creations import CreationView
from studio_app.services.errors import InvalidInput

router = APIRouter(prefix="/api/studio", tags=["studio"])

# The longest a status request may be held open (a generation's provider call is bounded
# by its own timeout; the client simply asks again).
MAX_STATUS_WAIT_S = 30
_FILTER_PARAMS = {"from": "date_from", "to": "date_to", "template": "template_id"}
CreationId = Annotated[
    str, Path(pattern=schemas.CREATION_ID_PATTERN, description="A creation's `id`")
]


def status_url(public_id: str) -> str:
    return f"{router.prefix}/generate/{public_id}"


def _status(view: CreationView, running: bool) -> schemas.Status:
    if view.status == GenerationStatus.SUCCEEDED:
        return "succeeded"
    if view.status == GenerationStatus.FAILED:
        return "failed"
    return "running" if running else "queued"


async def _running_among(views: list[CreationView]) -> set[str]:
    """Which of the pending ones a worker (or this process) is making now (their
    request's job is running)."""
    pending = {view.request_id for view in views if view.status == GenerationStatus.PENDING}
    running = {request_id for request_id in pending if await jobs.is_running(request_id)}
    return {view.public_id for view in views if view.request_id in running}


def creation(view: CreationView, *, running: bool = False) -> schemas.Creation:
    succeeded = view.status == GenerationStatus.SUCCEEDED.value
    base = f"{router.prefix}/creations/{view.public_id}"
    failed = view.status == GenerationStatus.FAILED.value
    return schemas.Creation(
        id=view.public_id,
        request_id=view.request_id,
        status=_status(view, running),
        status_url=status_url(view.public_id),
        prompt=view.prompt,
        enhanced_prompt=view.enhanced_prompt or None,
        template_name=view.template_name or None,
        provider=view.provider,
        model=view.model,
        tier=view.tier,
        width=view.width or None,
        height=view.height or None,
        cost_credits=view.cost_credits,
        edit=view.is_edit,
        image_url=f"{base}/image" if succeeded else None,
        thumbnail_url=f"{base}/thumbnail" if succeeded else None,
        error=(
            schemas.GenerationError(code=view.error_code, message=view.error_message)
            if failed
            else None
        ),
        created_at=view.created_iso,
    )


def _own_creation(viewer: CurrentUser, public_id: str) -> CreationView:
    view = creations.get_own_creation(viewer, public_id)
    if view is None:
        raise not_found("creation")
    return view


@router.post("/enhance-prompt", responses=responses(401, 422, 429))
async def enhance_prompt(viewer: Caller, body: schemas.EnhanceRequest) -> schemas.Enhancement:
    """An LLM rewrites the prompt (the offline enhancer answers when none can)."""
    result = await enhance.enhance_prompt(viewer.id, body.prompt, template_id=body.template_id)
    return schemas.Enhancement(
        original=result.original,
        enhanced=result.enhanced,
        enhancer=result.enhancer,
        fallback_reason=result.fallback_reason,
    )


@router.post(
    "/generate",
    status_code=202,
    responses=responses(401, 402, 409, 422, 429, 503),
)
async def generate(
    viewer: Caller,
    body: schemas.GenerateRequest,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=schemas.GENERATION_KEY_PATTERN,
            description="Retrying with the same key never generates or charges twice "
            "(8–100 letters, digits, '-', '_', ':' or '.')",
        ),
        # A header is a string or absent, never null.
        WithJsonSchema({"type": "string", "pattern": schemas.GENERATION_KEY_PATTERN}),
    ] = None,
) -> schemas.GenerateAccepted:
    """Start an image: the credits are held now and charged only when the image arrives.

    Answers at once; follow `status_url` until the status is succeeded or failed.
    """
    request = generation.GenerationRequest(
        prompt=body.prompt,
        tier=body.tier,
        provider=body.provider,
        template_id=body.template_id,
        enhanced_prompt=body.enhanced_prompt,
        negative_prompt=body.negative_prompt,
        seed=body.seed,
        count=body.n,
        source_upload_id=body.source_upload_id,
    )
    ticket = await jobs.submit(viewer.id, request, idempotency_key=idempotency_key)
    if ticket.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    view = await asyncio.to_thread(_own_creation, viewer, ticket.public_id)
    response.headers["Location"] = status_url(ticket.public_id)
    return schemas.GenerateAccepted(
        id=ticket.public_id,
        status=_status(view, bool(await _running_among([view]))),
        status_url=status_url(ticket.public_id),
        cost_credits=ticket.cost,
        image_ids=[image.public_id for image in ticket.images],
    )


@router.get("/generate/{creation_id}", responses=responses(401, 404, 422))
async def generation_status(
    viewer: Caller,
    creation_id: CreationId,
    wait: float = Query(
        default=0,
        ge=0,
        le=MAX_STATUS_WAIT_S,
        description="Seconds to wait for the image to finish before answering (long poll)",
    ),
) -> schemas.RequestStatus:
    """queued → running → succeeded (image URLs, size, cost) or failed (error code and message),
    for this image and, in `images`, for every image of its request.

    With `wait`, the answer comes as soon as the request is done (or after `wait` seconds),
    so a client needs one request instead of polling.
    """
    view, siblings = await asyncio.to_thread(_with_its_request, viewer, creation_id)
    if wait and any(item.status == GenerationStatus.PENDING.value for item in siblings):
        with contextlib.suppress(TimeoutError):
            # jobs.wait shields the job: a client giving up never cancels it.
            await asyncio.wait_for(jobs.wait(view.request_id), timeout=wait)
        view, siblings = await asyncio.to_thread(_with_its_request, viewer, creation_id)
    return await _request_status(view, siblings)


def _with_its_request(
    viewer: CurrentUser, creation_id: str
) -> tuple[CreationView, list[CreationView]]:
    view = _own_creation(viewer, creation_id)
    return view, creations.request_creations(viewer, view.request_id)


async def _request_status(
    view: CreationView, siblings: list[CreationView]
) -> schemas.RequestStatus:
    running = await _running_among(siblings)
    this = creation(view, running=view.public_id in running)
    return schemas.RequestStatus(
        **this.model_dump(),
        images=[creation(item, running=item.public_id in running) for item in siblings],
    )


@router.delete("/generate/{creation_id}", responses=responses(401, 404, 422))
async def cancel_generation(viewer: Caller, creation_id: CreationId) -> schemas.RequestStatus:
    """Cancel the request this image belongs to: its images not made yet are failed
    `cancelled` and cost nothing; those already made stay (and stay charged). Cancelling
    a finished request changes nothing. Answers with the request's status."""
    view = await asyncio.to_thread(_own_creation, viewer, creation_id)
    await jobs.cancel(viewer.id, view.request_id)
    return await _request_status(*await asyncio.to_thread(_with_its_request, viewer, creation_id))


@router.get("/my-creations", responses=responses(401, 422))
async def my_creations(
    viewer: Caller,
    limit: int = Query(default=creations.PAGE_SIZE, ge=1, le=creations.MAX_PAGE_SIZE),
    cursor: str | None = Query(
        default=None,
        pattern=schemas.CREATION_ID_PATTERN,
        description="next_cursor of the page before (one of your creations)",
    ),
    template_id: int | None = Query(default=None, ge=1, le=MAX_ROW_ID),
    provider: str | None = Query(default=None, pattern=schemas.PROVIDER_FILTER_PATTERN),
    date_from: Annotated[schemas.Day | None, Query(description="UTC day")] = None,
    date_to: Annotated[
        schemas.Day | None, Query(description="UTC day, included; not before date_from")
    ] = None,
) -> schemas.CreationPage:
    """Your creations, newest first."""
    try:
        filters = creations.parse_filters(
            template=template_id or "",
            provider=provider or "",
            date_from=date_from,
            date_to=date_to,
        )
    except InvalidInput as error:
        # The service names the page's fields; name the API's query parameters instead.
        raise InvalidInput(
            error.message, field=_FILTER_PARAMS.get(error.field or "", error.field)
        ) from None
    page = await asyncio.to_thread(
        creations.list_creations, viewer, filters=filters, cursor=cursor, limit=limit
    )
    running = await _running_among(page.items)
    return schemas.CreationPage(
        items=[creation(view, running=view.public_id in running) for view in page.items],
        next_cursor=page.next_cursor,
    )


def _image(request: Request, viewer: CurrentUser, creation_id: str, *, thumbnail: bool) -> Response:
    image = creations.open_image(viewer, creation_id, thumbnail=thumbnail, owner_only=True)
    if image is None:
        raise not_found("image")
    return stored_response(request, image.stored, images.PRIVATE_IMAGE_HEADERS)


_IMAGE_RESPONSES = {
    200: {
        "content": {"image/png": {}, "image/webp": {}, "image/jpeg": {}},
        "description": "The image",
    },
    **responses(401, 404, 422),
}


@router.get(
    "/creations/{creation_id}/image",
    response_class=StreamingResponse,
    responses=_IMAGE_RESPONSES,
)
def creation_image(request: Request, viewer: Caller, creation_id: CreationId) -> Response:
    """The original image, as the provider made it."""
    return _image(request, viewer, creation_id, thumbnail=False)


@router.get(
    "/creations/{creation_id}/thumbnail",
    response_class=StreamingResponse,
    responses=_IMAGE_RESPONSES,
)
def creation_thumbnail(request: Request, viewer: Caller, creation_id: CreationId) -> Response:
    """A WebP thumbnail that fits 384×384."""
    return _image(request, viewer, creation_id, thumbnail=True)


@router.delete("/creations/{creation_id}", status_code=204, responses=responses(401, 404, 422))
def delete_creation(viewer: Caller, creation_id: CreationId) -> Response:
    """Delete one of your images (its credits stay spent)."""
    creations.delete_creation(viewer, creation_id)
    return Response(status_code=204)
