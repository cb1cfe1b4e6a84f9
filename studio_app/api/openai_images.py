"""An OpenAI-compatible images API under `/v1`: `POST /v1/images/generations`.

Clients written for OpenAI's Images API — the official `openai` package with
`base_url=<studio>/v1` and a personal API token (`stu_…`) as the key — generate with
Studio's providers, billed in credits exactly like the studio (held per image, charged
only for the images that arrive). Answers and errors have the Images API's shapes:
`{"created", "data": [{"b64_json"} | {"url"}]}` and
`{"error": {"message", "type", "param", "code"}}`.

`POST /v1/images/edits` takes OpenAI's multipart form (api/openai_forms.py): the `image` is
kept as one of the caller's uploads and edited like an upload in the studio.

The mapping (README, "OpenAI-compatible API"): `model` names a provider (`offline` — the
default — `openai`, `gemini`, `replicate`, `huggingface`; OpenAI's, Gemini's and FLUX
model names pick their provider), whose model is the one the admin chose; `size` picks
the tier nearest in shape.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import math
import re
import time
from dataclasses import replace
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from studio_app.api.callers import token_user
from studio_app.api.errors import ApiError
from studio_app.api.openai_forms import FormProblem, ImagesRequest, read_edit_form
from studio_app.api.stored_files import stored_response
from studio_app.models import GenerationStatus
from studio_app.services import (
    creations,
    generation,
    job_queue,
    jobs,
    provider_switches,
    signed_links,
    throttle,
    uploads,
)
from studio_app.services.auth import CurrentUser
from studio_app.services.creations import CreationView
from studio_app.services.errors import IdempotencyConflict, InsufficientCredits, StudioError
from studio_app.settings import get_settings
from studio_app.storage import StorageError
from studio_app.tiers import tiers

log = logging.getLogger(__name__)
v1 = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

PROVIDERS = ("offline", "openai", "gemini", "replicate", "huggingface")
# Model names other clients send, and the provider each one picks.
_MODEL_PREFIXES = (
    ("gpt-image", "openai"),
    ("dall-e", "openai"),
    ("chatgpt-image", "openai"),
    ("gemini", "gemini"),
    ("imagen", "gemini"),
    ("black-forest-labs/", "replicate"),
    ("flux", "replicate"),
)
# What our fields are called in OpenAI's request.
_PARAMS = {"provider": "model", "tier": "size", "count": "n", "idempotency_key": "Idempotency-Key"}
_NO_RETRY = {"x-should-retry": "false"}
# A succeeded image's original, served from a signed link without a token.
LINK_PATH = "/files/images/{public_id}"
_LINK_HEADERS = {"Cache-Control": f"private, max-age={signed_links.LINK_LIFETIME_S}"}


class OpenAIError(Exception):
    """An error answered in OpenAI's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code
        self.param, self.headers = param, headers


def _answer(error: OpenAIError) -> JSONResponse:
    body = {
        "error": {
            "message": error.message,
            "type": error.type,
            "param": error.param,
            "code": error.code,
        }
    }
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def _studio_error(error: StudioError) -> OpenAIError:
    """Our refusals as OpenAI words them (and as its SDK raises them)."""
    if isinstance(error, InsufficientCredits):
        # OpenAI's "out of quota": a 429 its SDK raises as RateLimitError; retrying
        # cannot help, so the SDK is told not to.
        return OpenAIError(
            429, error.message, type_="insufficient_quota", code="insufficient_quota",
            headers=_NO_RETRY,
        )  # fmt: skip
    if isinstance(error, throttle.Throttled):
        return OpenAIError(
            429, error.message, type_="requests", code="rate_limit_exceeded",
            headers={"Retry-After": str(error.retry_after)},
        )  # fmt: skip
    if isinstance(error, generation.TooManyJobs):
        return OpenAIError(
            429, error.message, type_="requests", code="rate_limit_exceeded",
            headers={"Retry-After": "5"},
        )  # fmt: skip
    if isinstance(error, IdempotencyConflict):
        return OpenAIError(409, error.message, code=error.code, headers=_NO_RETRY)
    if isinstance(error, job_queue.QueueUnavailable):
        # Nothing was started or charged: a retry is safe.
        return OpenAIError(503, error.message, type_="server_error", code=error.code)
    field = getattr(error, "field", None)
    param = _PARAMS.get(field, field) if isinstance(field, str) else None
    return OpenAIError(400, error.message, code="invalid_value", param=param)


@v1.exception_handler(OpenAIError)
async def _openai_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, OpenAIError)
    return _answer(error)


