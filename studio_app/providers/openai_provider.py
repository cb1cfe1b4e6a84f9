"""OpenAI: GPT image models and chat completions, through the official async SDK.

One `generate()` or `chat()` is one HTTP request: the SDK's own retries are off,
because the generation service owns the retry policy (services/provider_calls.py).
Every SDK exception, HTTP error and unusable body becomes exactly one error of our
taxonomy, through one function (`OpenAIProvider._taxonomy_error`) for every call.

A request with a `source` is an edit: `POST /v1/images/edits` (multipart, the picture as
the `image` file) with the same model, size and quality as a generation, answered in the
same `ImagesResponse` shape.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import logging
import re
from collections.abc import Coroutine, Mapping
from typing import Any, cast

import httpx2
import openai
from openai.types import ImagesResponse, Model
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from PIL import Image, UnidentifiedImageError

from studio_app.clock import utcnow
from studio_app.providers.base import (
    BadRequest,
    ImageRequest,
    MalformedResponse,
    Messages,
    ModelUnavailable,
    NotConfigured,
    ProviderError,
    ProviderImage,
    QuotaExhausted,
    SafetyRefused,
    SourcePicture,
    Unavailable,
)
from studio_app.providers.http_errors import error_for_status
from studio_app.settings import Settings
from studio_app.tiers import Tier, tiers

log = logging.getLogger(__name__)

# GPT image models an admin can pick, current ones only, the default first. Confirmed
# 2026-12-03: OpenAI's deprecations page (developers.openai.com/api/docs/deprecations)
# shut gpt-image-1 down on 2026-10-23 and gpt-image-1.5, gpt-image-1-mini and
# chatgpt-image-latest on 2026-12-01, naming gpt-image-2.6-sunburst / -flare as their
# replacements; the openai SDK (3.57, `ImageModel`) lists 2.5-flare/-sunburst and
# gpt-image-2 with no shutdown.
# Images one call may ask for (`n`, 1–10 for the gpt-image models).
BATCH_MAX = 10
IMAGE_MODELS = (
    "gpt-image-2.6-flare",
    "gpt-image-2.6-sunburst",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-sunburst",
    "gpt-image-2",
)
# The gpt-image-2 family (2, 2.5-*, 2.6-* and their dated snapshots) takes any
# WIDTHxHEIGHT within these limits (openai SDK `images.generate(size=...)`: sides divisible
# by 16, aspect between 1:3 and 3:1, at most 3840x2160; the pixel range from Comfy's GPT
# Image 2.5/2.6 node docs, docs.comfy.org/built-in-nodes/OpenAIGPTImageNodeV3). Not
# "gpt-image-20": the family is 2, 2.<n>, each optionally followed by "-<variant>".
_FREE_SIZE_FAMILY = re.compile(r"gpt-image-2(?:\.\d+)?(?:-[a-z0-9][a-z0-9-]*)?")
_SIZE_STEP = 16
_MAX_EDGE = 3840
_MAX_ASPECT = 3.0
_MIN_PIXELS = 655_360
_MAX_PIXELS = 8_294_400
# Every other GPT image model draws only these sizes.
_FIXED_SIZES = ("1024x1024", "1536x1024", "1024x1536")

# Chat: the lowest reasoning effort of the models whose efforts are documented; any other
# model gets none sent (its own default). gpt-6-luna: none, low, medium (default), high,
# xhigh, max (developers.openai.com/api/docs/models/gpt-6-luna).
_LOWEST_REASONING_EFFORT = ((re.compile(r"gpt-6-luna(?:-\d{4}-\d{2}-\d{2})?"), "none"),)
# Ample for a rewritten prompt, and room for reasoning on a model that thinks by default.
_CHAT_MAX_COMPLETION_TOKENS = 1024
# A model lookup is cheap: it answers in well under a second.
_CHECK_TIMEOUT_S = 15.0
# Fail fast on an unreachable endpoint; the read timeout is the whole provider budget.
_CONNECT_TIMEOUT_S = 10.0
_MIME_TYPES = {"PNG": "image/png", "WEBP": "image/webp", "JPEG": "image/jpeg"}
_EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}
# OpenAI error codes that mean "out of money" whatever the HTTP status (images answer 400).
_BILLING_CODES = {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active"}
_SAFETY_CODES = {"moderation_blocked", "content_policy_violation"}
_SAFETY_WORDS = re.compile(r"moderation|safety system|content[ _]policy", re.IGNORECASE)
# "The model `x` does not exist or you do not have access to it." / "... has been
# deprecated" (what a shut-down model answers) / "... has been shut down".
_MODEL_GONE = re.compile(
    r"\bmodel [`'\"]?[\w.:/-]+[`'\"]? (?:does not exist|has been (?:deprecated|shut down|retired))",
    re.IGNORECASE,
)
# Timeouts and connection failures before the request went out: nothing can have started.
_NOT_SENT_TIMEOUTS = (httpx2.ConnectTimeout, httpx2.PoolTimeout)
_NOT_SENT_ERRORS = (httpx2.ConnectError, *_NOT_SENT_TIMEOUTS)
_KEY_PATTERN = re.compile(r"sk-[A-Za-z0-9_\-*.]+")


def takes_free_sizes(model: str) -> bool:
    """Whether `model` accepts any WxH within the gpt-image-2 family's limits."""
    return _FREE_SIZE_FAMILY.fullmatch(model) is not None


