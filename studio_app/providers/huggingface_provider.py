"""Hugging Face Inference Providers (FLUX.1 [schnell] by default) through `huggingface_hub`.

What happens on the wire for one `generate()` with the default provider, hf-inference
(huggingface_hub 2.x):

1. We check the model on the Hub: `GET {HF_ENDPOINT}/api/models/<id>`, whose
   `pipeline_tag` must be the task (the check the SDK itself makes for hf-inference).
   `HfApi.model_info` is synchronous, so it runs in a worker thread of our own, with our
   timeout; a success is remembered for the life of the process.
2. `POST {origin}/hf-inference/models/<id>` with `{"inputs": prompt, "parameters":
   {width, height, seed}}` and `Accept: image/png`; the answer is the image bytes. The
   origin is the router's (`https://router.huggingface.co`) or the gateway's
   (`HF_INFERENCE_BASE_URL`), which receives the router's path unchanged. The request goes
   through `AsyncInferenceClient(base_url=<model URL>)`, the SDK's public way to call one
   endpoint: it sends the request as the router would get it and skips the SDK's own Hub
   lookup (a synchronous call on the event loop), which step 1 replaces.

Sizes: FLUX.1's diffusers pipeline works in multiples of 16 and floors other sides to
them; every tier's size is one already (1024×1024, 1536×1024, 1792×1008), so each tier is
asked for (and made) at its exact size. FLUX.1 is guidance-distilled: a negative prompt
does nothing, so none is sent.

Edits (`ImageRequest.source`): FLUX.1 [schnell]/[dev] take no picture, so an edit goes to
`STUDIO_HF_EDIT_MODEL` (FLUX.1 Kontext [dev] by default, the image-to-image model the
Inference Providers docs recommend), through the same Inference Provider, and that model
is recorded. With hf-inference: the Hub's model info with its providers first (pipeline
`image-to-image`, served live by hf-inference), then `POST {origin}/hf-inference/models/<id>`
with `{"inputs": <the PNG in base64>, "parameters": {prompt, target_size: {width,
height}}}` and `Accept: image/png` (the SDK's `image_to_image`); the answer is the image.
The docs' page of hf-inference (docs/inference-providers/providers/hf-inference.md, 2026)
lists no image-to-image task, and their image-to-image page maps FLUX.1 Kontext [dev] to
replicate: when the Hub says the provider does not serve the edit model, the edit is
refused before anything is sent, and from then on `edit_unavailable()` says why. A
missing edit model is the operator's to fix (NotConfigured), never reported as the
generation model being gone.

Chat (`chat()`, prompt enhancement) goes to the router's OpenAI-compatible
`POST {origin}/v1/chat/completions` with the model in the body: the router picks a provider
that serves it ("auto"; hf-inference itself serves no chat models any more).

Neither call is retried by the SDK, so one `generate()` is one inference request; the
generation service owns retries.

Another Inference Provider (`STUDIO_HF_PROVIDER`, e.g. together) needs the SDK's routing:
its Hub lookup maps the model to the provider's own id and payload. That lookup is
synchronous, so such calls run whole with the SDK's synchronous client in our worker
threads. The gateway cannot be applied to them (the SDK has no public hook to move the
router), so `HF_INFERENCE_BASE_URL` with another provider is refused as not configured.

Model ids (confirmed December 2026): FLUX.1 [schnell] / [dev] are served by hf-inference
for text-to-image (PLATFORM.md; huggingface.co model pages list "HF Inference API");
`openai/gpt-oss-20b` through the router's chat completions
(huggingface.co/docs/inference-providers/guides/gpt-oss).
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
from huggingface_hub import (
    AsyncInferenceClient,
    HfApi,
    ImageToImageTargetSize,
    InferenceClient,
    constants,
)
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
    Messages,
    ModelUnavailable,
    NotConfigured,
    ProviderError,
    ProviderImage,
    SourcePicture,
    Unavailable,
)
from studio_app.providers.http_errors import error_for_status
from studio_app.settings import Settings
from studio_app.tiers import Tier

log = logging.getLogger(__name__)

FLUX_SCHNELL = "black-forest-labs/FLUX.1-schnell"
FLUX_DEV = "black-forest-labs/FLUX.1-dev"
HF_INFERENCE = "hf-inference"
TEXT_TO_IMAGE = "text-to-image"
IMAGE_TO_IMAGE = "image-to-image"
# FLUX.1 works in multiples of 16 (diffusers' FluxPipeline floors other sides to them).
SIDE_MULTIPLE = 16
# Room for a reasoning model's thinking (gpt-oss counts it against this) and the answer.
CHAT_MAX_TOKENS = 1024
# The Hub pipelines hf-inference serves text-to-image for (as the SDK checks them).
_IMAGE_PIPELINES = {TEXT_TO_IMAGE}
# A loading model reports `estimated_time` (often minutes); waiting longer than this
# between our attempts only keeps the user staring at a spinner.
MAX_LOADING_WAIT_S = 30.0
_ROUTER_ORIGIN = constants.INFERENCE_PROXY_TEMPLATE.split("/{provider}")[0]
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"}
# The router's words for a chat model that no provider serves (HTTP 400).
_MODEL_GONE_WORDS = ("model_not_supported", "not supported by any provider", "no longer supported")

# The SDK's synchronous calls run here: a slow Hub may hold these threads, but never the
# event loop, nor the default pool the generation service needs for storage and the database.
_SDK_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hf-sdk")
_T = TypeVar("_T")


async def _in_sdk_thread(call: Callable[[], _T]) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_SDK_THREADS, call)


# (Hub endpoint, model) → its pipeline tag, for the life of the process (successes only).
_known_pipelines: dict[tuple[str, str], str | None] = {}
# (Hub endpoint, Inference Provider, edit model) → "" once the Hub said the provider serves
# it for image-to-image, else why it cannot edit with it, for the life of the process.
_edit_checks: dict[tuple[str, str, str], str] = {}


def _hub(settings: Settings) -> HfApi:
    return HfApi(endpoint=constants.ENDPOINT, token=settings.hf_token or None)


def _pipeline_tag(settings: Settings, model: str, timeout: float) -> str | None:
    key = (constants.ENDPOINT, model)
    if key not in _known_pipelines:
        _known_pipelines[key] = _hub(settings).model_info(model, timeout=timeout).pipeline_tag
    return _known_pipelines[key]


def _not_an_image_model(
    model: str, pipeline: str | None, task: str = TEXT_TO_IMAGE
) -> ModelUnavailable:
    return ModelUnavailable(
        f"Model '{model}' doesn't support task '{task}' (its pipeline: {pipeline})"
    )


async def _check_pipeline(settings: Settings, model: str, timeout: float) -> None:
    """The Hub says `model` makes images, or ModelUnavailable (Unavailable when it fails)."""
    pipeline = await _in_sdk_thread(functools.partial(_pipeline_tag, settings, model, timeout))
    if pipeline not in _IMAGE_PIPELINES:
        raise _not_an_image_model(model, pipeline)


def _served_model_info(
    settings: Settings, model: str, timeout: float, task: str = TEXT_TO_IMAGE
) -> None:
    """The Hub's model info with its providers: a model for `task` the configured provider
    serves live, or ModelUnavailable."""
    info = _hub(settings).model_info(
        model, timeout=timeout, expand=["pipeline_tag", "inferenceProviderMapping"]
    )
    if info.pipeline_tag != task:
        raise _not_an_image_model(model, info.pipeline_tag, task)
    provider = settings.hf_inference_provider
    mapping = info.inference_provider_mapping
    if mapping is not None and not any(
        m.provider == provider and m.status == "live" for m in mapping
    ):
        raise ModelUnavailable(f"Model '{model}' is not served by {provider} (any more)")
    _known_pipelines[(constants.ENDPOINT, model)] = info.pipeline_tag


def _edit_key(settings: Settings) -> tuple[str, str, str]:
    return (constants.ENDPOINT, settings.hf_inference_provider, settings.hf_edit_model)


@contextmanager
def _edit_model_errors(settings: Settings) -> Iterator[None]:
    """The edit model gone, unknown or not served: remembered (`edit_unavailable`) and
    NotConfigured, an operator setting to fix. As ModelUnavailable it would be recorded as
    the generation model's (services/provider_models.py) and hide the provider."""
    try:
        yield
    except ModelUnavailable as exc:
        _edit_checks[_edit_key(settings)] = exc.detail
        raise NotConfigured(f"STUDIO_HF_EDIT_MODEL: {exc.detail}") from exc


