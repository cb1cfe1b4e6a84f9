"""Google Gemini image models ("Nano Banana") through the google-genai SDK's async client.

One `generateContent` call per `generate()`: the SDK's retries are off (our service
retries), and every SDK exception, HTTP error and odd answer becomes one error of the
taxonomy. A safety block is not an HTTP error at Gemini: it is a 200 without an image
and with a telling `finishReason` or `promptFeedback.blockReason`.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import json
import logging
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
    NotConfigured,
    ProviderError,
    ProviderImage,
    QuotaExhausted,
    RateLimited,
    SafetyRefused,
    Unavailable,
)
from studio_app.providers.http_errors import error_for_status, parse_retry_after
from studio_app.settings import Settings
from studio_app.tiers import tiers

log = logging.getLogger(__name__)

# Google's image models are documented on v1beta; the SDK's own default is v1.
API_VERSION = "v1beta"
# `imageConfig.aspectRatio` values the Gemini image models accept.
NATIVE_ASPECT_RATIOS = frozenset(
    {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"}
)
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
        "NO_IMAGE",
    }
)
# Quota windows short enough that a 429 on them is a rate limit, not an exhausted quota.
_SHORT_QUOTA_WINDOWS = ("PerMinute", "PerSecond")
_QUOTA_MESSAGE_WORDS = ("billing", "plan", "credit")
_LOGGED_TEXT_CHARS = 500  # of model text or error messages, in details and logs


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Timeouts and connection failures of whichever HTTP library the SDK picked."""
    found: list[type[BaseException]] = [TimeoutError]
    for module_name, class_name in (
        ("httpx2", "RequestError"),
        ("httpx", "RequestError"),
        ("aiohttp", "ClientError"),  # the SDK's async transport when aiohttp is installed
    ):
        try:
            found.append(getattr(importlib.import_module(module_name), class_name))
        except ImportError:
            continue
    return tuple(found)


_TRANSPORT_ERRORS = _transport_errors()
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
    """Gemini image generation; every tier's aspect ratio is native to the model."""

    name = "gemini"
    label = "Google Gemini"

    supports_negative_prompt = False
    supports_seed = False

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.model = settings.gemini_image_model
        # One SDK client for the process: its async transport keeps one connection pool
        # per event loop, and building a client costs ~100 ms (SSL contexts).
        self._client: genai.Client | None = None

    def is_configured(self) -> bool:
        return bool(self._settings.gemini_api_key)

    known_models: tuple[str, ...] = ()

    async def check_model(self, model: str) -> None:
        return None

    def unavailable_tiers(self, model: str = "") -> dict[str, str]:
        return {
            tier.id: f"Gemini image models cannot make {tier.aspect_ratio} images"
            for tier in tiers()
            if tier.aspect_ratio not in NATIVE_ASPECT_RATIOS
        }

    async def generate(self, request: ImageRequest) -> ProviderImage:
        if not self.is_configured():
            raise NotConfigured("GEMINI_API_KEY is not set")
        aspect_ratio = request.tier.aspect_ratio
        if aspect_ratio not in NATIVE_ASPECT_RATIOS:
            raise BadRequest(f"Gemini cannot make {aspect_ratio} images")
        client = await self._get_client()
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=aspect_ratio),
            # Both would let the SDK send more requests on its own.
            automatic_continuation=False,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        try:
            response = await client.aio.models.generate_content(
                model=self.model, contents=request.prompt, config=config
            )
        except genai_errors.APIError as exc:
            raise self._log(self._error_for_api_error(exc)) from exc
        except _UNPARSABLE_BODY_ERRORS as exc:
            detail = f"unparsable answer: {exc}"[:_LOGGED_TEXT_CHARS]
            raise self._log(MalformedResponse(detail)) from exc
        except _TRANSPORT_ERRORS as exc:
            raise self._log(Unavailable(f"{type(exc).__name__}: {exc}")) from exc
        data = self._image_bytes(response)
        try:
            width, height, mime_type = await asyncio.to_thread(_decode, data)
        except MalformedResponse as exc:
            self._log(exc)
            raise
        return ProviderImage(
            data=data, width=width, height=height, model=self.model, mime_type=mime_type
        )

    async def chat(self, messages: list[dict[str, str]]) -> str:
        """A text answer from the chat model (prompt enhancement), same client and errors."""
        if not self.is_configured():
            raise NotConfigured("GEMINI_API_KEY is not set")
        system = "\n".join(m["content"] for m in messages if m["role"] == "system")
        user = "\n".join(m["content"] for m in messages if m["role"] != "system")
        client = await self._get_client()
        config = types.GenerateContentConfig(
            system_instruction=system or None,
            max_output_tokens=300,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        try:
            response = await client.aio.models.generate_content(
                model=self._settings.gemini_chat_model, contents=user, config=config
            )
        except genai_errors.APIError as exc:
            raise self._log(self._error_for_api_error(exc)) from exc
        except _UNPARSABLE_BODY_ERRORS as exc:
            raise self._log(MalformedResponse(f"unparsable answer: {exc}")) from exc
        except _TRANSPORT_ERRORS as exc:
            raise self._log(Unavailable(f"{type(exc).__name__}: {exc}")) from exc
        text = response.text if response else None
        if not text:
            raise self._log(MalformedResponse("the chat model answered without text"))
        return text

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
        # Asked for IMAGE only, the model answered with words (or nothing): a broken answer,
        # not a bad request, and free text cannot be trusted to tell a refusal.
        raise self._log(MalformedResponse(_with_text(f"no image, finishReason {finish}", text)))


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
