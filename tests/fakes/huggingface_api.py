"""Hugging Face as `huggingface_hub` 2.x sees it, on one local server.

- The Hub: `GET /api/models/<id>` (a `ModelInfo` JSON; hf-inference reads `pipeline_tag`,
  other providers ask `?expand=inferenceProviderMapping`). An unknown model answers 404
  with the Hub's `X-Error-Code: RepoNotFound` header.
- The router (hf-inference): `POST /hf-inference/models/<id>` answers image bytes;
  `POST /hf-inference/models/<id>/v1/chat/completions` answers OpenAI's chat shape.
  Errors are `{"error": "..."}` (a loading model adds `estimated_time`).
"""

from __future__ import annotations

import itertools
import re
import time

from tests.fakes.images import encoded
from tests.fakes.server import FakeResponse, FakeServer, RecordedRequest

IMAGE_MODEL = "stabilityai/stable-diffusion-xl-base-1.0"
CHAT_MODEL = "mistralai/Mistral-7B-Instruct-v0.3"
MODEL_INFO_PATH = r"^/api/models/"
_request_ids = itertools.count(1)


def image_path(model: str = IMAGE_MODEL) -> str:
    return rf"^/hf-inference/models/{re.escape(model)}$"


def chat_path(model: str = CHAT_MODEL) -> str:
    return rf"^/hf-inference/models/{re.escape(model)}/v1/chat/completions$"


def _request_id() -> dict[str, str]:
    return {"x-request-id": f"Root=1-fake-{next(_request_ids):06d}"}


def model_info(model: str, pipeline_tag: str) -> FakeResponse:
    """The Hub's answer about a model served by hf-inference for `pipeline_tag`."""
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
            "library_name": "diffusers" if pipeline_tag == "text-to-image" else "transformers",
            "tags": [pipeline_tag, "safetensors"],
            "inferenceProviderMapping": {
                "hf-inference": {"status": "live", "providerId": model, "task": pipeline_tag}
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


def image_of_requested_size(request: RecordedRequest) -> FakeResponse:
    """A PNG of exactly the `parameters.width`×`height` asked for, as SDXL answers."""
    parameters = request.json()["parameters"]
    return image(parameters["width"], parameters["height"])


def error(status: int, message: str, **headers: str) -> FakeResponse:
    """The router's error shape: `{"error": "..."}`."""
    return FakeResponse.json({"error": message}, status=status, **_request_id(), **headers)


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
    """The Hub knows the image model (text-to-image) and the chat model, nothing else."""
    server.on("GET", MODEL_INFO_PATH, model_not_found())
    server.on(
        "GET",
        rf"^/api/models/{re.escape(CHAT_MODEL)}(\?|$)",
        model_info(CHAT_MODEL, "text-generation"),
    )
    server.on(
        "GET",
        rf"^/api/models/{re.escape(IMAGE_MODEL)}(\?|$)",
        model_info(IMAGE_MODEL, "text-to-image"),
    )
