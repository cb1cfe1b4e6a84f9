"""Hugging Face Inference Providers (SDXL by default) through `huggingface_hub`'s async client.

What happens on the wire for one `generate()` (huggingface_hub 2.x, provider "hf-inference"):

1. The SDK checks the model on the Hub: `GET {HF_ENDPOINT}/api/models/<id>` (its
   `pipeline_tag` must be the task; other providers ask `?expand=inferenceProviderMapping`).
   The SDK makes this call with its shared *synchronous* client, without a timeout, and
   caches a success for the life of the process. We run it in a worker thread of our own
   first, so a slow Hub never freezes the event loop; the SDK's own call then hits its cache.
2. `POST https://router.huggingface.co/hf-inference/models/<id>` with
   `{"inputs": prompt, "parameters": {width, height, negative_prompt, seed}}` and
   `Accept: image/png`; the answer is the image bytes.

Neither call is retried by the SDK (its retrying `http_backoff` is not used on these
paths), so one `generate()` is one inference request; the generation service owns retries.

Base-URL override (`HF_INFERENCE_BASE_URL`): it replaces the router's origin
(`https://router.huggingface.co`) in every inference request, keeping the path, so a
gateway receives `{base}/hf-inference/models/<id>` exactly as the router would. The Hub
lookup of step 1 is not redirected: it follows the SDK's own `HF_ENDPOINT` variable.
`AsyncInferenceClient(base_url=...)` cannot do this: it is an alias of `model` (one endpoint
URL, no provider routing, no Hub check) and `text_to_image(model=...)` ignores it. So the
redirect is a request hook on the SDK's async HTTP client, installed through the public
`set_async_client_factory` and active only inside our own calls (a context variable).
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

import httpx2
from huggingface_hub import AsyncInferenceClient, constants, set_async_client_factory
from huggingface_hub.errors import (
    HfHubHTTPError,
    InferenceTimeoutError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
)
from huggingface_hub.inference._providers import get_provider_helper
from huggingface_hub.utils._http import default_async_client_factory
from PIL import Image, UnidentifiedImageError

from studio_app.providers.base import (
    BadRequest,
    ImageRequest,
    MalformedResponse,
    NotConfigured,
    ProviderError,
    ProviderImage,
    Unavailable,
)
from studio_app.providers.http_errors import error_for_status
from studio_app.settings import Settings

log = logging.getLogger(__name__)

# SDXL's native ~1 megapixel buckets (multiples of 64). 1536×1024 would be 1.5 MP, outside
# what SDXL was trained on (duplicated subjects, broken anatomy), so premium gets the 3:2-ish
# bucket 1216×832 (1.46:1) and premium-wide the 16:9-ish 1344×768 (1.75:1).
TIER_SIZES = {
    "standard": (1024, 1024),
    "premium": (1216, 832),
    "premium-wide": (1344, 768),
}
TEXT_TO_IMAGE = "text-to-image"
CHAT = "conversational"
CHAT_MAX_TOKENS = 300
# A loading model reports `estimated_time` (often minutes); waiting longer than this
# between our attempts only keeps the user staring at a spinner.
MAX_LOADING_WAIT_S = 30.0
_ROUTER_ORIGIN = constants.INFERENCE_PROXY_TEMPLATE.split("/{provider}")[0]
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"}

# The SDK's Hub lookup has no timeout: a hung Hub may pin these threads, but never the
# default pool the generation service needs for storage and the database.
_HUB_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hf-hub-lookup")
# The gateway for inference requests made in the current task (None: the real router).
_gateway: ContextVar[str | None] = ContextVar("studio_hf_gateway", default=None)


def _to_gateway(gateway: str) -> Callable[[httpx2.Request], Awaitable[None]]:
    async def send_to_gateway(request: httpx2.Request) -> None:
        url = str(request.url)
        if url.startswith(_ROUTER_ORIGIN + "/"):
            request.url = httpx2.URL(gateway.rstrip("/") + url[len(_ROUTER_ORIGIN) :])
            request.headers["Host"] = request.url.netloc.decode("ascii")

    return send_to_gateway


def _async_http_client() -> httpx2.AsyncClient:
    """The SDK's default async client, plus the gateway redirect inside our calls."""
    client = default_async_client_factory()
    gateway = _gateway.get()
    if gateway:
        hooks = client.event_hooks
        client.event_hooks = {**hooks, "request": [_to_gateway(gateway), *hooks["request"]]}
    return client


set_async_client_factory(_async_http_client)


@asynccontextmanager
async def _inference_client(
    settings: Settings, timeout: float
) -> AsyncIterator[AsyncInferenceClient]:
    """A fresh client for this call (its HTTP client belongs to this event loop)."""
    token = _gateway.set(settings.hf_base_url or None)
    try:
        async with AsyncInferenceClient(
            provider=settings.hf_inference_provider,  # type: ignore[arg-type]
            api_key=settings.hf_token,
            timeout=timeout,
        ) as client:
            yield client
    finally:
        _gateway.reset(token)


def _look_up_model_sync(provider: str, task: str, model: str) -> None:
    # The same (cached) lookup the SDK runs inside text_to_image / chat_completion.
    helper = get_provider_helper(provider, task=task, model=model)  # type: ignore[arg-type]
    helper._prepare_mapping_info(model)


async def _look_up_model(settings: Settings, task: str, model: str) -> None:
    """The SDK's Hub lookup, off the event loop and out of the shared thread pool."""
    lookup = functools.partial(_look_up_model_sync, settings.hf_inference_provider, task, model)
    await asyncio.get_running_loop().run_in_executor(_HUB_LOOKUPS, lookup)


