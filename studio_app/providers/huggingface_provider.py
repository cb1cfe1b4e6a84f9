"""Hugging Face Inference Providers (SDXL by default) through `huggingface_hub`'s public API.

What happens on the wire for one `generate()` with the default provider, hf-inference
(huggingface_hub 2.x):

1. We check the model on the Hub: `GET {HF_ENDPOINT}/api/models/<id>`, whose
   `pipeline_tag` must be the task (the check the SDK itself makes for hf-inference).
   `HfApi.model_info` is synchronous, so it runs in a worker thread of our own, with our
   timeout; a success is remembered for the life of the process.
2. `POST {origin}/hf-inference/models/<id>` with `{"inputs": prompt, "parameters":
   {width, height, negative_prompt, seed}}` and `Accept: image/png`; the answer is the
   image bytes. The origin is the router's (`https://router.huggingface.co`) or the
   gateway's (`HF_INFERENCE_BASE_URL`), which receives the router's path unchanged. The
   request goes through `AsyncInferenceClient(base_url=<model URL>)`, the SDK's public way
   to call one endpoint: it sends the request as the router would get it and skips the
   SDK's own Hub lookup (a synchronous call on the event loop), which step 1 replaces.

Neither call is retried by the SDK, so one `generate()` is one inference request; the
generation service owns retries.

Another Inference Provider (`STUDIO_HF_PROVIDER`, e.g. together) needs the SDK's routing:
its Hub lookup maps the model to the provider's own id and payload. That lookup is
synchronous, so such calls run whole with the SDK's synchronous client in our worker
threads. The gateway cannot be applied to them (the SDK has no public hook to move the
router), so `HF_INFERENCE_BASE_URL` with another provider is refused as not configured.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import httpx2
from huggingface_hub import AsyncInferenceClient, HfApi, InferenceClient, constants
from huggingface_hub.errors import (
    HfHubHTTPError,
    InferenceTimeoutError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
)
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
HF_INFERENCE = "hf-inference"
TEXT_TO_IMAGE = "text-to-image"
CHAT = "conversational"
CHAT_MAX_TOKENS = 300
# The Hub pipelines hf-inference serves each task for (as the SDK checks them).
_PIPELINES = {
    TEXT_TO_IMAGE: {"text-to-image"},
    CHAT: {"text-generation", "image-text-to-text", "conversational"},
}
# A loading model reports `estimated_time` (often minutes); waiting longer than this
# between our attempts only keeps the user staring at a spinner.
MAX_LOADING_WAIT_S = 30.0
_ROUTER_ORIGIN = constants.INFERENCE_PROXY_TEMPLATE.split("/{provider}")[0]
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"}

# The SDK's synchronous calls run here: a slow Hub may hold these threads, but never the
# event loop, nor the default pool the generation service needs for storage and the database.
_SDK_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hf-sdk")
_T = TypeVar("_T")


async def _in_sdk_thread(call: Callable[[], _T]) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_SDK_THREADS, call)


# (Hub endpoint, model) → its pipeline tag, for the life of the process (successes only).
_known_pipelines: dict[tuple[str, str], str | None] = {}


def _pipeline_tag(settings: Settings, model: str, timeout: float) -> str | None:
    key = (constants.ENDPOINT, model)
    if key not in _known_pipelines:
        hub = HfApi(endpoint=key[0], token=settings.hf_token or None)
        _known_pipelines[key] = hub.model_info(model, timeout=timeout).pipeline_tag
    return _known_pipelines[key]


async def _check_model(settings: Settings, task: str, model: str, timeout: float) -> None:
    """hf-inference serves `model` for `task`, or BadRequest (Unavailable when the Hub fails)."""
    pipeline = await _in_sdk_thread(functools.partial(_pipeline_tag, settings, model, timeout))
    if pipeline not in _PIPELINES[task]:
        raise BadRequest(
            f"Model '{model}' doesn't support task '{task}' (its pipeline: {pipeline})"
        )


def _model_url(settings: Settings, model: str) -> str:
    """Where hf-inference serves `model`: the router's path, on the gateway if there is one."""
    origin = settings.hf_base_url.rstrip("/") or _ROUTER_ORIGIN
    return f"{origin}/{HF_INFERENCE}/models/{model}"


def _model_client(settings: Settings, model: str, timeout: float) -> AsyncInferenceClient:
    """A client for hf-inference's endpoint of `model` (a fresh one: its HTTP client belongs
    to this event loop)."""
    return AsyncInferenceClient(
        base_url=_model_url(settings, model), api_key=settings.hf_token, timeout=timeout
    )


def _routed_client(settings: Settings, timeout: float) -> InferenceClient:
    """The SDK's synchronous client with its own provider routing (not hf-inference)."""
    if settings.hf_base_url:
        raise NotConfigured(
            f"HF_INFERENCE_BASE_URL redirects {HF_INFERENCE} only, "
            f"not STUDIO_HF_PROVIDER={settings.hf_inference_provider}"
        )
    return InferenceClient(
        # As configured: the SDK documents a str and refuses names it has no route for;
        # its Literal lists only the providers this version knew of.
        provider=cast(Any, settings.hf_inference_provider),
        api_key=settings.hf_token,
        timeout=timeout,
    )


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

    known_models: tuple[str, ...] = ()

    async def check_model(self, model: str) -> None:
        return None

    def unavailable_tiers(self, model: str = "") -> dict[str, str]:
        return {}

    async def generate(self, request: ImageRequest) -> ProviderImage:
        if not self.is_configured():
            raise NotConfigured("HF_TOKEN is not set")
        settings, model = self._settings, self.model
        tier = request.tier
        width, height = TIER_SIZES.get(tier.id, (tier.width, tier.height))
        parameters: dict[str, Any] = {
            "width": width,
            "height": height,
            "negative_prompt": request.negative_prompt,
            "seed": request.seed,
        }
        timeout = settings.provider_timeout_seconds
        with _taxonomy_errors(model):
            if settings.hf_inference_provider == HF_INFERENCE:
                await _check_model(settings, TEXT_TO_IMAGE, model, timeout)
                async with _model_client(settings, model, timeout) as client:
                    # No `model=` here: it would replace the client's endpoint URL.
                    image = await client.text_to_image(request.prompt, **parameters)
            else:
                routed = _routed_client(settings, timeout)
                image = await _in_sdk_thread(
                    functools.partial(
                        routed.text_to_image, request.prompt, model=model, **parameters
                    )
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
                if settings.hf_inference_provider == HF_INFERENCE:
                    await _check_model(settings, CHAT, model, timeout)
                    async with _model_client(settings, model, timeout) as client:
                        # Here `model=` is only the body's "model" field: the URL stays.
                        output = await client.chat_completion(
                            messages, model=model, max_tokens=max_tokens
                        )
                else:
                    routed = _routed_client(settings, timeout)
                    output = await _in_sdk_thread(
                        functools.partial(
                            routed.chat_completion, messages, model=model, max_tokens=max_tokens
                        )
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