@v1.exception_handler(FormProblem)
async def _bad_form(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, FormProblem)
    return _answer(
        OpenAIError(error.status, error.message, code="invalid_value", param=error.param)
    )


@v1.exception_handler(StorageError)
async def _storage_down(_request: Request, error: Exception) -> JSONResponse:
    # Nothing was started or charged: a retry is safe, and the SDK's own may succeed.
    return _answer(
        OpenAIError(503, uploads.NOT_KEPT, type_="server_error", code="storage_unavailable")
    )


@v1.exception_handler(StudioError)
async def _refused(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StudioError)
    return _answer(_studio_error(error))


@v1.exception_handler(RequestValidationError)
async def _invalid(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = (error.errors() or [{"loc": ("body",), "msg": "Invalid request."}])[0]
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "header")]
    param = ".".join(location) or None
    message = f"Invalid '{param}': {first.get('msg')}." if param else str(first.get("msg"))
    return _answer(OpenAIError(400, message, code="invalid_value", param=param))


@v1.exception_handler(StarletteHTTPException)
async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    message = "Unknown request URL." if error.status_code == 404 else str(error.detail)
    return _answer(OpenAIError(error.status_code, message, code="unknown_url"))


def _caller(request: Request) -> CurrentUser:
    """The token's user (callers.py's rule); refused in OpenAI's words."""
    try:
        user = token_user(request)
    except ApiError:
        user = None
    if user is None:
        raise OpenAIError(
            401,
            "Incorrect API key provided. Use a personal API token from your Studio "
            "Account page (stu_…) as the API key.",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def provider_for_model(model: str | None) -> str:
    """The provider a `model` names (see the module's docstring); 400 for an unknown one."""
    if not model:
        return "offline"
    name = model.strip().lower()
    if name in provider_switches.provider_names() or name in generation.PROVIDER_ALIASES:
        return generation.provider_name(name)
    for prefix, provider in _MODEL_PREFIXES:
        if name.startswith(prefix):
            return provider
    raise OpenAIError(
        400,
        f"The model '{model}' does not exist here. Use one of: {', '.join(PROVIDERS)} "
        "(or an OpenAI, Gemini or FLUX model name, which picks that provider).",
        code="model_not_found",
        param="model",
    )


def tier_for_size(size: str | None) -> str:
    """The tier nearest in shape to `size` (`WIDTHxHEIGHT`); `auto` is the standard one."""
    if not size or size == "auto":
        return "standard"
    found = re.fullmatch(r"(\d{2,5})x(\d{2,5})", size)
    if found is None or not int(found.group(1)) or not int(found.group(2)):
        raise OpenAIError(
            400,
            f"Invalid size '{size}': give WIDTHxHEIGHT (1024x1024, 1536x1024, 1792x1008) "
            "or 'auto'.",
            code="invalid_value",
            param="size",
        )
    shape = math.log(int(found.group(1)) / int(found.group(2)))
    return min(tiers(), key=lambda tier: abs(shape - math.log(tier.width / tier.height))).id


def _b64(viewer: CurrentUser, view: CreationView) -> dict[str, Any]:
    image = creations.open_image(viewer, view.public_id, thumbnail=False, owner_only=True)
    if image is None:
        raise OpenAIError(500, "The image was lost after it was made.", type_="server_error")
    return {"b64_json": base64.b64encode(b"".join(image.stored)).decode()}


def _url(view: CreationView) -> dict[str, Any]:
    expires, signature = signed_links.sign(view.public_id)
    path = LINK_PATH.format(public_id=view.public_id)
    query = f"expires={expires}&signature={signature}"
    return {"url": f"{get_settings().public_url}/v1{path}?{query}"}


TIMED_OUT = "The images took too long to arrive. Nothing was charged for them."


def _failure(images: list[CreationView]) -> OpenAIError:
    """Why no image came: the first image's error, as OpenAI would say it."""
    failed = next((view for view in images if view.status == GenerationStatus.FAILED), None)
    code = failed.error_code if failed else "timeout"
    message = failed.error_message if failed else TIMED_OUT
    if code in ("safety_refused", "bad_request", "cancelled"):
        name = "content_policy_violation" if code == "safety_refused" else code
        return OpenAIError(400, message, code=name, headers=_NO_RETRY)
    # Nothing was charged; a retry is the client's choice, not its SDK's.
    return OpenAIError(502, message, type_="server_error", code=code, headers=_NO_RETRY)


@v1.post("/images/generations")
async def create_images(
    request: Request,
    body: ImagesRequest,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    viewer = await asyncio.to_thread(_caller, request)
    asked = generation.GenerationRequest(
        prompt=body.prompt,
        provider=provider_for_model(body.model),
        tier=tier_for_size(body.size),
        count=body.n or 1,
    )
    return await _images_for(viewer, asked, idempotency_key, body.response_format)


@v1.post("/images/edits")
async def edit_image(
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """OpenAI's `images.edit`: a multipart form with one `image` (PNG, JPEG or WebP) and
    the generation's fields. The picture is kept as one of the caller's uploads. With an
    Idempotency-Key the picture is part of what the key stands for: a retry with the same
    picture answers with the first try's images, another picture is a 409."""
    viewer = await asyncio.to_thread(_caller, request)
    form = await read_edit_form(request)
    asked = generation.GenerationRequest(
        prompt=form.fields.prompt,
        provider=provider_for_model(form.fields.model),
        tier=tier_for_size(form.fields.size),
        count=form.fields.n or 1,
        source_digest=hashlib.sha256(form.image).hexdigest(),
    )
    answer_format = form.fields.response_format
    if idempotency_key is not None:
        first_try = await asyncio.to_thread(generation.edit_source_of, viewer.id, idempotency_key)
        if first_try is not None:
            asked = replace(asked, source_upload_id=first_try)
            return await _images_for(viewer, asked, idempotency_key, answer_format)
    uploaded = (await asyncio.to_thread(uploads.accept, viewer, form.image)).public_id
    try:
        return await _images_for(
            viewer, replace(asked, source_upload_id=uploaded), idempotency_key, answer_format
        )
    except IdempotencyConflict:
        # A retry that overlapped its first try, which started first: answer with that.
        assert idempotency_key is not None
        first_try = await asyncio.to_thread(generation.edit_source_of, viewer.id, idempotency_key)
        await _forget_upload(viewer, uploaded)
        if first_try is None:
            raise
        asked = replace(asked, source_upload_id=first_try)
        return await _images_for(viewer, asked, idempotency_key, answer_format)
    except BaseException:
        # No image came: the picture is not left among the caller's uploads.
        await _forget_upload(viewer, uploaded)
        raise


async def _forget_upload(viewer: CurrentUser, public_id: str) -> None:
    """Remove an upload this request made, never hiding the error being answered."""
    try:
        await asyncio.to_thread(uploads.delete_upload, viewer, public_id)
    except Exception:
        log.exception("could not remove upload %s after a failed edit", public_id)


async def _images_for(
    viewer: CurrentUser,
    asked: generation.GenerationRequest,
    idempotency_key: str | None,
    response_format: str | None,
) -> JSONResponse:
    """Start the request, wait for its images and answer them as OpenAI does."""
    ticket = await jobs.submit(viewer.id, asked, idempotency_key=idempotency_key)
    # OpenAI's API answers with the images: wait for them (a client that goes away
    # does not stop the job; its images land in My Creations).
    timed_out = False
    try:
        await asyncio.wait_for(jobs.wait(ticket.public_id), timeout=job_queue.job_deadline_s())
    except TimeoutError:
        # Answered now: what is not made yet is cancelled, so it is never charged later.
        await jobs.cancel(viewer.id, ticket.public_id)
        timed_out = True
    images = await asyncio.to_thread(creations.request_creations, viewer, ticket.public_id)
    made = [view for view in images if view.status == GenerationStatus.SUCCEEDED]
    if not made and timed_out:
        raise OpenAIError(502, TIMED_OUT, type_="server_error", code="timeout", headers=_NO_RETRY)
    if not made:
        raise _failure(images)
    if response_format == "url":
        data = [_url(view) for view in made]
    else:
        data = [await asyncio.to_thread(_b64, viewer, view) for view in made]
    headers = {"Idempotent-Replayed": "true"} if ticket.replayed else None
    return JSONResponse({"created": int(time.time()), "data": data}, headers=headers)


@v1.get(LINK_PATH, response_model=None)
def linked_image(
    request: Request, public_id: str, expires: int = 0, signature: str = ""
) -> Response:
    """An image's original through a signed, short-lived link (the `url` answers)."""
    if not signed_links.is_valid(public_id, expires, signature):
        raise OpenAIError(403, "This link is not valid or has expired.", code="link_expired")
    image = creations.open_linked_image(public_id)
    if image is None:
        raise OpenAIError(404, "No such image.", code="not_found")
    return stored_response(request, image.stored, _LINK_HEADERS)