def free_size_problem(width: int, height: int) -> str | None:
    """Why the gpt-image-2 family cannot draw `width`x`height`, or None."""
    if width % _SIZE_STEP or height % _SIZE_STEP:
        return f"sides must be multiples of {_SIZE_STEP} pixels"
    if max(width, height) > _MAX_EDGE:
        return f"sides must be at most {_MAX_EDGE} pixels"
    if max(width, height) > _MAX_ASPECT * min(width, height):
        return "the shape must be between 1:3 and 3:1"
    if not _MIN_PIXELS <= width * height <= _MAX_PIXELS:
        return f"an image must have {_MIN_PIXELS:,} to {_MAX_PIXELS:,} pixels"
    return None


def lowest_reasoning_effort(model: str) -> str | None:
    """The least thinking `model` documents, or None when we do not know its efforts."""
    return next(
        (effort for pattern, effort in _LOWEST_REASONING_EFFORT if pattern.fullmatch(model)),
        None,
    )


def _decode_image(b64_data: str) -> tuple[bytes, int, int, str]:
    """The image bytes in a `b64_json` field, with their real size and MIME type."""
    try:
        data = base64.b64decode(b64_data, validate=True)
        with Image.open(io.BytesIO(data)) as image:
            image_format, (width, height) = image.format or "", image.size
            image.verify()
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise MalformedResponse(f"b64_json is not a decodable image: {exc}") from exc
    mime_type = _MIME_TYPES.get(image_format)
    if mime_type is None:
        raise MalformedResponse(f"unsupported image format {image_format or 'unknown'}")
    return data, width, height, mime_type


