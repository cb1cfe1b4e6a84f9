"""The Gemini API as the google-genai SDK sees it: `generateContent`, `models.get`, answers.

`POST /v1beta/models/{model}:generateContent`, key in the `x-goog-api-key` header;
`GET /v1beta/models/{model}` describes a model (404 NOT_FOUND when there is none).
A success is a `GenerateContentResponse`: `candidates[0].content.parts[]` where an
image part is `{"inlineData": {"mimeType", "data": <base64>}}`, plus `finishReason`,
`usageMetadata`, `modelVersion`. A safety block is a 200 too (no image, a telling
`finishReason` or `promptFeedback.blockReason`). Errors use Google's shape
`{"error": {"code", "message", "status", "details": [...]}}` with typed details
(`ErrorInfo`, `QuotaFailure`, `RetryInfo`, `Help`, `BadRequest`).

An edit is a `generateContent` whose user turn carries the picture as an `inlineData` part
(base64 `data` and its MIME type; the SDK spells the key `mime_type`, Google's JSON parser
takes either spelling) beside the instruction's text part. A part that is not valid base64,
not an image type or not a decodable picture answers 400 INVALID_ARGUMENT as Google words
it; the "edit" is the first picture scaled to the documented size and tinted (`edited()`).
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
from typing import Any

from PIL import Image, UnidentifiedImageError

from tests.fakes.images import encoded
from tests.fakes.server import FakeResponse, RecordedRequest

MODEL = "gemini-3.1-flash-image"
CHAT_MODEL = "gemini-3.5-flash-lite"
GENERATE_PATH = r"^/v1beta/models/[^/:]+:generateContent$"
MODEL_PATH = r"^/v1beta/models/[^/:?]+(\?.*)?$"
# The fake's own copy of Google's documented sizes (image-generation guide), not the
# adapter's: the Gemini 3 image models draw exactly this for (aspectRatio, imageSize),
# and 1K when no imageSize is sent.
GEMINI_3_SIZES = {
    "1K": {
        "1:1": (1024, 1024),
        "2:3": (848, 1264),
        "3:2": (1264, 848),
        "3:4": (896, 1200),
        "4:3": (1200, 896),
        "4:5": (928, 1152),
        "5:4": (1152, 928),
        "9:16": (768, 1376),
        "16:9": (1376, 768),
        "21:9": (1584, 672),
    },
    "2K": {
        "1:1": (2048, 2048),
        "2:3": (1696, 2528),
        "3:2": (2528, 1696),
        "3:4": (1792, 2400),
        "4:3": (2400, 1792),
        "4:5": (1856, 2304),
        "5:4": (2304, 1856),
        "9:16": (1536, 2752),
        "16:9": (2752, 1536),
        "21:9": (3168, 1344),
    },
    "4K": {
        "1:1": (4096, 4096),
        "2:3": (3392, 5056),
        "3:2": (5056, 3392),
        "3:4": (3584, 4800),
        "4:3": (4800, 3584),
        "4:5": (3712, 4608),
        "5:4": (4608, 3712),
        "9:16": (3072, 5504),
        "16:9": (5504, 3072),
        "21:9": (6336, 2688),
    },
}
# gemini-2.5-flash-image (shut down 2026-10-02) had one size per ratio and no imageSize.
LEGACY_SIZES = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
# What `models.get` knows: the models this fake Google serves.
SERVED_MODELS = {
    "gemini-3.1-flash-image": "Nano Banana 2",
    "gemini-3-pro-image": "Nano Banana Pro",
    CHAT_MODEL: "Gemini 3.5 Flash-Lite",
}
_TYPES = "type.googleapis.com/google.rpc."
_response_ids = itertools.count(1)
# Input picture types the image models read (Google's image-understanding guide).
PICTURE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif")
# The edit's mark on the picture: blended this much towards this colour.
EDIT_TINT = (0, 200, 255)
EDIT_TINT_ALPHA = 0.25


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def image_part(data: bytes, mime_type: str = "image/png", *, thought: bool = False) -> dict:
    part: dict[str, Any] = {"inlineData": {"mimeType": mime_type, "data": _b64(data)}}
    if thought:
        part["thought"] = True
    return part


def text_part(text: str) -> dict:
    return {"text": text}


def answer(
    parts: list[dict] | None,
    *,
    finish_reason: str = "STOP",
    model: str = MODEL,
) -> FakeResponse:
    """A 200 `GenerateContentResponse` with one candidate (no `content` when `parts` is None)."""
    candidate: dict[str, Any] = {"finishReason": finish_reason, "index": 0}
    if parts is not None:
        candidate["content"] = {"parts": parts, "role": "model"}
    body = {
        "candidates": [candidate],
        "usageMetadata": {
            "promptTokenCount": 11,
            "candidatesTokenCount": 1290 if parts else 0,
            "totalTokenCount": 1301 if parts else 11,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 11}],
        },
        "modelVersion": model,
        "responseId": f"fakeResp{next(_response_ids):06d}",
    }
    return FakeResponse.json(body)


def image(width: int, height: int, fmt: str = "PNG", *, text: str | None = None) -> FakeResponse:
    """A 200 with a real image of this size and format, whatever was asked."""
    mime_type = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[fmt]
    parts = [text_part(text)] if text else []
    return answer([*parts, image_part(encoded(width, height, fmt), mime_type)])


def _model_of(request: RecordedRequest) -> str:
    return request.path.split("/models/")[1].split(":")[0].split("?")[0]


def size_for(model: str, ratio: str, image_size: str | None) -> tuple[int, int] | None:
    """The documented size `model` draws for `ratio` and `image_size` (None: not sent)."""
    if model == "gemini-2.5-flash-image":
        return LEGACY_SIZES.get(ratio)
    return GEMINI_3_SIZES.get(image_size or "1K", {}).get(ratio)


def edited(picture: Image.Image, width: int, height: int) -> Image.Image:
    """The fake's "edit": `picture` scaled to `width`x`height`, tinted towards EDIT_TINT."""
    scaled = picture.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    return Image.blend(scaled, Image.new("RGB", (width, height), EDIT_TINT), EDIT_TINT_ALPHA)


