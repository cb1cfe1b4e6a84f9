"""OpenAI's image API as the SDK sees it: `POST /v1/images/generations` and its errors.

Success bodies follow `openai.types.ImagesResponse` for GPT image models (always
`b64_json`, never a URL); error bodies follow OpenAI's documented shape
`{"error": {"message", "type", "param", "code"}}`, with the status and headers
OpenAI sends for each case.
"""

from __future__ import annotations

import base64
import itertools
import time

from tests.fakes.images import encoded
from tests.fakes.server import FakeResponse, RecordedRequest

BASE_PATH = "/v1"
GENERATIONS_PATH = r"^/v1/images/generations$"
_request_ids = itertools.count(1)


def _request_id_header() -> dict[str, str]:
    return {"x-request-id": f"req_fake{next(_request_ids):08d}"}


def images_body(image: bytes, *, size: str, output_format: str = "png") -> dict:
    """An `ImagesResponse` JSON body carrying `image` as base64."""
    return {
        "created": int(time.time()),
        "background": "opaque",
        "data": [{"b64_json": base64.b64encode(image).decode()}],
        "output_format": output_format,
        "quality": "medium",
        "size": size,
        "usage": {
            "input_tokens": 12,
            "input_tokens_details": {"image_tokens": 0, "text_tokens": 12},
            "output_tokens": 1056,
            "total_tokens": 1068,
        },
    }


def image_of_requested_size(request: RecordedRequest) -> FakeResponse:
    """A PNG of exactly the `size` the request asked for, as OpenAI answers."""
    size = request.json()["size"]
    width, height = (int(side) for side in size.split("x"))
    body = images_body(encoded(width, height, "PNG"), size=size)
    return FakeResponse.json(body, **_request_id_header())


def image(width: int, height: int, fmt: str = "PNG") -> FakeResponse:
    """A 200 with a real image of this size and format, whatever was asked."""
    body = images_body(
        encoded(width, height, fmt), size=f"{width}x{height}", output_format=fmt.lower()
    )
    return FakeResponse.json(body, **_request_id_header())


def error(
    status: int,
    message: str,
    *,
    type_: str,
    code: str | None,
    param: str | None = None,
    **headers: str,
) -> FakeResponse:
    payload = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return FakeResponse.json(payload, status, **_request_id_header(), **headers)


def invalid_api_key(masked_key: str = "sk-test-****************1234") -> FakeResponse:
    return error(
        401,
        f"Incorrect API key provided: {masked_key}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        type_="invalid_request_error",
        code="invalid_api_key",
    )


def insufficient_quota() -> FakeResponse:
    return error(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more "
        "information on this error, read the docs: "
        "https://platform.openai.com/docs/guides/error-codes/api-errors.",
        type_="insufficient_quota",
        code="insufficient_quota",
    )


def billing_hard_limit() -> FakeResponse:
    return error(
        400,
        "Billing hard limit has been reached",
        type_="invalid_request_error",
        code="billing_hard_limit_reached",
    )


def rate_limited(**headers: str) -> FakeResponse:
    """429 rate_limit_exceeded; pass `retry_after=` / `retry_after_ms=` for those headers."""
    names = {"retry_after": "retry-after", "retry_after_ms": "retry-after-ms"}
    return error(
        429,
        "Rate limit reached for gpt-image-1.5 in organization org-fake on images per minute "
        "(IPM): Limit 5, Used 5, Requested 1. Please try again in 12s. Visit "
        "https://platform.openai.com/account/rate-limits to learn more.",
        type_="requests",
        code="rate_limit_exceeded",
        **{names.get(name, name): value for name, value in headers.items()},
    )


def moderation_blocked() -> FakeResponse:
    return error(
        400,
        "Your request was rejected by the safety system. If you believe this is an error, "
        "contact us at help.openai.com and include the request ID.",
        type_="image_generation_user_error",
        code="moderation_blocked",
    )


def content_policy_violation() -> FakeResponse:
    return error(
        400,
        "Your request was rejected as a result of our safety system. Your prompt may contain "
        "text that is not allowed by our safety system.",
        type_="invalid_request_error",
        code="content_policy_violation",
    )


def invalid_size() -> FakeResponse:
    return error(
        400,
        "Invalid value: '1792x1024'. Supported values are: '1024x1024', '1024x1536', "
        "'1536x1024', and 'auto'.",
        type_="invalid_request_error",
        code="invalid_value",
        param="size",
    )


def model_not_found(model: str = "gpt-image-9") -> FakeResponse:
    return error(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        type_="invalid_request_error",
        code="model_not_found",
    )


def server_error() -> FakeResponse:
    return error(
        500,
        "The server had an error while processing your request. Sorry about that!",
        type_="server_error",
        code=None,
    )


def overloaded() -> FakeResponse:
    return error(
        503,
        "The engine is currently overloaded, please try again later.",
        type_="server_error",
        code=None,
    )
