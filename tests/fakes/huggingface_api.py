"""Hugging Face as `huggingface_hub` 2.x sees it, on one local server.

- The Hub: `GET /api/models/<id>` (a `ModelInfo` JSON; hf-inference reads `pipeline_tag`,
  `?expand=...` asks for `inferenceProviderMapping` too). An unknown model answers 404
  with the Hub's `X-Error-Code: RepoNotFound` header.
- The router, hf-inference: `POST /hf-inference/models/<id>` answers image bytes. FLUX's
  diffusers pipeline works on multiples of 16 and floors other sides to them, so the
  image has that size (`flux_draws`), 1024×1024 when no size is sent. A model no longer
  served there answers 410 (SDXL base, December 2026).
- Edits, image-to-image on hf-inference: `POST /hf-inference/models/<edit model>` with
  `{"inputs": <base64 image>, "parameters": {"prompt", "target_size": {width, height}}}`
  (what `image_to_image` sends when given parameters) answers the input picture scaled to
  `target_size` (floored to multiples of 16, as FLUX.1 Kontext's pipeline works) and
  tinted (`kontext_edits`), so a test can tell the edit started from it; an input that is
  not a picture gets PIL's words in a 400, as hf-inference answers. Whether hf-inference
  serves an image-to-image model at all is the Hub's `inferenceProviderMapping` to say:
  this fake's Hub says it serves FLUX.1 Kontext [dev] (with replicate), so the wire can
  be tested; the real mapping may list replicate alone.
- The router's chat: `POST /v1/chat/completions` with the model in the body (the
  router picks a provider itself: "auto"); OpenAI's answer and error shapes.
  Errors elsewhere are `{"error": "..."}` (a loading model adds `estimated_time`).
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import re
import time
from collections.abc import Iterable

from PIL import Image, UnidentifiedImageError

from tests.fakes.images import encoded
from tests.fakes.server import FakeResponse, FakeServer, RecordedRequest

IMAGE_MODEL = "black-forest-labs/FLUX.1-schnell"
DEV_MODEL = "black-forest-labs/FLUX.1-dev"
GONE_MODEL = "stabilityai/stable-diffusion-xl-base-1.0"
EDIT_MODEL = "black-forest-labs/FLUX.1-Kontext-dev"
# What an edit's output is blended with (a quarter of it): proof that the edit ran.
EDIT_TINT = (0, 160, 255)
EDIT_TINT_SHARE = 0.25
CHAT_MODEL = "openai/gpt-oss-20b"
MODEL_INFO_PATH = r"^/api/models/"
CHAT_PATH = r"^/v1/chat/completions$"
FLUX_MULTIPLE = 16
FLUX_DEFAULT_SIDE = 1024
_request_ids = itertools.count(1)


def image_path(model: str = IMAGE_MODEL) -> str:
    return rf"^/hf-inference/models/{re.escape(model)}$"


def _request_id() -> dict[str, str]:
    return {"x-request-id": f"Root=1-fake-{next(_request_ids):06d}"}


def model_info(
    model: str, pipeline_tag: str, providers: Iterable[str] = ("hf-inference",)
) -> FakeResponse:
    """The Hub's answer about a model, served by `providers` for `pipeline_tag`."""
    return FakeResponse.json(
        {
            "_id": "64bfcd5ff462a99a04fd1ec8",
            "id": model,
            "modelId": model,
            "author": model.split("/")[0],
            "private": False,
            "gated": False,
            "disabled": False,
            "pipeline_tag": pipeline_tag,
            "library_name": "diffusers" if "image" in pipeline_tag else "transformers",
            "tags": [pipeline_tag, "safetensors"],
            "inferenceProviderMapping": {
                provider: {"status": "live", "providerId": model, "task": pipeline_tag}
                for provider in providers
            },
        }
    )


def model_not_found() -> FakeResponse:
    """The Hub's 404 for a model id that does not exist."""
    return FakeResponse.json(
        {"error": "Repository not found"},
        status=404,
        **{"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"},
    )


def image(width: int, height: int, fmt: str = "PNG") -> FakeResponse:
    """A 200 with a real image of this size, whatever was asked."""
    return FakeResponse(
        body=encoded(width, height, fmt),
        headers={"Content-Type": f"image/{fmt.lower()}", **_request_id()},
    )


def flux_draws(request: RecordedRequest) -> FakeResponse:
    """The PNG FLUX makes for the `parameters` sent: each side floored to a multiple of 16
    (diffusers' FluxPipeline), 1024 when not given."""
    parameters = request.json().get("parameters") or {}
    sides = [
        int(parameters.get(name) or FLUX_DEFAULT_SIDE) // FLUX_MULTIPLE * FLUX_MULTIPLE
        for name in ("width", "height")
    ]
    return image(sides[0], sides[1])


