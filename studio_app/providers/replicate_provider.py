"""Replicate (default FLUX.1 [schnell]) through the `replicate` SDK's async API.

One `generate()` creates exactly one prediction: the SDK's retrying transport is
bypassed, because the generation service owns the retry policy. The prediction is
created with `Prefer: wait`, polled if it is still running, and its first output
file downloaded. Every SDK exception, HTTP error, failed prediction and unusable
body becomes exactly one error of our taxonomy.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import ssl

import httpx
from PIL import Image, UnidentifiedImageError
from replicate.client import Client
from replicate.exceptions import ReplicateError
from replicate.helpers import FileOutput
from replicate.identifier import ModelVersionIdentifier
from replicate.prediction import Prediction

from studio_app.providers.base import (
    BadRequest,
    ImageRequest,
    MalformedResponse,
    NotConfigured,
    ProviderError,
    ProviderImage,
    SafetyRefused,
    Unavailable,
)
from studio_app.providers.http_errors import error_for_status
from studio_app.settings import Settings
from studio_app.tiers import tiers

log = logging.getLogger(__name__)

# The aspect ratios FLUX takes (`aspect_ratio`); it picks the pixel size itself
# (1:1 → 1024×1024, 3:2 → 1216×832, 16:9 → 1344×768), which is what we record.
ASPECT_RATIOS = frozenset(
    {"1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"}
)
# Lossless originals; the stored file keeps whatever format really arrives.
OUTPUT_FORMAT = "png"
_MIME_TYPES = {"PNG": "image/png", "WEBP": "image/webp", "JPEG": "image/jpeg"}
# Words in a failed prediction's error that mean the safety checker refused it.
_SAFETY_WORDS = ("nsfw", "sensitive", "safety", "flagged")
_OUTPUT_SCHEMES = ("https:", "http:", "data:")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every call: building one loads the CA bundle (~70 ms of CPU)."""
    return httpx.create_ssl_context()


