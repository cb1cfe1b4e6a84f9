"""OpenAI image generation (GPT image models) through the official async SDK.

One `generate()` is one HTTP request: the SDK's own retries are off, because
the generation service owns the retry policy. Every SDK exception, HTTP error
and unusable body becomes exactly one error of our taxonomy.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, cast

import openai
from openai.types import ImagesResponse
from PIL import Image, UnidentifiedImageError

from studio_app.providers.base import (
    BadRequest,
    ImageRequest,
    MalformedResponse,
    NotConfigured,
    ProviderError,
    ProviderImage,
    QuotaExhausted,
    Unavailable,
)
from studio_app.providers.http_errors import error_for_status
from studio_app.settings import Settings
from studio_app.tiers import Tier, tiers

log = logging.getLogger(__name__)

# The sizes every GPT image model takes, by aspect ratio.
_NATIVE_SIZES = {"1:1": "1024x1024", "3:2": "1536x1024", "2:3": "1024x1536"}
# Models documented (openai SDK, `size`) to take any WIDTHxHEIGHT with both sides
# divisible by 16; matched as the id itself or the id plus a snapshot/variant suffix.
_FREE_SIZE_MODELS = ("gpt-image-2", "gpt-image-2.5")
_SIZE_STEP = 16
# Fail fast on an unreachable endpoint; the read timeout is the whole provider budget.
_CONNECT_TIMEOUT_S = 10.0
_MIME_TYPES = {"PNG": "image/png", "WEBP": "image/webp", "JPEG": "image/jpeg"}
# OpenAI error codes that mean "out of money" whatever the HTTP status (images answer 400).
_BILLING_CODES = {"insufficient_quota", "billing_hard_limit_reached", "billing_not_active"}
_KEY_PATTERN = re.compile(r"sk-[A-Za-z0-9_\-*.]+")


def takes_free_sizes(model: str) -> bool:
    """Whether `model` accepts any WxH (multiples of 16), not only the three native sizes."""
    return any(model == base or model.startswith(f"{base}-") for base in _FREE_SIZE_MODELS)


def _multiple_of_step(pixels: int) -> int:
    return max(_SIZE_STEP, round(pixels / _SIZE_STEP) * _SIZE_STEP)


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


class OpenAIProvider:
    """GPT image models: square, 3:2 and 2:3 (any multiple-of-16 size on gpt-image-2)."""

    name = "openai"
    label = "OpenAI"

    supports_negative_prompt = False
    supports_seed = False

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.model = settings.openai_image_model
        # One SDK client (one connection pool) for the event loop that made it.
        self._client: tuple[asyncio.AbstractEventLoop, openai.AsyncOpenAI] | None = None

    def is_configured(self) -> bool:
        return bool(self._settings.openai_api_key)

    known_models: tuple[str, ...] = ()

    async def check_model(self, model: str) -> None:
        return None

    def unavailable_tiers(self, model: str = "") -> dict[str, str]:
        if takes_free_sizes(self.model):
            return {}
        reason = f"OpenAI's {self.model} makes square, 3:2 and 2:3 images only"
        return {tier.id: reason for tier in tiers() if tier.aspect_ratio not in _NATIVE_SIZES}

    def _size_for(self, tier: Tier) -> str:
        """The `size` sent for `tier`, or BadRequest when this model cannot make its aspect."""
        if takes_free_sizes(self.model):
            return f"{_multiple_of_step(tier.width)}x{_multiple_of_step(tier.height)}"
        size = _NATIVE_SIZES.get(tier.aspect_ratio)
        if size is None:
            raise BadRequest(f"{self.model} cannot make {tier.aspect_ratio} images")
        return size

    def _sdk_client(self) -> openai.AsyncOpenAI:
        """The SDK client of the running event loop, made once and then shared.

        Making one costs ~40 ms of CPU on the event loop (httpx builds an SSL context):
        fifty generations at once, each with its own client, held the server up for two
        seconds (bench/RESULTS.md, "Fifty generations at once"). Sharing it also keeps
        connections to the provider alive between generations. A client belongs to one
        loop (its connections do), so another loop gets a new one.
        """
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

    async def generate(self, request: ImageRequest) -> ProviderImage:
        if not self.is_configured():
            raise NotConfigured("OPENAI_API_KEY is not set")
        size = self._size_for(request.tier)
        client = self._sdk_client()
        try:
            response = await client.images.generate(
                model=self.model,
                prompt=request.prompt,
                size=size,
                # As configured: the API checks it for the model, while the SDK's Literal
                # lists only the values this SDK version knew of.
                quality=cast(Any, self._settings.openai_image_quality),
                n=1,
            )
        except openai.OpenAIError as exc:
            error = self._taxonomy_error(exc)
            request_id = getattr(exc, "request_id", None)
            log.warning("openai %s (size %s, request %s): %s", error.code, size, request_id, error)
            raise error from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            # The SDK parses any body labelled JSON, and lets a broken one through.
            raise MalformedResponse(f"response body is not JSON: {exc}") from exc
        return await self._image_from(response)

    async def _image_from(self, response: object) -> ProviderImage:
        if not isinstance(response, ImagesResponse):
            # The SDK hands back the raw text when the content type is not JSON.
            raise MalformedResponse(f"not an images response: {str(response)[:200]!r}")
        images = response.data if isinstance(response.data, list) else []
        b64_data = getattr(images[0], "b64_json", None) if images else None
        if not isinstance(b64_data, str) or not b64_data:
            raise MalformedResponse("images response without data[0].b64_json")
        data, width, height, mime_type = await asyncio.to_thread(_decode_image, b64_data)
        return ProviderImage(
            data=data, width=width, height=height, model=self.model, mime_type=mime_type
        )

    def _taxonomy_error(self, exc: openai.OpenAIError) -> ProviderError:
        if isinstance(exc, openai.APITimeoutError):
            return Unavailable("OpenAI did not answer in time")
        if isinstance(exc, openai.APIConnectionError):
            return Unavailable(f"cannot reach OpenAI: {exc.__cause__ or exc}")
        if isinstance(exc, openai.APIStatusError):
            code = exc.code or ""
            message = self._redacted(str(exc.message))
            if code in _BILLING_CODES:
                return QuotaExhausted(f"HTTP {exc.status_code} {code} {message}")
            return error_for_status(
                exc.status_code,
                code=code,
                message=message,
                retry_after=_retry_after_header(exc.response.headers),
            )
        if isinstance(exc, openai.APIResponseValidationError):
            return MalformedResponse(str(exc))
        return Unavailable(f"OpenAI SDK error: {self._redacted(str(exc))}")

    def _redacted(self, text: str) -> str:
        """`text` without the API key (OpenAI echoes a masked prefix of a wrong key)."""
        key = self._settings.openai_api_key
        if key:
            text = text.replace(key, "[key]")
        return _KEY_PATTERN.sub("sk-[redacted]", text)