def _error_message(exc: HfHubHTTPError) -> tuple[str, dict]:
    """The provider's own error text and the JSON body (empty when there is none)."""
    try:
        body = exc.response.json()
    except (ValueError, httpx2.ResponseNotRead):
        body = None
    body = body if isinstance(body, dict) else {}
    error = body.get("error")
    if isinstance(error, dict):
        error = error.get("message")
    elif isinstance(error, list):
        error = "; ".join(str(item) for item in error)
    message = str(error or body.get("message") or exc.server_message or "").strip()
    if not message:
        try:
            message = exc.response.text[:300]
        except httpx2.ResponseNotRead:
            message = ""
    return message, body


def _http_error(exc: HfHubHTTPError, model: str) -> ProviderError:
    status = exc.response.status_code
    message, body = _error_message(exc)
    if isinstance(exc, RepositoryNotFoundError) or (
        status == 404 and "/api/models/" in str(exc.response.url)
    ):
        return BadRequest(f"unknown model {model!r} on the Hub: HTTP {status} {message}")
    error = error_for_status(
        status, message=message, retry_after=exc.response.headers.get("retry-after")
    )
    estimated = body.get("estimated_time")
    if (
        isinstance(error, Unavailable)
        and error.retry_after is None
        and isinstance(estimated, int | float)
    ):
        error.retry_after = min(max(0.0, float(estimated)), MAX_LOADING_WAIT_S)
    return error


@contextmanager
def _taxonomy_errors(model: str) -> Iterator[None]:
    """Turn whatever the SDK raises into exactly one error of our taxonomy."""
    try:
        yield
    except ProviderError:
        raise
    except HfHubHTTPError as exc:
        error = _http_error(exc, model)
        log.warning("Hugging Face %s (%s): %s", error.code, model, exc)
        raise error from exc
    except InferenceTimeoutError as exc:
        log.warning("Hugging Face timeout (%s): %s", model, exc)
        raise Unavailable(f"timed out: {exc}") from exc
    except (httpx2.TransportError, OfflineModeIsEnabled) as exc:
        log.warning("Hugging Face connection failed (%s): %r", model, exc)
        raise Unavailable(f"connection failed: {type(exc).__name__}: {exc}") from exc
    except (UnidentifiedImageError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        log.warning("Hugging Face sent an unusable body (%s): %s", model, exc)
        raise MalformedResponse(f"unusable body: {exc}") from exc
    except ValueError as exc:
        # The SDK's own checks: model not served by this provider or not for this task.
        log.warning("Hugging Face refused the request (%s): %s", model, exc)
        raise BadRequest(str(exc)) from exc


def _encode_png(image: Image.Image) -> tuple[bytes, int, int]:
    """PNG bytes of the image the provider sent, and its real size."""
    try:
        image.load()
        if image.mode not in _PNG_MODES:
            image = image.convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
    except (OSError, ValueError) as exc:
        raise MalformedResponse(f"the image could not be decoded: {exc}") from exc
    width, height = image.size
    return buffer.getvalue(), width, height


class HuggingFaceProvider:
    """SDXL (or the configured model) on Hugging Face; all three tiers at SDXL-native sizes."""

    name = "huggingface"
    label = "Hugging Face"

    supports_negative_prompt = True
    supports_seed = True

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.model = settings.hf_image_model

    def is_configured(self) -> bool:
        return bool(self._settings.hf_token)

    def unavailable_tiers(self) -> dict[str, str]:
        return {}

    async def generate(self, request: ImageRequest) -> ProviderImage:
        if not self.is_configured():
            raise NotConfigured("HF_TOKEN is not set")
        tier = request.tier
        width, height = TIER_SIZES.get(tier.id, (tier.width, tier.height))
        with _taxonomy_errors(self.model):
            await _look_up_model(self._settings, TEXT_TO_IMAGE, self.model)
            timeout = self._settings.provider_timeout_seconds
            async with _inference_client(self._settings, timeout) as client:
                image = await client.text_to_image(
                    request.prompt,
                    model=self.model,
                    width=width,
                    height=height,
                    negative_prompt=request.negative_prompt,
                    seed=request.seed,
                )
        data, real_width, real_height = await asyncio.to_thread(_encode_png, image)
        return ProviderImage(data=data, width=real_width, height=real_height, model=self.model)


async def hf_chat(
    settings: Settings,
    messages: list[dict[str, str]],
    *,
    timeout: float,
    max_tokens: int = CHAT_MAX_TOKENS,
) -> str:
    """The assistant's reply from `settings.hf_chat_model` (one attempt, our taxonomy)."""
    if not settings.hf_token:
        raise NotConfigured("HF_TOKEN is not set")
    model = settings.hf_chat_model
    try:
        async with asyncio.timeout(timeout):
            with _taxonomy_errors(model):
                await _look_up_model(settings, CHAT, model)
                async with _inference_client(settings, timeout) as client:
                    output = await client.chat_completion(
                        messages, model=model, max_tokens=max_tokens
                    )
    except TimeoutError as exc:
        raise Unavailable(f"Hugging Face chat: no answer within {timeout}s") from exc
    try:
        text = output.choices[0].message.content
    except (AttributeError, IndexError, KeyError, TypeError) as exc:
        raise MalformedResponse("Hugging Face chat answered without a message") from exc
    if not isinstance(text, str) or not text.strip():
        raise MalformedResponse("Hugging Face chat answered with empty text")
    return text
