"""Replicate (default FLUX.2 [pro]) through the `replicate` SDK's async API.

One `generate()` creates exactly one prediction: the SDK's retrying transport is
bypassed, because the generation service owns the retry policy. The prediction is
created with `Prefer: wait`, polled if it is still running, and its output file
downloaded by our own capped client (never the SDK's, which would send our token to
whatever host the output URL names). A prediction we stop waiting for — our deadline,
the caller's timeout, a failed poll — is cancelled at Replicate, so it is not billed
while nobody wants it. Every SDK exception, HTTP error, failed prediction and unusable
body becomes exactly one error of our taxonomy.

Sizes (confirmed on replicate.com, December 2026):
- FLUX.2 [pro] (`black-forest-labs/flux-2-pro`, versions 285631b5/00b07c32 API pages):
  `aspect_ratio: "custom"` takes `width`/`height` from 256 to 2048, "rounded to nearest
  multiple of 32" (16 on an older version: multiples of 32 suit both). Its preset ratios
  take a `resolution` in megapixels whose pixel sizes are not documented, so every tier
  is asked for by its exact pixel size instead.
- FLUX.2 [dev] (version 7bba46bd API page): the same `custom` sizes, up to 1440 a side.
- FLUX.1 [schnell] / [dev]: preset `aspect_ratio` at `megapixels: "1"` only
  (1:1 → 1024×1024, 3:2 → 1216×832, 16:9 → 1344×768): the premium tiers' pixels are out
  of reach. Any other model (a fine-tune, a version id) is assumed to take FLUX.1's inputs.

Edits (`ImageRequest.source`): FLUX.2 takes reference pictures in `input_images` ("List
of input images for image-to-image generation", jpeg/png/gif/webp; version 285631b5 takes
the `custom` width/height alongside them), so FLUX.2 edits with the same inputs plus the
source. A model that takes no picture (FLUX.1, a fine-tune) leaves the edit to
`STUDIO_REPLICATE_EDIT_MODEL` (FLUX.2 [pro] by default), which is then the model recorded.
The source goes as a data URI when under 1 MB, the size below which Replicate's docs
recommend one (replicate.com/docs/topics/predictions/input-files); a larger one is
uploaded through the files API (`POST /v1/files`, as the SDK uploads a local file) and
deleted once the prediction has ended.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import io
import logging
import math
import ssl
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from PIL import Image, UnidentifiedImageError
from replicate.client import Client
from replicate.exceptions import ReplicateError
from replicate.identifier import ModelVersionIdentifier
from replicate.prediction import Prediction
from replicate.version import Versions

from studio_app.providers.base import (
    BadRequest,
    ImageRequest,
    MalformedResponse,
    ModelUnavailable,
    NotConfigured,
    ProviderError,
    ProviderImage,
    SafetyRefused,
    SourcePicture,
    Unavailable,
)
from studio_app.providers.http_errors import error_for_status
from studio_app.settings import Settings
from studio_app.tiers import Tier, tiers

log = logging.getLogger(__name__)

API_ORIGIN = "https://api.replicate.com"
FLUX_2_PRO = "black-forest-labs/flux-2-pro"
FLUX_2_DEV = "black-forest-labs/flux-2-dev"
FLUX_SCHNELL = "black-forest-labs/flux-schnell"
FLUX_DEV = "black-forest-labs/flux-dev"


# FLUX.1's `num_outputs` maximum: images one prediction can make.
FLUX_1_MAX_OUTPUTS = 4


@dataclass(frozen=True)
class _Sizing:
    """How a model is told the image size."""

    label: str
    # FLUX.2: `aspect_ratio: "custom"` with `width`/`height` up to this, rounded to `multiple`.
    custom_max_side: int = 0
    multiple: int = 32
    # FLUX.1: preset ratios at `megapixels: "1"` (these sizes); `go_fast` and `megapixels`
    # are inputs of the official FLUX.1 models only.
    flux_1_inputs: bool = False
    # FLUX.2: pictures to edit in `input_images`.
    takes_images: bool = False


# The aspect ratios FLUX.1 takes and the size it makes for each at 1 megapixel.
FLUX_1_SIZES = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "21:9": (1536, 640),
    "3:2": (1216, 832),
    "2:3": (832, 1216),
    "4:5": (896, 1088),
    "5:4": (1088, 896),
    "3:4": (896, 1152),
    "4:3": (1152, 896),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}
_MODELS = {
    FLUX_2_PRO: _Sizing("FLUX.2 [pro]", custom_max_side=2048, takes_images=True),
    FLUX_2_DEV: _Sizing("FLUX.2 [dev]", custom_max_side=1440, takes_images=True),
    FLUX_SCHNELL: _Sizing("FLUX.1 [schnell]", flux_1_inputs=True),
    FLUX_DEV: _Sizing("FLUX.1 [dev]", flux_1_inputs=True),
}
_OTHER_MODEL = _Sizing("This model")
# Lossless originals; the stored file keeps whatever format really arrives.
OUTPUT_FORMAT = "png"
_MIME_TYPES = {"PNG": "image/png", "WEBP": "image/webp", "JPEG": "image/jpeg"}
# Words in a failed prediction's error that mean the safety checker refused it.
_SAFETY_WORDS = ("nsfw", "sensitive", "safety", "flagged")
# A 422 that names the version: it does not exist (any more) or is not ours to run.
_VERSION_GONE_WORDS = ("invalid version", "version does not exist")
_TERMINAL = ("succeeded", "failed", "canceled")
_MAX_REDIRECTS = 3
# How long a cancel (or an upload's deletion) may take once we have stopped waiting.
_CANCEL_TIMEOUT_S = 5.0
# Replicate's docs recommend a data URI "only if the file is less than 1MB".
DATA_URI_MAX_BYTES = 1_000_000


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every call: building one loads the CA bundle (~70 ms of CPU)."""
    return httpx.create_ssl_context()