def _decode_image(data: bytes) -> tuple[int, int, str]:
    """The real width, height and MIME type of downloaded output bytes."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format, (width, height) = image.format or "", image.size
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise MalformedResponse(f"output file is not a decodable image: {exc}") from exc
    mime_type = _MIME_TYPES.get(image_format)
    if mime_type is None:
        raise MalformedResponse(f"unsupported image format {image_format or 'unknown'}")
    return width, height, mime_type


class _LastErrorResponse:
    """Remembers the Retry-After of the last HTTP error (ReplicateError drops headers)."""

    def __init__(self) -> None:
        self.retry_after: str | None = None

    async def record(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            self.retry_after = response.headers.get("Retry-After")


def _api_error(exc: ReplicateError, retry_after: str | None) -> ProviderError:
    """The taxonomy error for an RFC 7807 problem answer."""
    return error_for_status(
        exc.status or 500,
        code=exc.title or "",
        message=exc.detail or "",
        retry_after=retry_after,
    )


def _download_error(exc: httpx.HTTPStatusError) -> ProviderError:
    status = exc.response.status_code
    if status in (408, 429) or status >= 500:
        return error_for_status(status, retry_after=exc.response.headers.get("Retry-After"))
    # The output URL the prediction named does not serve a file (expired, removed).
    return MalformedResponse(f"output file answered HTTP {status}")


def _failed_prediction_error(message: str) -> ProviderError:
    """A prediction that ran and failed: a safety refusal, or the model broke."""
    if any(word in message.lower() for word in _SAFETY_WORDS):
        return SafetyRefused(f"prediction failed: {message}")
    # Bad input is refused with 422 before a prediction exists; what fails while
    # running is the model itself (out of memory, interrupted worker): transient.
    return Unavailable(f"prediction failed: {message}")


class ReplicateProvider:
    """Any Replicate model with FLUX's inputs; every tier is a native aspect ratio."""

    name = "replicate"
    label = "Replicate"

    supports_negative_prompt = False
    supports_seed = True

    # How long the create request is held open (`Prefer: wait=N`, the API's maximum)
    # before the SDK falls back to polling; its read timeout is this plus half a second.
    sync_wait_seconds = 60

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.model = settings.replicate_model

    def _model_ref(self) -> ModelVersionIdentifier | None:
        try:
            return ModelVersionIdentifier.parse(self.model)
        except ValueError:
            return None

    def is_configured(self) -> bool:
        return bool(self._settings.replicate_api_token) and self._model_ref() is not None

    known_models: tuple[str, ...] = ()

    async def check_model(self, model: str) -> None:
        return None

    def unavailable_tiers(self, model: str = "") -> dict[str, str]:
        reason = f"{self.model} does not take the {{}} aspect ratio"
        return {
            tier.id: reason.format(tier.aspect_ratio)
            for tier in tiers()
            if tier.aspect_ratio not in ASPECT_RATIOS
        }

    def _input(self, request: ImageRequest) -> dict[str, object]:
        payload: dict[str, object] = {
            "prompt": request.prompt,
            "aspect_ratio": request.tier.aspect_ratio,
            "output_format": OUTPUT_FORMAT,
            "num_outputs": 1,
        }
        if request.seed is not None:
            payload["seed"] = request.seed
        return payload

    async def generate(self, request: ImageRequest) -> ProviderImage:
        if not self._settings.replicate_api_token:
            raise NotConfigured("REPLICATE_API_TOKEN is not set")
        model_ref = self._model_ref()
        if model_ref is None:
            raise NotConfigured(
                f"STUDIO_REPLICATE_MODEL {self.model!r} is not owner/name[:version]"
            )
        if request.tier.aspect_ratio not in ASPECT_RATIOS:
            raise BadRequest(f"{self.model} cannot make {request.tier.aspect_ratio} images")
        # The SDK wraps its transport in a RetryTransport (GETs retried up to 10 times
        # on 429/503/504); a mount for every URL takes precedence over that wrapper.
        transport = httpx.AsyncHTTPTransport(verify=_ssl_context())
        last_error = _LastErrorResponse()
        client = Client(
            api_token=self._settings.replicate_api_token,
            base_url=self._settings.replicate_base_url or None,
            transport=transport,
            mounts={"all://": transport},
            verify=_ssl_context(),  # for proxy transports built from the environment
            event_hooks={"response": [last_error.record]},
        )
        try:
            data = await self._run(client, model_ref, request)
        except ProviderError as error:
            log.warning("replicate %s (model %s): %s", error.code, self.model, error.detail)
            raise
        except ReplicateError as exc:
            error = _api_error(exc, last_error.retry_after)
            log.warning("replicate %s (model %s): %r", error.code, self.model, exc)
            raise error from exc
        except httpx.HTTPStatusError as exc:
            error = _download_error(exc)
            log.warning("replicate %s downloading output: %s", error.code, exc)
            raise error from exc
        except httpx.TimeoutException as exc:
            log.warning("replicate timed out: %r", exc)
            raise Unavailable(f"timed out: {type(exc).__name__}") from exc
        except httpx.RequestError as exc:
            log.warning("replicate connection failed: %r", exc)
            raise Unavailable(f"connection failed: {type(exc).__name__}: {exc}") from exc
        except ValueError as exc:
            # Body not JSON, a prediction missing required fields, a broken data: URL.
            log.warning("replicate sent an unusable body: %s", exc)
            raise MalformedResponse(f"unusable response: {exc}") from exc
        finally:
            await transport.aclose()
        width, height, mime_type = await asyncio.to_thread(_decode_image, data)
        return ProviderImage(
            data=data, width=width, height=height, model=self.model, mime_type=mime_type
        )

    async def _run(
        self, client: Client, model_ref: ModelVersionIdentifier, request: ImageRequest
    ) -> bytes:
        """Create the prediction, wait for it to end, download its first output file."""
        payload = self._input(request)
        if model_ref.version:
            prediction = await client.predictions.async_create(
                version=model_ref.version, input=payload, wait=self.sync_wait_seconds
            )
        else:
            prediction = await client.models.predictions.async_create(
                model=(model_ref.owner, model_ref.name),
                input=payload,
                wait=self.sync_wait_seconds,
            )
        # Polls GET /v1/predictions/{id} while it is starting/processing.
        await prediction.async_wait()
        return await FileOutput(self._output_url(prediction), client).aread()

    def _output_url(self, prediction: Prediction) -> str:
        if prediction.status == "failed":
            raise _failed_prediction_error(prediction.error or "no error message")
        if prediction.status == "canceled":
            raise Unavailable(f"prediction {prediction.id} was canceled")
        output = prediction.output
        first = output[0] if isinstance(output, list) and output else output
        # The SDK turns only https:/data: strings into files; a gateway may serve http:.
        if not isinstance(first, str) or not first.startswith(_OUTPUT_SCHEMES):
            raise MalformedResponse(
                f"prediction {prediction.id} succeeded without an output file: {output!r:.200}"
            )
        return first