def tinted(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """What a flat area of `color` becomes in an edit (within rounding)."""
    r, g, b = (round(c + (t - c) * EDIT_TINT_ALPHA) for c, t in zip(color, EDIT_TINT, strict=True))
    return r, g, b


def _inline_parts(body: dict) -> list[tuple[str, dict]]:
    """(field path, inlineData) of every inline part in the request's contents."""
    found = []
    for c, content in enumerate(body.get("contents") or []):
        for p, part in enumerate(content.get("parts") or []):
            inline = part.get("inlineData") or part.get("inline_data")
            if isinstance(inline, dict):
                found.append((f"contents[{c}].parts[{p}].inline_data", inline))
    return found


def inline_bytes(inline: dict) -> bytes:
    """The bytes an `inlineData` part carries; binascii.Error when they are not base64.

    Google's JSON parser takes the standard and the URL-safe alphabet (pydantic, and so the
    SDK, sends URL-safe), padded or not.
    """
    standard = str(inline.get("data") or "").replace("-", "+").replace("_", "/")
    return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)


def inline_mime_type(inline: dict) -> str:
    return str(inline.get("mimeType") or inline.get("mime_type") or "")


def _picture(field: str, inline: dict) -> Image.Image | FakeResponse:
    """The picture an inline part carries, or Google's 400 for it."""
    mime_type = inline_mime_type(inline)
    try:
        data = inline_bytes(inline)
    except (binascii.Error, ValueError):
        return base64_decoding_failed(f"{field}.data", str(inline.get("data") or ""))
    if mime_type not in PICTURE_TYPES:
        return invalid_argument_message(f"Unsupported MIME type: {mime_type}")
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
            return picture.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError):
        return unable_to_process_image()


def _source_pictures(body: dict) -> list[Image.Image] | FakeResponse:
    pictures = []
    for field, inline in _inline_parts(body):
        picture = _picture(field, inline)
        if isinstance(picture, FakeResponse):
            return picture
        pictures.append(picture)
    return pictures