async def _check_edit_model(settings: Settings, model: str, timeout: float) -> None:
    """The Hub says hf-inference serves `model` for image-to-image (asked once a process)."""
    if _edit_checks.get(_edit_key(settings)) == "":
        return
    with _taxonomy_errors(model):
        await _in_sdk_thread(
            functools.partial(_served_model_info, settings, model, timeout, IMAGE_TO_IMAGE)
        )
    _edit_checks[_edit_key(settings)] = ""


def _origin(settings: Settings) -> str:
    """The router's origin, or the gateway's that receives the router's paths unchanged."""
    return settings.hf_base_url.rstrip("/") or _ROUTER_ORIGIN


def _model_client(settings: Settings, model: str, timeout: float) -> AsyncInferenceClient:
    """A client for hf-inference's endpoint of `model` (a fresh one: its HTTP client belongs
    to this event loop)."""
    return AsyncInferenceClient(
        base_url=f"{_origin(settings)}/{HF_INFERENCE}/models/{model}",
        api_key=settings.hf_token,
        timeout=timeout,
    )


def _chat_client(settings: Settings, timeout: float) -> AsyncInferenceClient:
    """A client for the router's OpenAI-compatible chat (`<origin>/v1/chat/completions`):
    the router picks a provider serving the model named in the body."""
    return AsyncInferenceClient(
        base_url=f"{_origin(settings)}/v1", api_key=settings.hf_token, timeout=timeout
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


def _error_message(exc: HfHubHTTPError) -> tuple[str, str, dict]:
    """The provider's own error code and text, and the JSON body (empty when there is none)."""
    try:
        body = exc.response.json()
    except (ValueError, httpx2.ResponseNotRead):
        body = None
    body = body if isinstance(body, dict) else {}
    error = body.get("error")
    code = ""
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        error = error.get("message")
    elif isinstance(error, list):
        error = "; ".join(str(item) for item in error)
    message = str(error or body.get("message") or exc.server_message or "").strip()
    if not message:
        try:
            message = exc.response.text[:300]
        except httpx2.ResponseNotRead:
            message = ""
    return code, message, body


def _http_error(exc: HfHubHTTPError, model: str, *, sent: bool) -> ProviderError:
    status = exc.response.status_code
    code, message, body = _error_message(exc)
    on_the_hub = "/api/models/" in str(exc.response.url)
    if isinstance(exc, RepositoryNotFoundError) or (status in (404, 410) and on_the_hub):
        return ModelUnavailable(f"unknown model {model!r} on the Hub: HTTP {status} {message}")
    if status == 400 and any(word in f"{code} {message}".lower() for word in _MODEL_GONE_WORDS):
        return ModelUnavailable(f"HTTP {status} {code} {message}".strip())
    error = error_for_status(
        status, code=code, message=message, retry_after=exc.response.headers.get("retry-after")
    )
    if not sent or on_the_hub:
        # A Hub lookup bills nothing: nothing can have started.
        error.may_have_started = False
    estimated = body.get("estimated_time")
    if (
        isinstance(error, Unavailable)
        and error.retry_after is None
        and isinstance(estimated, int | float)
    ):
        error.retry_after = min(max(0.0, float(estimated)), MAX_LOADING_WAIT_S)
    return error


def _never_sent(exc: BaseException) -> bool:
    """The request never reached the provider (refused, or no connection in time)."""
    cause = exc if isinstance(exc, httpx2.TransportError) else exc.__cause__
    return isinstance(cause, httpx2.ConnectError | httpx2.ConnectTimeout | httpx2.PoolTimeout)


@contextmanager
def _taxonomy_errors(model: str, *, sent: bool = False) -> Iterator[None]:
    """Turn whatever the SDK raises into exactly one error of our taxonomy.

    `sent`: the block makes the billed call (inference, chat). There a timeout or a lost
    connection after the request went out means the provider may have begun the work.
    """
    try:
        yield
    except ProviderError:
        raise
    except HfHubHTTPError as exc:
        error = _http_error(exc, model, sent=sent)
        log.warning("Hugging Face %s (%s): %s", error.code, model, exc)
        raise error from exc
    except InferenceTimeoutError as exc:
        log.warning("Hugging Face timeout (%s): %s", model, exc)
        raise Unavailable(
            f"timed out: {exc}", may_have_started=sent and not _never_sent(exc)
        ) from exc
    except (httpx2.TransportError, OfflineModeIsEnabled) as exc:
        log.warning("Hugging Face connection failed (%s): %r", model, exc)
        raise Unavailable(
            f"connection failed: {type(exc).__name__}: {exc}",
            may_have_started=sent and not _never_sent(exc),
        ) from exc
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


def _size(tier: Tier) -> tuple[int, int]:
    """The tier's size on FLUX's grid (each tier's sides are multiples of 16 already)."""

    def on_grid(side: int) -> int:
        return -(-side // SIDE_MULTIPLE) * SIDE_MULTIPLE

    return on_grid(tier.width), on_grid(tier.height)


def _answer_text(output: Any) -> str:
    try:
        text = output.choices[0].message.content
    except (AttributeError, IndexError, KeyError, TypeError) as exc:
        raise MalformedResponse("Hugging Face chat answered without a message") from exc
    if not isinstance(text, str) or not text.strip():
        raise MalformedResponse("Hugging Face chat answered with empty text")
    return text


class HuggingFaceProvider:
    """FLUX.1 (or the configured model) on Hugging Face; every tier at its exact size.

    Also a ChatProvider: `chat()` through the router, for prompt enhancement.
    """

    name = "huggingface"
    label = "Hugging Face"

    # FLUX.1 is guidance-distilled: a negative prompt has no effect, so none is offered.
    supports_negative_prompt = False
    supports_seed = True
    # Current ones first, the default first.
    known_models: tuple[str, ...] = (FLUX_SCHNELL, FLUX_DEV)

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.model = settings.hf_image_model
        self.chat_model = settings.hf_chat_model

    def is_configured(self) -> bool:
        return bool(self._settings.hf_token)

    def unavailable_tiers(self, model: str = "") -> dict[str, str]:
        # Every tier's size is a multiple of 16: FLUX makes each one exactly.
        return {}

    def edit_unavailable(self, model: str = "") -> str:
        # Whatever the generation model, edits are the edit model's.
        if not self._settings.hf_edit_model:
            return "no edit model is set (STUDIO_HF_EDIT_MODEL)"
        return _edit_checks.get(_edit_key(self._settings), "")

    async def check_model(self, model: str) -> None:
        """The Hub's model info: gone (404/410), not a text-to-image model, or no longer
        served by the configured provider → ModelUnavailable."""
        if not self.is_configured():
            raise NotConfigured("HF_TOKEN is not set")
        timeout = self._settings.provider_timeout_seconds
        with _taxonomy_errors(model):
            await _in_sdk_thread(
                functools.partial(_served_model_info, self._settings, model, timeout)
            )

    async def generate(self, request: ImageRequest) -> ProviderImage:
        if not self.is_configured():
            raise NotConfigured("HF_TOKEN is not set")
        settings, model = self._settings, request.model or self.model
        width, height = _size(request.tier)
        parameters: dict[str, Any] = {"width": width, "height": height, "seed": request.seed}
        timeout = settings.provider_timeout_seconds
        if request.source is not None:
            model = settings.hf_edit_model
            reason = self.edit_unavailable()
            if reason:
                raise NotConfigured(f"Hugging Face cannot edit: {reason}")
            with _edit_model_errors(settings):
                target = ImageToImageTargetSize(width=width, height=height)
                image = await self._edit(request.prompt, request.source, target)
        elif settings.hf_inference_provider == HF_INFERENCE:
            with _taxonomy_errors(model):
                await _check_pipeline(settings, model, timeout)
            with _taxonomy_errors(model, sent=True):
                async with _model_client(settings, model, timeout) as client:
                    # No `model=` here: it would replace the client's endpoint URL.
                    image = await client.text_to_image(request.prompt, **parameters)
        else:
            with _taxonomy_errors(model, sent=True):
                routed = _routed_client(settings, timeout)
                image = await _in_sdk_thread(
                    functools.partial(
                        routed.text_to_image, request.prompt, model=model, **parameters
                    )
                )
        data, real_width, real_height = await asyncio.to_thread(_encode_png, image)
        return ProviderImage(data=data, width=real_width, height=real_height, model=model)

    async def _edit(
        self, prompt: str, source: SourcePicture, target: ImageToImageTargetSize
    ) -> Image.Image:
        """The edit model's picture: `source` changed as `prompt` says, at `target` size."""
        settings, model = self._settings, self._settings.hf_edit_model
        timeout = settings.provider_timeout_seconds
        if settings.hf_inference_provider == HF_INFERENCE:
            await _check_edit_model(settings, model, timeout)
            with _taxonomy_errors(model, sent=True):
                async with _model_client(settings, model, timeout) as client:
                    # No `model=` here: it would replace the client's endpoint URL.
                    return await client.image_to_image(
                        source.data, prompt=prompt, target_size=target
                    )
        with _taxonomy_errors(model, sent=True):
            routed = _routed_client(settings, timeout)
            return await _in_sdk_thread(
                functools.partial(
                    routed.image_to_image,
                    source.data,
                    prompt=prompt,
                    model=model,
                    target_size=target,
                )
            )

    async def chat(self, messages: Messages, *, timeout: float) -> str:
        """The answer of `chat_model` through the router (one attempt, our taxonomy)."""
        if not self.is_configured():
            raise NotConfigured("HF_TOKEN is not set")
        model = self.chat_model
        # gpt-oss reasons before answering; "low" keeps a prompt rewrite quick.
        extra = {"reasoning_effort": "low"} if "gpt-oss" in model else None
        try:
            async with asyncio.timeout(timeout):
                with _taxonomy_errors(model, sent=True):
                    async with _chat_client(self._settings, timeout) as client:
                        # Here `model=` is only the body's "model" field: the URL stays.
                        output = await client.chat_completion(
                            messages, model=model, max_tokens=CHAT_MAX_TOKENS, extra_body=extra
                        )
        except TimeoutError as exc:
            raise Unavailable(
                f"Hugging Face chat: no answer within {timeout}s", may_have_started=True
            ) from exc
        return _answer_text(output)
