"""Google Gemini image models ("Nano Banana") through the google-genai SDK's async client.

One `generateContent` call per `generate()`: the SDK's retries are off (our service
retries), and every SDK exception, HTTP error and odd answer becomes one error of the
taxonomy. A safety block is not an HTTP error at Gemini: it is a 200 without an image
and with a telling `finishReason` or `promptFeedback.blockReason`; `NO_IMAGE` (the model
drew nothing, no policy named) is `NoImage`, not a safety refusal.

Sizes: each tier asks for its aspect ratio and the smallest documented `image_size` that
gives at least the tier's pixels (gemini_sizes.py holds Google's table).

Edits: the same call and image config, the user turn carrying the instruction and then the
source picture as an inline image part (Google's image-editing guide). Imagen models cannot
edit on the Gemini API (the SDK's `edit_image` works only on Vertex AI): `edit_unavailable`
says so, and such a request is refused before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from PIL import Image, UnidentifiedImageError

from studio_app.providers.base import (
    AuthFailed,
    BadRequest,
    ImageRequest,
    MalformedResponse,
    Messages,
    ModelUnavailable,
    NoImage,
    NotConfigured,
    ProviderError,
    ProviderImage,
    QuotaExhausted,
    RateLimited,
    SafetyRefused,
    Unavailable,
)
from studio_app.providers.gemini_sizes import plan_for, why_not
from studio_app.providers.http_errors import error_for_status, parse_retry_after
from studio_app.settings import Settings
from studio_app.tiers import tiers

log = logging.getLogger(__name__)

# Google's image models are documented on v1beta; the SDK's own default is v1.
API_VERSION = "v1beta"
# Current image models, the default first: both listed without a shutdown date on
# https://ai.google.dev/gemini-api/docs/deprecations (released 2026-05-28);
# gemini-2.5-flash-image was shut down 2026-10-02 (PLATFORM.md).
KNOWN_IMAGE_MODELS = ("gemini-3.1-flash-image", "gemini-3-pro-image")
IMAGEN_CANNOT_EDIT = (
    "Imagen models on the Gemini API cannot edit pictures; pick a Gemini image model"
)
# Output tokens a chat answer (an enhanced prompt, a few lines) may use.
_CHAT_MAX_OUTPUT_TOKENS = 400
_IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}

# Finish reasons that mean "the model would not draw this prompt": rewording is the fix.
# NO_IMAGE is here too: the model declined without naming a policy, and sending the
# same prompt again is very unlikely to change that.
_REFUSAL_FINISH_REASONS = frozenset(
    {
        "SAFETY",
        "PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "MODEL_ARMOR",
    }
)
# The model answered and drew nothing without naming a policy: NoImage, not a refusal.
_NO_IMAGE_FINISH_REASON = "NO_IMAGE"
# How Google words "this model is gone" (404 NOT_FOUND mostly, whatever the status):
# "models/x is not found for API version v1beta, ...", "This model models/x is no longer
# available. Please update your code to use a newer model ...", "Gemini 1.0 Pro Vision has
# been deprecated on ...". Only a message about a model counts ("field x is deprecated"
# is a bad request).
_MODEL_NOT_FOUND = re.compile(r"is not found for api version", re.IGNORECASE)
_GONE_WORDS = re.compile(
    r"no longer available|(has been|was|is) (shut ?down|deprecated|retired|discontinued)",
    re.IGNORECASE,
)
_ABOUT_A_MODEL = re.compile(r"\bmodels?\b|\bgemini-|\bgemini \d", re.IGNORECASE)
# Quota windows short enough that a 429 on them is a rate limit, not an exhausted quota.
_SHORT_QUOTA_WINDOWS = ("PerMinute", "PerSecond")
_QUOTA_MESSAGE_WORDS = ("billing", "plan", "credit")
_LOGGED_TEXT_CHARS = 500  # of model text or error messages, in details and logs


def _error_classes(*names: tuple[str, str]) -> tuple[type[BaseException], ...]:
    """These exception classes of whichever HTTP libraries are installed."""
    found: list[type[BaseException]] = []
    for module_name, class_name in names:
        try:
            found.append(getattr(importlib.import_module(module_name), class_name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


# Timeouts and connection failures of whichever HTTP library the SDK picked.
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    TimeoutError,
    *_error_classes(
        ("httpx2", "RequestError"),
        ("httpx", "RequestError"),
        ("aiohttp", "ClientError"),  # the SDK's async transport when aiohttp is installed
    ),
)
# Of those, the ones raised before the request reached Google (no connection, or none
# free): Google cannot have begun, or billed, the work. Any other (a read timeout, the
# connection closed before or during the answer) came after the request went out.
_NOT_SENT_ERRORS = _error_classes(
    ("httpx2", "ConnectError"),
    ("httpx2", "ConnectTimeout"),
    ("httpx2", "PoolTimeout"),
    ("httpx", "ConnectError"),
    ("httpx", "ConnectTimeout"),
    ("httpx", "PoolTimeout"),
    ("aiohttp", "ClientConnectorError"),
)
_UNPARSABLE_BODY_ERRORS = (
    json.JSONDecodeError,
    genai_errors.UnknownApiResponseError,
    pydantic.ValidationError,
)


def _error_details(body: Any) -> list[dict[str, Any]]:
    """The `error.details` list of a Google error body (empty when absent or odd)."""
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _details_of_type(details: list[dict[str, Any]], type_name: str) -> list[dict[str, Any]]:
    return [d for d in details if str(d.get("@type", "")).endswith(f".{type_name}")]


def _retry_after(exc: genai_errors.APIError, details: list[dict[str, Any]]) -> str | None:
    """The Retry-After header, else the RetryInfo detail's `retryDelay` ("37s") in seconds."""
    headers = getattr(exc.response, "headers", None)
    header = headers.get("retry-after") if headers is not None else None
    if header:
        return header
    for info in _details_of_type(details, "RetryInfo"):
        delay = str(info.get("retryDelay", "")).strip()
        if delay.endswith("s"):
            return delay[:-1]
    return None