def image_for_requested_aspect(request: RecordedRequest) -> FakeResponse:
    """What the model does: the documented size for `imageConfig` (1:1 at 1K without).

    Whatever tier the studio had in mind, the image is exactly the table's size; with a
    picture in the request, it is that picture edited (`edited()`).
    """
    body = request.json()
    config = body.get("generationConfig", {})
    image_config = config.get("imageConfig", {})
    ratio = image_config.get("aspectRatio", "1:1")
    image_size = image_config.get("imageSize")
    model = _model_of(request)
    size = size_for(model, ratio, image_size)
    if size is None:
        return invalid_argument(
            f"* GenerateContentRequest.generation_config.image_config: {ratio} {image_size}"
        )
    sources = _source_pictures(body)
    if isinstance(sources, FakeResponse):
        return sources
    if "IMAGE" not in config.get("responseModalities", ["TEXT"]):
        return answer([text_part("I can describe it: a lighthouse on a cliff.")])
    if sources:
        buffer = io.BytesIO()
        edited(sources[0], *size).save(buffer, "PNG")
        return answer([image_part(buffer.getvalue())], model=model)
    return answer([image_part(encoded(*size, "PNG"))], model=model)


def model_info(request: RecordedRequest) -> FakeResponse:
    """`GET /v1beta/models/{model}`: the model's description, or 404 when not served."""
    model = _model_of(request)
    if model not in SERVED_MODELS:
        return model_not_found(model)
    return FakeResponse.json(
        {
            "name": f"models/{model}",
            "version": "001",
            "displayName": SERVED_MODELS[model],
            "description": f"{SERVED_MODELS[model]}, served by the fake.",
            "inputTokenLimit": 131072,
            "outputTokenLimit": 32768,
            "supportedGenerationMethods": [
                "generateContent",
                "countTokens",
                "batchGenerateContent",
            ],
        }
    )


def text_answer(text: str, *, finish_reason: str = "STOP") -> FakeResponse:
    """A chat answer: one text part (what a chat model sends back)."""
    return answer([text_part(text)], finish_reason=finish_reason, model=CHAT_MODEL)


def prompt_blocked(reason: str = "PROHIBITED_CONTENT") -> FakeResponse:
    """The prompt itself was blocked: no candidates at all, `promptFeedback.blockReason`."""
    body = {
        "promptFeedback": {"blockReason": reason},
        "usageMetadata": {"promptTokenCount": 11, "totalTokenCount": 11},
        "modelVersion": MODEL,
        "responseId": f"fakeResp{next(_response_ids):06d}",
    }
    return FakeResponse.json(body)


def error(
    code: int, status: str, message: str, details: list[dict] | None = None, **headers: str
) -> FakeResponse:
    payload: dict[str, Any] = {"error": {"code": code, "message": message, "status": status}}
    if details is not None:
        payload["error"]["details"] = details
    return FakeResponse.json(payload, code, **headers)


def _error_info(reason: str) -> dict:
    return {
        "@type": _TYPES + "ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }


def _quota_failure(metric: str, limit: int, *quota_ids: str) -> dict:
    return {
        "@type": _TYPES + "QuotaFailure",
        "violations": [
            {
                "quotaMetric": f"generativelanguage.googleapis.com/{metric}",
                "quotaId": quota_id,
                "quotaDimensions": {"location": "global", "model": MODEL},
                "quotaValue": str(limit),
            }
            for quota_id in quota_ids
        ],
    }


def _retry_info(delay: str) -> dict:
    return {"@type": _TYPES + "RetryInfo", "retryDelay": delay}


_HELP = {
    "@type": _TYPES + "Help",
    "links": [
        {
            "description": "Learn more about Gemini API quotas",
            "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
        }
    ],
}
_QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. "
    "To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n"
    "* Quota exceeded for metric: generativelanguage.googleapis.com/{metric}, "
    "limit: {limit}, model: " + MODEL
)


def api_key_invalid() -> FakeResponse:
    """A wrong key: Google answers 400 INVALID_ARGUMENT with reason API_KEY_INVALID."""
    message = "API key not valid. Please pass a valid API key."
    return error(
        400,
        "INVALID_ARGUMENT",
        message,
        [
            _error_info("API_KEY_INVALID"),
            {"@type": _TYPES + "LocalizedMessage", "locale": "en-US", "message": message},
        ],
    )


def consumer_suspended(api_key: str) -> FakeResponse:
    """403 PERMISSION_DENIED; Google names the key in this message."""
    return error(
        403,
        "PERMISSION_DENIED",
        f"Permission denied: Consumer 'api_key:{api_key}' has been suspended.",
        [_error_info("CONSUMER_SUSPENDED")],
    )