def _sizing(model: str) -> _Sizing:
    return _MODELS.get(model.split(":", 1)[0], _OTHER_MODEL)


def custom_size(tier: Tier, multiple: int) -> tuple[int, int]:
    """The smallest size on the model's grid with the tier's pixels at (nearly) its aspect."""
    aspect = tier.width / tier.height
    height = math.ceil(tier.height / multiple) * multiple
    width = max(round(height * aspect / multiple) * multiple, multiple)
    while width * height < tier.width * tier.height:
        width += multiple
    return width, height


def _planned_size(sizing: _Sizing, tier: Tier) -> tuple[int, int] | None:
    """The size the model makes for `tier` with the inputs we send, None if it can't."""
    if sizing.custom_max_side:
        return custom_size(tier, sizing.multiple)
    return FLUX_1_SIZES.get(tier.aspect_ratio)


def _why_unavailable(sizing: _Sizing, tier: Tier) -> str | None:
    size = _planned_size(sizing, tier)
    if size is None:
        return f"{sizing.label} does not take the {tier.aspect_ratio} aspect ratio"
    if sizing.custom_max_side and max(size) > sizing.custom_max_side:
        return f"{sizing.label} makes at most {sizing.custom_max_side} pixels a side"
    width, height = size
    if width * height < tier.width * tier.height:
        return f"{sizing.label} makes about 1 megapixel ({width}×{height} at {tier.aspect_ratio})"
    return None


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


def _api_error(exc: ReplicateError, retry_after: str | None, *, created: bool) -> ProviderError:
    """The taxonomy error for an RFC 7807 problem answer."""
    title, detail = exc.title or "", exc.detail or ""
    if exc.status == 422 and any(w in f"{title} {detail}".lower() for w in _VERSION_GONE_WORDS):
        return ModelUnavailable(f"HTTP 422 {title} {detail}".strip())
    error = error_for_status(exc.status or 500, code=title, message=detail, retry_after=retry_after)
    if created:
        # The prediction exists (a poll failed): it may run, and bill, whatever we do next.
        error.may_have_started = True
    return error


def _failed_prediction_error(message: str) -> ProviderError:
    """A prediction that ran and failed: a safety refusal, or the model broke."""
    if any(word in message.lower() for word in _SAFETY_WORDS):
        return SafetyRefused(f"prediction failed: {message}")
    # Bad input is refused with 422 before a prediction exists; what fails while
    # running is the model itself (out of memory, interrupted worker): transient.
    return Unavailable(f"prediction failed: {message}")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default_port