def _retry_after_header(headers: Mapping[str, str]) -> str | None:
    """Retry-After in seconds; OpenAI's `retry-after-ms` wins when it is a number."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return str(float(milliseconds) / 1000)
        except ValueError:
            pass
    return headers.get("retry-after")


def _upload(source: SourcePicture) -> tuple[str, bytes, str]:
    """The `image` file part of an edit: OpenAI checks the type (png, webp or jpg)."""
    extension = _EXTENSIONS.get(source.mime_type, "png")
    return f"source.{extension}", source.data, source.mime_type


def _chat_message(message: dict[str, str]) -> ChatCompletionMessageParam:
    # The SDK types each role's message apart; ours are system and user turns.
    if message["role"] == "system":
        return {"role": "system", "content": message["content"]}
    return {"role": "user", "content": message["content"]}


class OpenAIProvider:
    """GPT image models (any tier on the gpt-image-2 family) and chat for enhancement."""

    name = "openai"
    label = "OpenAI"
    known_models: tuple[str, ...] = IMAGE_MODELS

    supports_negative_prompt = False
    supports_seed = False

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.model = settings.openai_image_model
        self.chat_model = settings.openai_chat_model
        # One SDK client (one connection pool) for the event loop that made it.
        self._client: tuple[asyncio.AbstractEventLoop, openai.AsyncOpenAI] | None = None

    def is_configured(self) -> bool:
        return bool(self._settings.openai_api_key)

    def unavailable_tiers(self, model: str = "") -> dict[str, str]:
        model = model or self.model
        reasons: dict[str, str] = {}
        for tier in tiers():
            try:
                self._size_for(tier, model)
            except BadRequest as exc:
                reasons[tier.id] = exc.detail
        return reasons

    def edit_unavailable(self, model: str = "") -> str:
        """Every GPT image model edits (`POST /v1/images/edits`), at the sizes it draws."""
        return ""

    def _size_for(self, tier: Tier, model: str) -> str:
        """The exact `size` sent for `tier`, or BadRequest (with the reason) when `model`
        cannot draw it."""
        size = f"{tier.width}x{tier.height}"
        if takes_free_sizes(model):
            problem = free_size_problem(tier.width, tier.height)
            if problem:
                raise BadRequest(f"OpenAI's {model} cannot make {size}: {problem}")
            return size
        if size not in _FIXED_SIZES:
            raise BadRequest(f"OpenAI's {model} makes square, 3:2 and 2:3 images only")
        return size

    def _sdk_client(self) -> openai.AsyncOpenAI:
        """The SDK client of the running event loop, made once and then shared.

        Making one costs ~40 ms of CPU on the event loop (httpx builds an SSL context):
        fifty generations at once, each with its own client, held the server up for two
        seconds (bench/RESULTS.md, "Fifty generations at once"). Sharing it also keeps
        connections to the provider alive between generations. A client belongs to one
        loop (its connections do), so another loop gets a new one.
        """
        if not self.is_configured():
            raise NotConfigured("OPENAI_API_KEY is not set")
        loop = asyncio.get_running_loop()
        if self._client is not None and self._client[0] is loop:
            return self._client[1]
        client = openai.AsyncOpenAI(
            api_key=self._settings.openai_api_key,
            base_url=self._settings.openai_base_url or None,
            max_retries=0,
            timeout=openai.Timeout(
                self._settings.provider_timeout_seconds, connect=_CONNECT_TIMEOUT_S
            ),
        )
        self._client = (loop, client)
        return client

    # --- images ----------------------------------------------------------------------------

    async def generate(self, request: ImageRequest) -> ProviderImage:
        return (await self.generate_batch(request, 1))[0]

    def batch_size(self, model: str) -> int:
        """The gpt-image models draw up to 10 images a call (`n`)."""
        return BATCH_MAX

    async def generate_batch(self, request: ImageRequest, count: int) -> list[ProviderImage]:
        """`count` images of one prompt in one call (`n`); as many as came back. With a
        `source`, they are edits of it."""
        model = request.model or self.model
        size = self._size_for(request.tier, model)
        client = self._sdk_client()
        what = "edit" if request.source is not None else "images"
        try:
            response = await self._images_call(client, request, model, size, count)
        except openai.OpenAIError as exc:
            raise self._failed(exc, f"{what} {model} {size}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            # The SDK parses any body labelled JSON, and lets a broken one through.
            raise MalformedResponse(f"response body is not JSON: {exc}") from exc
        return await self._images_from(response, model)

    def _images_call(
        self,
        client: openai.AsyncOpenAI,
        request: ImageRequest,
        model: str,
        size: str,
        count: int,
    ) -> Coroutine[Any, Any, object]:
        """`POST /v1/images/generations`, or `/v1/images/edits` (multipart) with a source."""
        # As configured: the API checks it for the model (2.5/2.6 also take xhigh and max),
        # while the SDK's Literal lists only some values.
        quality = cast(Any, self._settings.openai_image_quality)
        if request.source is None:
            return client.images.generate(
                model=model, prompt=request.prompt, size=size, quality=quality, n=count
            )
        return client.images.edit(
            model=model,
            image=_upload(request.source),
            prompt=request.prompt,
            size=size,
            quality=quality,
            n=count,
        )

    async def _images_from(self, response: object, model: str) -> list[ProviderImage]:
        if not isinstance(response, ImagesResponse):
            # The SDK hands back the raw text when the content type is not JSON.
            raise MalformedResponse(f"not an images response: {str(response)[:200]!r}")
        items = response.data if isinstance(response.data, list) else []
        encoded = [getattr(item, "b64_json", None) for item in items]
        if not encoded or not all(isinstance(b64, str) and b64 for b64 in encoded):
            raise MalformedResponse("images response without b64_json in every data[] item")
        images = []
        for b64_data in encoded:
            assert isinstance(b64_data, str)
            data, width, height, mime_type = await asyncio.to_thread(_decode_image, b64_data)
            images.append(
                ProviderImage(
                    data=data, width=width, height=height, model=model, mime_type=mime_type
                )
            )
        return images

    # --- model lookup ----------------------------------------------------------------------

    async def check_model(self, model: str) -> None:
        """`GET /v1/models/{model}`: ModelUnavailable when it is unknown or past its
        shutdown date; AuthFailed / Unavailable / ... when OpenAI cannot tell."""
        client = self._sdk_client()
        try:
            found = await client.models.retrieve(model, timeout=_CHECK_TIMEOUT_S)
        except openai.OpenAIError as exc:
            raise self._failed(exc, f"model {model}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MalformedResponse(f"response body is not JSON: {exc}") from exc
        if not isinstance(found, Model):
            raise MalformedResponse(f"not a model object: {str(found)[:200]!r}")
        today = utcnow().date().isoformat()
        if found.shutdown_date and found.shutdown_date <= today:
            raise ModelUnavailable(f"OpenAI shut {model} down on {found.shutdown_date}")

    # --- chat ------------------------------------------------------------------------------

    async def chat(self, messages: Messages, *, timeout: float) -> str:
        """The chat model's answer: one request within `timeout` seconds."""
        client = self._sdk_client()
        effort = lowest_reasoning_effort(self.chat_model)
        try:
            completion = await client.chat.completions.create(
                model=self.chat_model,
                messages=[_chat_message(message) for message in messages],
                # Not `max_tokens`: reasoning models refuse it.
                max_completion_tokens=_CHAT_MAX_COMPLETION_TOKENS,
                reasoning_effort=cast(Any, effort) if effort else openai.omit,
                timeout=openai.Timeout(timeout, connect=min(timeout, _CONNECT_TIMEOUT_S)),
            )
        except openai.OpenAIError as exc:
            raise self._failed(exc, f"chat {self.chat_model}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MalformedResponse(f"response body is not JSON: {exc}") from exc
        if not isinstance(completion, ChatCompletion) or not completion.choices:
            raise MalformedResponse(f"not a chat completion: {str(completion)[:200]!r}")
        choice = completion.choices[0]
        text = (choice.message.content or "").strip()
        if not text:
            raise MalformedResponse(
                f"OpenAI chat answered no text (finish_reason {choice.finish_reason})"
            )
        return text

    # --- errors ----------------------------------------------------------------------------

    def _failed(self, exc: openai.OpenAIError, what: str) -> ProviderError:
        error = self._taxonomy_error(exc)
        request_id = getattr(exc, "request_id", None)
        log.warning("openai %s (%s, request %s): %s", error.code, what, request_id, error)
        return error

    def _taxonomy_error(self, exc: openai.OpenAIError) -> ProviderError:
        """The one mapping from an SDK exception to our taxonomy (images, edits, models, chat)."""
        if isinstance(exc, openai.APITimeoutError):
            if isinstance(exc.__cause__, _NOT_SENT_TIMEOUTS):
                return Unavailable("cannot reach OpenAI in time")
            # The request went out: OpenAI may be drawing (and billing) it.
            return Unavailable("OpenAI did not answer in time", may_have_started=True)
        if isinstance(exc, openai.APIConnectionError):
            if exc.__cause__ is None or isinstance(exc.__cause__, _NOT_SENT_ERRORS):
                return Unavailable(f"cannot reach OpenAI: {exc.__cause__ or exc}")
            # The connection closed after the request went out (even mid-answer): OpenAI
            # may have drawn, and billed, the image; never resubmitted.
            return Unavailable(f"OpenAI connection lost: {exc.__cause__}", may_have_started=True)
        if isinstance(exc, openai.APIStatusError):
            return self._status_error(exc)
        if isinstance(exc, openai.APIResponseValidationError):
            return MalformedResponse(str(exc))
        return Unavailable(f"OpenAI SDK error: {self._redacted(str(exc))}")

    def _status_error(self, exc: openai.APIStatusError) -> ProviderError:
        status = exc.status_code
        code = exc.code or ""
        message = self._redacted(str(exc.message))
        detail = f"HTTP {status} {code} {message}".replace("  ", " ")
        if code in _BILLING_CODES:
            return QuotaExhausted(detail)
        if status in (400, 404, 410) and (
            code == "model_not_found"
            or (exc.param == "model" and code == "invalid_value")
            or _MODEL_GONE.search(message)
        ):
            return ModelUnavailable(detail)
        if status in (400, 422) and (code in _SAFETY_CODES or _SAFETY_WORDS.search(message)):
            return SafetyRefused(detail)
        return error_for_status(
            status,
            code=code,
            message=message,
            retry_after=_retry_after_header(exc.response.headers),
        )

    def _redacted(self, text: str) -> str:
        """`text` without the API key (OpenAI echoes a masked prefix of a wrong key)."""
        key = self._settings.openai_api_key
        if key:
            text = text.replace(key, "[key]")
        return _KEY_PATTERN.sub("sk-[redacted]", text)