def _is_exhausted_quota(message: str, details: list[dict[str, Any]]) -> bool:
    """Whether a 429 means "out of quota or billing" rather than "slow down".

    Google sends "You exceeded your current quota, please check your plan and billing
    details" for per-minute limits too, so the QuotaFailure detail decides when present:
    only per-minute/per-second windows pass on their own. A limit of 0 (image models on
    the free tier) never does.
    """
    if "limit: 0" in message:
        return True
    violations = [
        violation
        for failure in _details_of_type(details, "QuotaFailure")
        for violation in failure.get("violations") or []
        if isinstance(violation, dict)
    ]
    if violations:
        return any(
            not any(window in str(v.get("quotaId", "")) for window in _SHORT_QUOTA_WINDOWS)
            for v in violations
        )
    lowered = message.lower()
    return any(word in lowered for word in _QUOTA_MESSAGE_WORDS)


class GeminiProvider:
    """Gemini image generation; each tier asks for its aspect ratio at a size that fits it."""

    name = "gemini"
    label = "Google Gemini"

    supports_negative_prompt = False
    supports_seed = False
    known_models: tuple[str, ...] = KNOWN_IMAGE_MODELS

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.model = settings.gemini_image_model
        # gemini-3.5-flash-lite: the Flash-Lite chat model on Google's model pages
        # (https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/gemini/3-5-flash-lite).
        self.chat_model = settings.gemini_chat_model
        # One SDK client for the process: its async transport keeps one connection pool
        # per event loop, and building a client costs ~100 ms (SSL contexts).
        self._client: genai.Client | None = None

    def is_configured(self) -> bool:
        return bool(self._settings.gemini_api_key)

    def unavailable_tiers(self, model: str = "") -> dict[str, str]:
        model = model or self.model
        found: dict[str, str] = {}
        for tier in tiers():
            reason = why_not(model, tier.aspect_ratio, tier.width, tier.height)
            if reason:
                found[tier.id] = reason
        return found

    def edit_unavailable(self, model: str = "") -> str:
        model = model or self.model
        return IMAGEN_CANNOT_EDIT if model.startswith("imagen-") else ""

    @contextlib.contextmanager
    def _sdk_errors(self) -> Iterator[None]:
        """Any failure of one SDK call, as our taxonomy (logged)."""
        try:
            yield
        except genai_errors.APIError as exc:
            raise self._log(self._error_for_api_error(exc)) from exc
        except _UNPARSABLE_BODY_ERRORS as exc:
            detail = f"unparsable answer: {exc}"[:_LOGGED_TEXT_CHARS]
            raise self._log(MalformedResponse(detail)) from exc
        except _TRANSPORT_ERRORS as exc:
            raise self._log(_transport_error(exc)) from exc

    async def check_model(self, model: str) -> None:
        """`models.get` (GET v1beta/models/{model}): 404 → ModelUnavailable, 401/403 → AuthFailed."""
        if not self.is_configured():
            raise NotConfigured("GEMINI_API_KEY is not set")
        client = await self._get_client()
        config = types.GetModelConfig(http_options=self._one_attempt())
        with self._sdk_errors():
            found = await client.aio.models.get(model=model, config=config)
        actions = found.supported_actions
        if actions and "generateContent" not in actions:
            raise self._log(ModelUnavailable(f"{model} does not offer generateContent"))

    async def generate(self, request: ImageRequest) -> ProviderImage:
        if not self.is_configured():
            raise NotConfigured("GEMINI_API_KEY is not set")
        model = request.model or self.model
        tier = request.tier
        plan = plan_for(model, tier.aspect_ratio, tier.width, tier.height)
        if plan is None:
            reason = why_not(model, tier.aspect_ratio, tier.width, tier.height)
            raise self._log(BadRequest(f"{tier.label}: {reason}"))
        if request.source is not None and self.edit_unavailable(model):
            raise self._log(BadRequest(self.edit_unavailable(model)))
        client = await self._get_client()
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            # image_size None (a model that predates it) is left out of the request.
            image_config=types.ImageConfig(
                aspect_ratio=tier.aspect_ratio, image_size=plan.image_size
            ),
            # Both would let the SDK send more requests on its own.
            automatic_continuation=False,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        with self._sdk_errors():
            response = await client.aio.models.generate_content(
                model=model, contents=_contents(request), config=config
            )
        data = self._image_bytes(response)
        try:
            width, height, mime_type = await asyncio.to_thread(_decode, data)
        except MalformedResponse as exc:
            self._log(exc)
            raise
        return ProviderImage(
            data=data, width=width, height=height, model=model, mime_type=mime_type
        )

    async def chat(self, messages: Messages, *, timeout: float) -> str:
        """The chat model's answer (prompt enhancement): one attempt, thinking kept minimal."""
        if not self.is_configured():
            raise NotConfigured("GEMINI_API_KEY is not set")
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        user = "\n".join(m["content"] for m in messages if m["role"] != "system")
        client = await self._get_client()
        config = types.GenerateContentConfig(
            system_instruction=system or None,
            max_output_tokens=_CHAT_MAX_OUTPUT_TOKENS,
            thinking_config=_least_thinking(self.chat_model),
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            http_options=self._one_attempt(timeout),
        )
        with self._sdk_errors():
            response = await client.aio.models.generate_content(
                model=self.chat_model, contents=user, config=config
            )
        return self._chat_text(response)

    async def _get_client(self) -> genai.Client:
        if self._client is None:
            client = await asyncio.to_thread(self._new_client)
            # Two first calls may race: keep one, drop the other before any use.
            self._client = self._client or client
        return self._client

    def _new_client(self) -> genai.Client:
        settings = self._settings
        return genai.Client(
            api_key=settings.gemini_api_key,
            vertexai=False,
            http_options=types.HttpOptions(
                base_url=settings.gemini_base_url or None,
                api_version=API_VERSION,
                timeout=settings.provider_timeout_seconds * 1000,  # milliseconds
                # Exactly one attempt; also stops the SDK's implicit aiohttp reconnect retry.
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )

    def _one_attempt(self, timeout: float | None = None) -> types.HttpOptions:
        """Per-call HTTP options: no SDK retries; `timeout` seconds if given."""
        return types.HttpOptions(
            timeout=max(1, round(timeout * 1000)) if timeout is not None else None,
            retry_options=types.HttpRetryOptions(attempts=1),
        )

    def _redact(self, text: str) -> str:
        key = self._settings.gemini_api_key
        return text.replace(key, "[api key]") if key else text

    def _log(self, error: ProviderError) -> ProviderError:
        log.warning("gemini %s: %s", error.code, error.detail)
        return error

    def _error_for_api_error(self, exc: genai_errors.APIError) -> ProviderError:
        status = int(exc.code or 0)
        google_status = str(exc.status or "")
        # Google echoes the key in some messages ("Consumer 'api_key:AIza…'").
        message = self._redact(str(exc.message or ""))[:_LOGGED_TEXT_CHARS]
        details = _error_details(exc.details)
        reasons = {str(info.get("reason", "")) for info in _details_of_type(details, "ErrorInfo")}
        retry_after = _retry_after(exc, details)
        detail = f"HTTP {status} {google_status} {message}".strip()
        if any(reason.startswith("API_KEY_") for reason in reasons):
            return AuthFailed(detail)  # Google answers a bad key with 400 INVALID_ARGUMENT
        if status != 429 and status < 500 and _says_model_is_gone(message):
            return ModelUnavailable(detail)  # gone, whatever the status: not retried
        if status == 429:
            if _is_exhausted_quota(message, details):
                return QuotaExhausted(detail)
            return RateLimited(detail, retry_after=parse_retry_after(retry_after))
        if google_status == "FAILED_PRECONDITION" and "billing" in message.lower():
            return QuotaExhausted(detail)  # e.g. free tier not offered: billing must be enabled
        return error_for_status(
            status or 500, code=google_status, message=message, retry_after=retry_after
        )

    def _image_bytes(self, response: types.GenerateContentResponse) -> bytes:
        """The first image of the answer, or the taxonomy error saying why there is none."""
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            reason = _enum_name(feedback.block_reason)
            raise self._log(
                SafetyRefused(f"prompt blocked: {reason} {feedback.block_reason_message or ''}")
            )
        candidate = response.candidates[0] if response.candidates else None
        if candidate is None:
            raise self._log(MalformedResponse("answer without candidates"))
        finish = _enum_name(candidate.finish_reason) if candidate.finish_reason else "none"
        parts = candidate.content.parts if candidate.content and candidate.content.parts else []
        # Thinking models draw draft images marked `thought`; only the final one counts.
        final_parts = [part for part in parts if not part.thought]
        images = [p.inline_data.data for p in final_parts if p.inline_data and p.inline_data.data]
        text = " ".join(p.text for p in final_parts if p.text).strip()
        if finish in _REFUSAL_FINISH_REASONS:
            raise self._log(SafetyRefused(_with_text(f"finishReason {finish}", text)))
        if images:
            return images[0]
        if finish == _NO_IMAGE_FINISH_REASON:
            raise self._log(NoImage(_with_text(f"finishReason {finish}", text)))
        # Asked for IMAGE only, the model answered with words (or nothing): a broken answer,
        # not a bad request, and free text cannot be trusted to tell a refusal.
        raise self._log(MalformedResponse(_with_text(f"no image, finishReason {finish}", text)))

    def _chat_text(self, response: types.GenerateContentResponse) -> str:
        """The answer's text, or the taxonomy error saying why there is none."""
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            reason = _enum_name(feedback.block_reason)
            raise self._log(SafetyRefused(f"prompt blocked: {reason}"))
        candidate = response.candidates[0] if response.candidates else None
        finish = (
            _enum_name(candidate.finish_reason) if candidate and candidate.finish_reason else ""
        )
        parts = candidate.content.parts if candidate and candidate.content else None
        text = "".join(p.text for p in parts or [] if p.text and not p.thought).strip()
        if finish in _REFUSAL_FINISH_REASONS:
            raise self._log(SafetyRefused(f"finishReason {finish}"))
        if not text:
            raise self._log(MalformedResponse(f"chat answer without text, finishReason {finish}"))
        return text


def _contents(request: ImageRequest) -> str | types.Content:
    """The user turn: the prompt, and for an edit the source picture after it."""
    source = request.source
    if source is None:
        return request.prompt
    return types.Content(
        role="user",
        parts=[
            types.Part.from_text(text=request.prompt),
            types.Part.from_bytes(data=source.data, mime_type=source.mime_type),
        ],
    )


def _says_model_is_gone(message: str) -> bool:
    if _MODEL_NOT_FOUND.search(message):
        return True
    return bool(_GONE_WORDS.search(message) and _ABOUT_A_MODEL.search(message))


def _transport_error(exc: BaseException) -> Unavailable:
    """A transport failure; `may_have_started` unless it happened before the request left."""
    return Unavailable(
        f"{type(exc).__name__}: {exc}", may_have_started=not isinstance(exc, _NOT_SENT_ERRORS)
    )


def _least_thinking(model: str) -> types.ThinkingConfig:
    """The least thinking `model` allows: chat here is a short rewrite, latency matters.

    Gemini 3 models take `thinking_level` (Flash and Flash-Lite down to MINIMAL, the
    default of gemini-3.5-flash-lite; Pro only down to LOW); Gemini 2.5 Flash models took
    `thinking_budget=0`. Sending both is a 400.
    https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/thinking
    """
    if model.startswith("gemini-2"):
        return types.ThinkingConfig(thinking_budget=0)
    level = types.ThinkingLevel.LOW if "-pro" in model else types.ThinkingLevel.MINIMAL
    return types.ThinkingConfig(thinking_level=level)


def _enum_name(value: Any) -> str:
    return str(getattr(value, "value", value))


def _with_text(detail: str, text: str) -> str:
    return f"{detail}; model said: {text[:_LOGGED_TEXT_CHARS]}" if text else detail


def _decode(data: bytes) -> tuple[int, int, str]:
    """Width, height and MIME type of encoded image bytes; MalformedResponse if unusable."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            mime_type = _IMAGE_FORMATS.get(image.format or "")
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise MalformedResponse(f"image bytes do not decode: {exc}") from exc
    if mime_type is None:
        raise MalformedResponse(f"unsupported image format {image.format}")
    return width, height, mime_type