def unauthenticated() -> FakeResponse:
    """401 UNAUTHENTICATED, as Google (or a gateway in front of it) sends for bad credentials."""
    return error(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential.",
        [_error_info("ACCESS_TOKEN_TYPE_UNSUPPORTED")],
    )


def free_tier_has_no_image_quota(*, per_day: bool = True) -> FakeResponse:
    """429 with limit 0: the free tier cannot use image models at all."""
    metric = "generate_content_free_tier_requests"
    quota_ids = ["GenerateRequestsPerMinutePerProjectPerModel-FreeTier"]
    if per_day:
        quota_ids.append("GenerateRequestsPerDayPerProjectPerModel-FreeTier")
    return error(
        429,
        "RESOURCE_EXHAUSTED",
        _QUOTA_MESSAGE.format(metric=metric, limit=0),
        [_quota_failure(metric, 0, *quota_ids), _HELP, _retry_info("37s")],
    )


def daily_quota_used_up() -> FakeResponse:
    """429 on a per-day quota: nothing to gain by retrying within minutes."""
    metric = "generate_content_paid_tier_requests"
    return error(
        429,
        "RESOURCE_EXHAUSTED",
        _QUOTA_MESSAGE.format(metric=metric, limit=250),
        [_quota_failure(metric, 250, "GenerateRequestsPerDayPerProjectPerModel"), _HELP],
    )


def rate_limited(retry_delay: str | None = "0s", **headers: str) -> FakeResponse:
    """429 on the per-minute quota (same wording as quota exhaustion; the quotaId differs).

    `retry_delay` goes in a RetryInfo detail (Google's way); pass `retry_after=` for the header.
    """
    metric = "generate_content_paid_tier_requests"
    details = [_quota_failure(metric, 10, "GenerateRequestsPerMinutePerProjectPerModel"), _HELP]
    if retry_delay is not None:
        details.append(_retry_info(retry_delay))
    names = {"retry_after": "Retry-After"}
    return error(
        429,
        "RESOURCE_EXHAUSTED",
        _QUOTA_MESSAGE.format(metric=metric, limit=10),
        details,
        **{names.get(name, name): value for name, value in headers.items()},
    )


def resource_exhausted_without_details() -> FakeResponse:
    """The older, detail-less 429 Google sends under load."""
    return error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")


def billing_required() -> FakeResponse:
    return error(
        400,
        "FAILED_PRECONDITION",
        "Gemini API free tier is not available in your country. Please enable billing on your "
        "project in Google AI Studio.",
    )


def invalid_argument(detail: str = "") -> FakeResponse:
    message = "Request contains an invalid argument."
    return error(400, "INVALID_ARGUMENT", f"{message} {detail}".strip())


def invalid_argument_message(message: str) -> FakeResponse:
    """400 INVALID_ARGUMENT with Google's own message (not the generic sentence)."""
    return error(400, "INVALID_ARGUMENT", message)


def unable_to_process_image() -> FakeResponse:
    """An inline picture whose bytes do not decode as an image."""
    return invalid_argument_message(
        "Unable to process input image. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting"
    )


def base64_decoding_failed(field: str, value: str) -> FakeResponse:
    """A bytes field (inline data) whose value is not base64."""
    message = (
        f"Invalid value at '{field}' (TYPE_BYTES), Base64 decoding failed for \"{value[:40]}\""
    )
    violation = {"field": field, "description": message}
    return error(
        400,
        "INVALID_ARGUMENT",
        message,
        [{"@type": _TYPES + "BadRequest", "fieldViolations": [violation]}],
    )


def model_not_found(model: str = "gemini-2.5-flash-image") -> FakeResponse:
    """A model Google does not serve (any more): 404 NOT_FOUND."""
    return error(
        404,
        "NOT_FOUND",
        f"models/{model} is not found for API version v1beta, or is not supported for "
        "generateContent. Call ListModels to see the list of available models and their "
        "supported methods.",
    )


def model_no_longer_available(model: str = "gemini-2.5-flash-image") -> FakeResponse:
    """A shut-down model, as Google words it after the shutdown date: 404 NOT_FOUND."""
    return error(
        404,
        "NOT_FOUND",
        f"This model models/{model} is no longer available. Please update your code to use a "
        "newer model for the latest features and improvements.",
    )


def internal_error() -> FakeResponse:
    return error(
        500,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    )


def overloaded() -> FakeResponse:
    return error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