def kontext_edits(request: RecordedRequest) -> FakeResponse:
    """The PNG the edit model makes: the input picture at `target_size` (each side floored
    to a multiple of 16; the picture's own size when none is given), a quarter EDIT_TINT."""
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), str):
        return error(400, "Input validation error: `inputs` must be a base64 image")
    try:
        with Image.open(io.BytesIO(base64.b64decode(body["inputs"], validate=True))) as given:
            picture = given.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, binascii.Error) as exc:
        return error(400, str(exc))
    target = (body.get("parameters") or {}).get("target_size") or {}
    sides = [
        int(target.get(name) or side) // FLUX_MULTIPLE * FLUX_MULTIPLE
        for name, side in zip(("width", "height"), picture.size, strict=True)
    ]
    return FakeResponse(
        body=edited_png(picture, (sides[0], sides[1])),
        headers={"Content-Type": "image/png", **_request_id()},
    )


def edited_png(picture: Image.Image, size: tuple[int, int]) -> bytes:
    """`picture` at `size`, a quarter EDIT_TINT: what the fake's edit model makes."""
    scaled = picture.convert("RGB").resize(size, Image.Resampling.BILINEAR)
    tinted = Image.blend(scaled, Image.new("RGB", size, EDIT_TINT), EDIT_TINT_SHARE)
    buffer = io.BytesIO()
    tinted.save(buffer, "PNG")
    return buffer.getvalue()


def no_permission() -> FakeResponse:
    """The router's 403 for a token without the "Inference Providers" permission."""
    return error(
        403,
        "This authentication method does not have sufficient permissions to call "
        "Inference Providers on behalf of user studio-tests",
    )


def error(status: int, message: str, **headers: str) -> FakeResponse:
    """The router's error shape: `{"error": "..."}`."""
    return FakeResponse.json({"error": message}, status=status, **_request_id(), **headers)


def gone(model: str = GONE_MODEL) -> FakeResponse:
    """hf-inference's answer for a model it no longer serves."""
    return error(410, f"Model {model} is no longer supported by hf-inference (410 Gone)")


def chat_error(status: int, message: str, code: str = "", **headers: str) -> FakeResponse:
    """The router's chat errors: OpenAI's `{"error": {"message", "type", "code"}}`."""
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code or None}}
    return FakeResponse.json(body, status=status, **_request_id(), **headers)


def chat_model_not_supported(model: str = CHAT_MODEL) -> FakeResponse:
    """The router's answer for a chat model no provider serves (any more)."""
    return chat_error(
        400,
        f"The requested model '{model}' is not supported by any provider you have enabled.",
        "model_not_supported",
    )


def model_loading(model: str = IMAGE_MODEL, estimated_time: float = 20.0) -> FakeResponse:
    """503 while a cold model loads."""
    return FakeResponse.json(
        {"error": f"Model {model} is currently loading", "estimated_time": estimated_time},
        status=503,
        **_request_id(),
    )


def chat_reply(text: str, model: str = CHAT_MODEL) -> FakeResponse:
    """An OpenAI-compatible chat completion, as the router answers."""
    return FakeResponse.json(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "3.2.1-sha-fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 42, "completion_tokens": 17, "total_tokens": 59},
        },
        **_request_id(),
    )


def serve_models(server: FakeServer) -> None:
    """The Hub knows the FLUX models (served by hf-inference), SDXL (no longer served
    there), the edit model (image-to-image, served by hf-inference and replicate) and the
    chat model; nothing else."""
    server.on("GET", MODEL_INFO_PATH, model_not_found())
    server.on(
        "GET",
        rf"^/api/models/{re.escape(CHAT_MODEL)}(\?|$)",
        model_info(CHAT_MODEL, "text-generation", providers=("together", "groq")),
    )
    server.on(
        "GET",
        rf"^/api/models/{re.escape(GONE_MODEL)}(\?|$)",
        model_info(GONE_MODEL, "text-to-image", providers=()),
    )
    for model in (DEV_MODEL, IMAGE_MODEL):
        server.on(
            "GET",
            rf"^/api/models/{re.escape(model)}(\?|$)",
            model_info(model, "text-to-image", providers=("hf-inference", "fal-ai")),
        )
    serve_edit_model(server, providers=("hf-inference", "replicate"))


def serve_edit_model(server: FakeServer, providers: Iterable[str]) -> None:
    """The Hub's answer about the edit model: image-to-image, served by `providers`."""
    server.on(
        "GET",
        rf"^/api/models/{re.escape(EDIT_MODEL)}(\?|$)",
        model_info(EDIT_MODEL, "image-to-image", providers=providers),
    )