class _Downloader:
    """Fetches a prediction's output file: only https (or the API's own host, e.g. a local
    gateway), at most `max_bytes` within `timeout` seconds, and with our token only for
    the API's own origin — never for a CDN or whatever host the output URL names."""

    def __init__(self, settings: Settings, api_origin: str) -> None:
        self._token = settings.replicate_api_token
        self._api_origin = _origin(api_origin)
        self._max_bytes = settings.provider_download_max_bytes
        self._timeout = float(settings.provider_download_timeout_seconds)

    def _check_url(self, url: str) -> None:
        scheme, host, _port = _origin(url)
        if scheme == "https" and host:
            return
        if scheme == "http" and host and host == self._api_origin[1]:
            return
        raise MalformedResponse(f"refused to download the output from {url[:200]!r}")

    def _headers(self, url: str) -> dict[str, str]:
        if _origin(url) == self._api_origin:
            return {"Authorization": f"Bearer {self._token}"}
        return {}

    def _too_big(self, size: int) -> MalformedResponse:
        return MalformedResponse(
            f"output file larger than {self._max_bytes} bytes ({size} or more)",
            may_have_started=True,
        )

    async def fetch(self, url: str) -> bytes:
        if url.startswith("data:"):
            return self._data_url(url)
        try:
            async with asyncio.timeout(self._timeout):
                return await self._fetch(url)
        except TimeoutError as exc:
            raise Unavailable(
                f"output download took over {self._timeout:g}s", may_have_started=True
            ) from exc
        except httpx.RequestError as exc:
            raise Unavailable(
                f"output download failed: {type(exc).__name__}: {exc}", may_have_started=True
            ) from exc

    async def _fetch(self, url: str) -> bytes:
        timeout = httpx.Timeout(self._timeout)
        async with httpx.AsyncClient(
            verify=_ssl_context(), timeout=timeout, follow_redirects=False
        ) as client:
            for _hop in range(_MAX_REDIRECTS + 1):
                self._check_url(url)
                request = client.build_request("GET", url, headers=self._headers(url))
                response = await client.send(request, stream=True)
                try:
                    if response.is_redirect and "location" in response.headers:
                        url = urllib.parse.urljoin(url, response.headers["location"])
                        continue
                    return await self._body(response)
                finally:
                    await response.aclose()
        raise MalformedResponse(f"output download redirected over {_MAX_REDIRECTS} times")

    async def _body(self, response: httpx.Response) -> bytes:
        status = response.status_code
        if status >= 400:
            if status in (408, 429) or status >= 500:
                error = error_for_status(status, retry_after=response.headers.get("Retry-After"))
                error.may_have_started = True  # the prediction ran: it is billed
                raise error
            # The output URL the prediction named does not serve a file (expired, removed).
            raise MalformedResponse(f"output file answered HTTP {status}", may_have_started=True)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise self._too_big(int(declared))
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) > self._max_bytes:
                raise self._too_big(len(data))
        return bytes(data)

    def _data_url(self, url: str) -> bytes:
        header, _, payload = url.partition(",")
        if len(payload) * 3 // 4 > self._max_bytes:
            raise self._too_big(len(payload) * 3 // 4)
        try:
            if header.endswith(";base64"):
                return base64.b64decode(payload, validate=True)
            return urllib.parse.unquote_to_bytes(payload)
        except (binascii.Error, ValueError) as exc:
            raise MalformedResponse(f"broken data: URL output: {exc}") from exc


class ReplicateProvider:
    """FLUX on Replicate; each tier is asked for at a size with the tier's pixels."""

    name = "replicate"
    label = "Replicate"

    supports_negative_prompt = False
    supports_seed = True
    # Current ones first, the default first (FLUX.2 [pro]: every tier).
    known_models: tuple[str, ...] = (FLUX_2_PRO, FLUX_2_DEV, FLUX_SCHNELL, FLUX_DEV)

    # How long the create request is held open (`Prefer: wait=N`, the API's maximum)
    # before the SDK falls back to polling; its read timeout is this plus half a second.
    sync_wait_seconds = 60

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.model = settings.replicate_model

    @property
    def _api_origin(self) -> str:
        return self._settings.replicate_base_url.rstrip("/") or API_ORIGIN

    def is_configured(self) -> bool:
        return bool(self._settings.replicate_api_token) and _model_ref(self.model) is not None

    def unavailable_tiers(self, model: str = "") -> dict[str, str]:
        sizing = _sizing(model or self.model)
        reasons = {tier.id: _why_unavailable(sizing, tier) for tier in tiers()}
        return {tier_id: reason for tier_id, reason in reasons.items() if reason}

    def edit_unavailable(self, model: str = "") -> str:
        model = model or self.model
        if self._edit_model(model):
            return ""
        edit_model = self._settings.replicate_edit_model
        if not edit_model:
            return f"{_sizing(model).label} takes no picture to edit"
        return (
            f"{_sizing(model).label} takes no picture to edit, nor does the edit model "
            f"{edit_model} (STUDIO_REPLICATE_EDIT_MODEL): a FLUX.2 model does"
        )

    def _edit_model(self, model: str) -> str:
        """The model that edits for `model`: itself when it takes pictures, else the edit
        model when that one does; "" when neither."""
        for candidate in (model, self._settings.replicate_edit_model):
            if _sizing(candidate).takes_images and _model_ref(candidate) is not None:
                return candidate
        return ""

    def batch_size(self, model: str) -> int:
        """FLUX.1 makes up to 4 images a prediction (`num_outputs`); FLUX.2 one."""
        return 1 if _sizing(model).custom_max_side else FLUX_1_MAX_OUTPUTS

    def _input(
        self, sizing: _Sizing, request: ImageRequest, count: int = 1, picture: str = ""
    ) -> dict[str, object]:
        payload: dict[str, object] = {"prompt": request.prompt}
        if picture:
            payload["input_images"] = [picture]
        if sizing.custom_max_side:
            width, height = custom_size(request.tier, sizing.multiple)
            payload |= {"aspect_ratio": "custom", "width": width, "height": height}
        else:
            payload |= {"aspect_ratio": request.tier.aspect_ratio, "num_outputs": count}
            if sizing.flux_1_inputs:
                payload["megapixels"] = "1"
        payload["output_format"] = OUTPUT_FORMAT
        if request.seed is not None:
            payload["seed"] = request.seed
            if sizing.flux_1_inputs:
                # FLUX.1's fast path (fp8) is not deterministic for a seed.
                payload["go_fast"] = False
        return payload

    def _client(
        self, transport: httpx.AsyncHTTPTransport, last_error: _LastErrorResponse
    ) -> Client:
        # The SDK wraps its transport in a RetryTransport (GETs retried up to 10 times
        # on 429/503/504); a mount for every URL takes precedence over that wrapper.
        return Client(
            api_token=self._settings.replicate_api_token,
            base_url=self._settings.replicate_base_url or None,
            transport=transport,
            mounts={"all://": transport},
            verify=_ssl_context(),  # for proxy transports built from the environment
            event_hooks={"response": [last_error.record]},
        )

    async def check_model(self, model: str) -> None:
        """GET /v1/models/{owner}/{name} (and the version, for a version id)."""
        if not self._settings.replicate_api_token:
            raise NotConfigured("REPLICATE_API_TOKEN is not set")
        model_ref = _model_ref(model)
        if model_ref is None:
            raise ModelUnavailable(f"{model!r} is not a Replicate model id (owner/name)")
        transport = httpx.AsyncHTTPTransport(verify=_ssl_context())
        last_error = _LastErrorResponse()
        client = self._client(transport, last_error)
        try:
            with _sdk_errors(model, last_error, lambda: False):
                await client.models.async_get(model_ref.owner, model_ref.name)
                if model_ref.version:
                    versions = Versions(client, (model_ref.owner, model_ref.name))
                    await versions.async_get(model_ref.version)
        finally:
            await transport.aclose()

    async def generate(self, request: ImageRequest) -> ProviderImage:
        return (await self.generate_batch(request, 1))[0]

    async def generate_batch(self, request: ImageRequest, count: int) -> list[ProviderImage]:
        """One prediction with `count` outputs (FLUX.1; 1 for FLUX.2): its images."""
        asked = model = request.model or self.model
        if not self._settings.replicate_api_token:
            raise NotConfigured("REPLICATE_API_TOKEN is not set")
        if request.source is not None:
            model = self._edit_model(asked)
            if not model:
                raise BadRequest(f"{asked}: {self.edit_unavailable(asked)}")
        model_ref = _model_ref(model)
        if model_ref is None:
            raise NotConfigured(f"Replicate model {model!r} is not owner/name[:version]")
        sizing = _sizing(model)
        reason = _why_unavailable(sizing, request.tier)
        if reason:
            raise BadRequest(f"{model}: {reason}")
        transport = httpx.AsyncHTTPTransport(verify=_ssl_context())
        last_error = _LastErrorResponse()
        client = self._client(transport, last_error)
        run = _Run(self, client, model_ref, sizing)
        try:
            with _sdk_errors(model, last_error, lambda: run.created):
                files = await run.outputs(request, count)
        except ModelUnavailable as exc:
            if model == asked:
                raise
            # The edit model is gone, not the one members pick: recorded as that one's
            # (services/provider_models.py), it would hide the provider's generations.
            raise NotConfigured(f"STUDIO_REPLICATE_EDIT_MODEL {model}: {exc.detail}") from exc
        finally:
            await transport.aclose()
        images = []
        for data in files:
            width, height, mime_type = await asyncio.to_thread(_decode_image, data)
            images.append(
                ProviderImage(
                    data=data, width=width, height=height, model=model, mime_type=mime_type
                )
            )
        return images


def _model_ref(model: str) -> ModelVersionIdentifier | None:
    try:
        return ModelVersionIdentifier.parse(model)
    except ValueError:
        return None


@contextmanager
def _sdk_errors(
    model: str, last_error: _LastErrorResponse, created: Callable[[], bool]
) -> Iterator[None]:
    """Turn whatever the SDK raises into exactly one error of our taxonomy.

    `created()` says whether a prediction exists by now: after that, a lost answer or a
    timeout means work Replicate may run (and bill), so the error says it may have started.
    """
    try:
        yield
    except ProviderError as error:
        log.warning("replicate %s (model %s): %s", error.code, model, error.detail)
        raise
    except ReplicateError as exc:
        error = _api_error(exc, last_error.retry_after, created=created())
        log.warning("replicate %s (model %s): %r", error.code, model, exc)
        raise error from exc
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        # Never reached Replicate: nothing can have started.
        log.warning("replicate connection failed (model %s): %r", model, exc)
        raise Unavailable(f"connection failed: {type(exc).__name__}: {exc}") from exc
    except httpx.TimeoutException as exc:
        log.warning("replicate timed out (model %s): %r", model, exc)
        raise Unavailable(f"timed out: {type(exc).__name__}", may_have_started=True) from exc
    except httpx.RequestError as exc:
        # Sent, then the connection broke: Replicate may have the prediction.
        log.warning("replicate connection lost (model %s): %r", model, exc)
        raise Unavailable(
            f"connection lost: {type(exc).__name__}: {exc}", may_have_started=True
        ) from exc
    except ValueError as exc:
        # Body not JSON, a prediction missing required fields.
        log.warning("replicate sent an unusable body (model %s): %s", model, exc)
        raise MalformedResponse(f"unusable response: {exc}", may_have_started=created()) from exc


async def _best_effort(call: Awaitable[object], what: str, action: str) -> None:
    """Await `call` for at most _CANCEL_TIMEOUT_S, even while being cancelled; log a failure."""
    task = asyncio.ensure_future(call)
    try:
        async with asyncio.timeout(_CANCEL_TIMEOUT_S):
            await asyncio.shield(task)
        log.info("replicate %s: %s done", what, action)
    except (Exception, asyncio.CancelledError) as exc:
        log.warning("replicate %s: %s failed: %r", what, action, exc)


class _Run:
    """One prediction: upload the picture to edit, create, wait (cancelling it if we stop
    waiting), download."""

    def __init__(
        self,
        provider: ReplicateProvider,
        client: Client,
        model_ref: ModelVersionIdentifier,
        sizing: _Sizing,
    ) -> None:
        self._provider = provider
        self._client = client
        self._model_ref = model_ref
        self._sizing = sizing
        self._settings = provider._settings
        self.prediction: Prediction | None = None
        self._upload_id = ""

    @property
    def created(self) -> bool:
        return self.prediction is not None

    async def outputs(self, request: ImageRequest, count: int) -> list[bytes]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.provider_timeout_seconds
        try:
            picture = await self._picture(request.source, deadline) if request.source else ""
            await self._create(request, count, picture)
            assert self.prediction is not None
            try:
                await self._wait(deadline)
            except BaseException:
                # Our deadline, the caller's timeout (CancelledError), a failed poll: nobody
                # will take this image, so stop Replicate making (and billing) it.
                await self._cancel()
                raise
        finally:
            await self._delete_upload()
        downloader = _Downloader(self._settings, self._provider._api_origin)
        return [await downloader.fetch(url) for url in self._output_urls(self.prediction)]

    async def _picture(self, source: SourcePicture, deadline: float) -> str:
        """The source as the model's input: a data URI, or the URL of its upload."""
        if len(source.data) < DATA_URI_MAX_BYTES:
            return f"data:{source.mime_type};base64,{base64.b64encode(source.data).decode()}"
        try:
            # The SDK sends uploads without a timeout: ours is the prediction's deadline.
            async with asyncio.timeout_at(deadline):
                uploaded = await self._client.files.async_create(
                    io.BytesIO(source.data),
                    filename=f"source.{source.mime_type.rsplit('/', 1)[-1]}",
                    content_type=source.mime_type,
                )
        except TimeoutError as exc:
            raise Unavailable(
                f"uploading the picture to edit took over "
                f"{self._settings.provider_timeout_seconds}s"
            ) from exc
        except ReplicateError as exc:
            if exc.status not in (404, 410):
                raise
            # No files API here (a gateway): not the model gone, which would hide it.
            detail = f"the files API answered HTTP {exc.status} {exc.detail or ''}"
            raise NotConfigured(detail.strip()) from exc
        self._upload_id = uploaded.id
        url = uploaded.urls.get("get") if isinstance(uploaded.urls, dict) else None
        if not isinstance(url, str) or not url.startswith(("https:", "http:")):
            raise MalformedResponse(f"file {uploaded.id} uploaded without a URL: {url!r:.200}")
        return url

    async def _create(self, request: ImageRequest, count: int, picture: str) -> None:
        payload = self._provider._input(self._sizing, request, count, picture)
        # Held open at most half our time, so the prediction's id is known (and it can be
        # cancelled) well before we give up on it.
        timeout = self._settings.provider_timeout_seconds
        wait = max(1, min(self._provider.sync_wait_seconds, timeout // 2))
        if self._model_ref.version:
            self.prediction = await self._client.predictions.async_create(
                version=self._model_ref.version, input=payload, wait=wait
            )
        else:
            self.prediction = await self._client.models.predictions.async_create(
                model=(self._model_ref.owner, self._model_ref.name), input=payload, wait=wait
            )

    async def _wait(self, deadline: float) -> None:
        """Poll GET /v1/predictions/{id} until it ends, at most until `deadline`."""
        prediction = self.prediction
        assert prediction is not None
        loop = asyncio.get_running_loop()
        while prediction.status not in _TERMINAL:
            if loop.time() >= deadline:
                raise Unavailable(
                    f"prediction {prediction.id} still {prediction.status} after "
                    f"{self._settings.provider_timeout_seconds}s: cancelled",
                    may_have_started=True,
                )
            await asyncio.sleep(min(self._client.poll_interval, max(0.0, deadline - loop.time())))
            await prediction.async_reload()

    async def _cancel(self) -> None:
        """POST /v1/predictions/{id}/cancel, best effort, even while being cancelled."""
        prediction = self.prediction
        if prediction is None or prediction.status in _TERMINAL:
            return
        call = self._client.predictions.async_cancel(prediction.id)
        await _best_effort(call, f"prediction {prediction.id}", "cancel")

    async def _delete_upload(self) -> None:
        """DELETE /v1/files/{id}: the member's picture is not kept at Replicate."""
        if self._upload_id:
            call = self._client.files.async_delete(self._upload_id)
            await _best_effort(call, f"file {self._upload_id}", "delete")

    def _output_urls(self, prediction: Prediction) -> list[str]:
        """The output files: one (FLUX.2 answers a string) or a list (FLUX.1)."""
        if prediction.status == "failed":
            raise _failed_prediction_error(prediction.error or "no error message")
        if prediction.status == "canceled":
            raise Unavailable(f"prediction {prediction.id} was canceled")
        output = prediction.output
        found = output if isinstance(output, list) else [output]
        urls = [url for url in found if isinstance(url, str)]
        if (
            not urls
            or len(urls) != len(found)
            or not all(url.startswith(("https:", "http:", "data:")) for url in urls)
        ):
            raise MalformedResponse(
                f"prediction {prediction.id} succeeded without an output file: {output!r:.200}"
            )
        return urls
