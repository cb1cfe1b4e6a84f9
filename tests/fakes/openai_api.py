"""OpenAI's API as the SDK sees it: images, model lookup and chat, with their real errors.

Four endpoints, each played as the API documents it rather than echoed back:

- `POST /v1/images/generations` (`generations()`): GPT image models always answer
  `b64_json`. The gpt-image-2 family takes any WIDTHxHEIGHT within its documented limits
  and draws exactly that; the older models draw only 1024x1024, 1536x1024 and 1024x1536.
  An unknown model or one past its shutdown date answers 404 `model_not_found`.
- `POST /v1/images/edits` (`edits()`): multipart/form-data, the picture as the `image` file
  part (`image[]` when several), the other parameters as text fields; the same model, size
  and quality rules and the same `ImagesResponse`. A part that is not a PNG, JPEG or WebP
  picture answers 400 as OpenAI does; the "edit" is the uploaded picture scaled to the size
  asked and tinted (`edited()`), so a test can tell it was drawn from what was sent.
- `GET /v1/models/{id}` (`models()`): the model object, with `shutdown_date` when one is
  announced; 404 for an unknown or shut-down model.
- `POST /v1/chat/completions` (`chat_completions()`): a `chat.completion` body; reasoning
  models refuse `max_tokens` and reasoning efforts they do not know, as OpenAI does.

Error bodies follow OpenAI's shape `{"error": {"message", "type", "param", "code"}}` with
the status and headers OpenAI sends for each case. Sources for the model table: OpenAI's
deprecations page (developers.openai.com/api/docs/deprecations) and the openai SDK 3.57's
`ImageModel` / `images.generate(size=...)` documentation.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import io
import itertools
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from PIL import Image, UnidentifiedImageError

from tests.fakes.images import encoded
from tests.fakes.server import FakeResponse, RecordedRequest

BASE_PATH = "/v1"
GENERATIONS_PATH = r"^/v1/images/generations$"
EDITS_PATH = r"^/v1/images/edits$"
MODELS_PATH = r"^/v1/models/[^/]+$"
CHAT_PATH = r"^/v1/chat/completions$"
_request_ids = itertools.count(1)

# The day this table describes (the shutdowns below have happened by then).
AS_OF = date(2026, 12, 3)

# --- what each model accepts ----------------------------------------------------------------

FIXED_SIZES = ("1024x1024", "1536x1024", "1024x1536")
# gpt-image-2 family sizes (SDK docs; Comfy's GPT Image 2.5/2.6 node docs for the pixel range).
SIZE_STEP = 16
MAX_EDGE = 3840
MAX_ASPECT = 3.0
MIN_PIXELS = 655_360
MAX_PIXELS = 8_294_400
_BASIC_QUALITIES = ("low", "medium", "high", "auto")
_ALL_QUALITIES = ("low", "medium", "high", "xhigh", "max", "auto")


@dataclass(frozen=True)
class ImageModel:
    free_sizes: bool
    qualities: tuple[str, ...] = _BASIC_QUALITIES
    shutdown: date | None = None


_NEW = ImageModel(free_sizes=True, qualities=_ALL_QUALITIES)
_DEC_1 = date(2026, 12, 1)
IMAGE_MODELS: dict[str, ImageModel] = {
    "gpt-image-2.6-flare": _NEW,
    "gpt-image-2.6-sunburst": _NEW,
    "gpt-image-2.5-flare": _NEW,
    "gpt-image-2.5-flare-2026-09-08": _NEW,
    "gpt-image-2.5-sunburst": _NEW,
    "gpt-image-2.5-sunburst-2026-09-08": _NEW,
    "gpt-image-2": ImageModel(free_sizes=True),
    "gpt-image-2-2026-04-21": ImageModel(free_sizes=True),
    "gpt-image-1.5": ImageModel(free_sizes=False, shutdown=_DEC_1),
    "gpt-image-1.5-2025-12-16": ImageModel(free_sizes=False, shutdown=_DEC_1),
    "gpt-image-1-mini": ImageModel(free_sizes=False, shutdown=_DEC_1),
    "chatgpt-image-latest": ImageModel(free_sizes=False, shutdown=_DEC_1),
    "gpt-image-1": ImageModel(free_sizes=False, shutdown=date(2026, 10, 23)),
    "dall-e-3": ImageModel(free_sizes=False, shutdown=date(2026, 5, 12)),
}


@dataclass(frozen=True)
class ChatModel:
    # Reasoning efforts the model takes; None: not a reasoning model (no reasoning_effort).
    efforts: tuple[str, ...] | None
    shutdown: date | None = None


CHAT_MODELS: dict[str, ChatModel] = {
    # developers.openai.com/api/docs/models/gpt-6-luna: none, low, medium (default), high,
    # xhigh, max.
    "gpt-6-luna": ChatModel(efforts=("none", "low", "medium", "high", "xhigh", "max")),
    "gpt-4.1-mini": ChatModel(efforts=None, shutdown=date(2027, 1, 14)),
    "gpt-5-mini": ChatModel(
        efforts=("minimal", "low", "medium", "high"), shutdown=date(2026, 12, 11)
    ),
}


def _is_gone(shutdown: date | None, as_of: date) -> bool:
    return shutdown is not None and shutdown <= as_of


# --- bodies ----------------------------------------------------------------------------------


def _request_id_header() -> dict[str, str]:
    return {"x-request-id": f"req_fake{next(_request_ids):08d}"}


def images_body(
    *images: bytes, size: str, output_format: str = "png", quality: str = "medium"
) -> dict:
    """An `ImagesResponse` JSON body carrying each of `images` as base64."""
    return {
        "created": int(time.time()),
        "background": "opaque",
        "data": [{"b64_json": base64.b64encode(image).decode()} for image in images],
        "output_format": output_format,
        "quality": quality,
        "size": size,
        "usage": {
            "input_tokens": 12,
            "input_tokens_details": {"image_tokens": 0, "text_tokens": 12},
            "output_tokens": 1056,
            "total_tokens": 1068,
        },
    }


def image(width: int, height: int, fmt: str = "PNG") -> FakeResponse:
    """A 200 with a real image of this size and format, whatever was asked."""
    body = images_body(
        encoded(width, height, fmt), size=f"{width}x{height}", output_format=fmt.lower()
    )
    return FakeResponse.json(body, **_request_id_header())


def chat_body(model: str, content: str, *, finish_reason: str = "stop") -> dict:
    """A `chat.completion` body as OpenAI sends it."""
    return {
        "id": f"chatcmpl-fake{next(_request_ids):08d}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": 64,
            "completion_tokens": 48,
            "total_tokens": 112,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": None,
    }


def chat_answer(content: str, model: str = "gpt-6-luna") -> FakeResponse:
    return FakeResponse.json(chat_body(model, content), **_request_id_header())


# --- errors ----------------------------------------------------------------------------------


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


def rate_limited(
    *, wait: str = "12s", model: str = "gpt-image-2.6-flare", **headers: str
) -> FakeResponse:
    """429 rate_limit_exceeded saying "try again in `wait`"; `retry_after=` /
    `retry_after_ms=` add those headers."""
    names = {"retry_after": "retry-after", "retry_after_ms": "retry-after-ms"}
    return error(
        429,
        f"Rate limit reached for {model} in organization org-fake on images per minute "
        f"(IPM): Limit 5, Used 5, Requested 1. Please try again in {wait}. Visit "
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


def content_policy_message_only() -> FakeResponse:
    """A refusal that names the content policy only in its message (no error code)."""
    return error(
        400,
        "This request may violate our content policy and was not processed.",
        type_="invalid_request_error",
        code=None,
    )


def invalid_value(param: str, value: str, supported: tuple[str, ...]) -> FakeResponse:
    listed = ", ".join(f"'{item}'" for item in supported[:-1]) + f", and '{supported[-1]}'"
    return error(
        400,
        f"Invalid value: '{value}'. Supported values are: {listed}.",
        type_="invalid_request_error",
        code="invalid_value",
        param=param,
    )


def invalid_size(size: str = "1792x1024") -> FakeResponse:
    """What a fixed-size model answers for any other size."""
    return invalid_value("size", size, (*sorted(FIXED_SIZES), "auto"))


def model_not_found(model: str = "gpt-image-9") -> FakeResponse:
    return error(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        type_="invalid_request_error",
        code="model_not_found",
    )


def model_shut_down(model: str = "gpt-image-1.5", status: int = 404) -> FakeResponse:
    """What a model answers after its shutdown date."""
    return error(
        status,
        f"The model `{model}` has been deprecated. Learn more: "
        "https://platform.openai.com/docs/deprecations",
        type_="invalid_request_error",
        code="model_not_found",
    )


def invalid_model(model: str = "gpt-image-9") -> FakeResponse:
    """The images endpoint's 400 for a model id it does not list."""
    return invalid_value("model", model, tuple(IMAGE_MODELS))


def unsupported_parameter(param: str, instead: str | None = None) -> FakeResponse:
    message = f"Unsupported parameter: '{param}' is not supported with this model."
    if instead:
        message += f" Use '{instead}' instead."
    return error(
        400, message, type_="invalid_request_error", code="unsupported_parameter", param=param
    )


def invalid_image_file(index: int = 1) -> FakeResponse:
    """An `image` part that does not decode as a picture (OpenAI counts images from 1)."""
    return error(
        400,
        f"Invalid image file or mode for image {index}, please check your image file. If you "
        "believe this is an error, contact us at help.openai.com and include the request ID.",
        type_="image_generation_user_error",
        code="invalid_image_file",
    )


def unsupported_mimetype(mime_type: str) -> FakeResponse:
    return error(
        400,
        f"Invalid file 'image': unsupported mimetype ('{mime_type}'). Supported file formats "
        "are 'image/jpeg', 'image/png', and 'image/webp'.",
        type_="invalid_request_error",
        code="unsupported_file_mimetype",
        param="image",
    )


def missing_parameter(param: str) -> FakeResponse:
    return error(
        400,
        f"Missing required parameter: '{param}'.",
        type_="invalid_request_error",
        code="missing_required_parameter",
        param=param,
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


# --- the endpoints, answering from what was sent --------------------------------------------

Responder = Callable[[RecordedRequest], FakeResponse]


def _wrong_key(request: RecordedRequest, api_key: str | None) -> FakeResponse | None:
    if api_key is None or request.headers.get("authorization") == f"Bearer {api_key}":
        return None
    sent = request.headers.get("authorization", "").removeprefix("Bearer ")
    return invalid_api_key(masked_key=f"{sent[:8]}{'*' * 18}{sent[-4:]}")


def free_size_problem(width: int, height: int) -> str | None:
    """Why a gpt-image-2 family model refuses WIDTHxHEIGHT, or None when it draws it."""
    if width % SIZE_STEP or height % SIZE_STEP:
        return f"width and height must both be divisible by {SIZE_STEP}"
    if max(width, height) > MAX_EDGE:
        return f"the longest edge must be at most {MAX_EDGE} pixels"
    if max(width, height) > MAX_ASPECT * min(width, height):
        return "the aspect ratio must be between 1:3 and 3:1"
    if not MIN_PIXELS <= width * height <= MAX_PIXELS:
        return f"the total pixels must be between {MIN_PIXELS:,} and {MAX_PIXELS:,}"
    return None


def _drawn_size(model: ImageModel, size: str) -> tuple[int, int] | FakeResponse:
    """The size the API draws for `size` on `model`, or its 400."""
    if size == "auto":
        return 1024, 1024
    if not model.free_sizes:
        if size not in FIXED_SIZES:
            return invalid_size(size)
        width, height = (int(side) for side in size.split("x"))
        return width, height
    found = re.fullmatch(r"(\d+)x(\d+)", size)
    if found is None:
        return error(
            400,
            f"Invalid size '{size}': give WIDTHxHEIGHT, for example '1536x864', or 'auto'.",
            type_="invalid_request_error",
            code="invalid_value",
            param="size",
        )
    width, height = int(found.group(1)), int(found.group(2))
    problem = free_size_problem(width, height)
    if problem:
        return error(
            400,
            f"Invalid size '{size}': {problem}.",
            type_="invalid_request_error",
            code="invalid_value",
            param="size",
        )
    return width, height


MAX_N = 10
_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


@dataclass(frozen=True)
class _Order:
    """What one images call asks for, checked as OpenAI checks it."""

    width: int
    height: int
    count: int
    quality: str
    output_format: str


def _order(params: Mapping[str, object], as_of: date) -> _Order | FakeResponse:
    """The images `params` (JSON body or form fields) ask for on `as_of`, or their error."""
    name = str(params.get("model") or "gpt-image-1.5")
    model = IMAGE_MODELS.get(name)
    if model is None:
        return model_not_found(name)
    if _is_gone(model.shutdown, as_of):
        return model_shut_down(name)
    quality = str(params.get("quality") or "auto")
    if quality not in model.qualities:
        return invalid_value("quality", quality, model.qualities)
    drawn = _drawn_size(model, str(params.get("size") or "auto"))
    if isinstance(drawn, FakeResponse):
        return drawn
    count = params.get("n", 1)
    if type(count) is not int or not 1 <= count <= MAX_N:
        return error(
            400,
            f"Invalid 'n': expected an integer from 1 to {MAX_N}, got {count!r}.",
            type_="invalid_request_error",
            code="invalid_value",
            param="n",
        )
    output_format = str(params.get("output_format") or "png")
    return _Order(*drawn, count, quality, output_format)


def _answer(order: _Order, images: list[bytes]) -> FakeResponse:
    payload = images_body(
        *images,
        size=f"{order.width}x{order.height}",
        output_format=order.output_format,
        quality="medium" if order.quality == "auto" else order.quality,
    )
    return FakeResponse.json(payload, **_request_id_header())


def generations(
    *, as_of: date = AS_OF, api_key: str | None = None, at_most: int | None = None
) -> Responder:
    """`POST /v1/images/generations` as OpenAI answers it on `as_of`: `n` images (1–10),
    or no more than `at_most` of them (the API may return fewer than asked)."""

    def respond(request: RecordedRequest) -> FakeResponse:
        refused = _wrong_key(request, api_key)
        if refused is not None:
            return refused
        order = _order(request.json(), as_of)
        if isinstance(order, FakeResponse):
            return order
        count = order.count if at_most is None else min(order.count, at_most)
        fmt = _FORMATS[order.output_format]
        return _answer(order, [encoded(order.width, order.height, fmt) for _ in range(count)])

    return respond


image_of_requested_size: Responder = generations()
"""The images endpoint as OpenAI answers it today (the documented size for what was sent)."""


# --- edits: multipart/form-data -------------------------------------------------------------


@dataclass(frozen=True)
class FormPart:
    """One part of a multipart/form-data body: a text field or an uploaded file."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str = "text/plain"

    @property
    def text(self) -> str:
        return self.data.decode()


def form_parts(request: RecordedRequest) -> list[FormPart]:
    """The parts of a multipart/form-data request body, in the order sent."""
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    if not message.is_multipart():
        return []
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        parts.append(
            FormPart(
                name=str(part.get_param("name", header="content-disposition") or ""),
                data=payload if isinstance(payload, bytes) else b"",
                filename=part.get_filename(),
                content_type=part.get_content_type(),
            )
        )
    return parts


def form_fields(request: RecordedRequest) -> dict[str, str]:
    """The text fields of a multipart/form-data request (files left out)."""
    return {part.name: part.text for part in form_parts(request) if part.filename is None}


# What a multipart text field means as a parameter (multipart sends every value as text).
_INT_FIELDS = ("n", "output_compression", "partial_images")
_PICTURE_TYPES = ("image/png", "image/jpeg", "image/webp")
# The edit's mark on the picture: blended this much towards this colour.
EDIT_TINT = (255, 0, 160)
EDIT_TINT_ALPHA = 0.25


def _form_params(fields: dict[str, str]) -> dict[str, object]:
    return {
        name: int(text) if name in _INT_FIELDS and text.lstrip("-").isdigit() else text
        for name, text in fields.items()
    }


def edited(picture: Image.Image, width: int, height: int) -> Image.Image:
    """The fake's "edit": `picture` scaled to `width`x`height`, tinted towards EDIT_TINT."""
    scaled = picture.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    return Image.blend(scaled, Image.new("RGB", (width, height), EDIT_TINT), EDIT_TINT_ALPHA)


def tinted(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """What a flat area of `color` becomes in an edit (within rounding)."""
    r, g, b = (round(c + (t - c) * EDIT_TINT_ALPHA) for c, t in zip(color, EDIT_TINT, strict=True))
    return r, g, b


def _pictures(parts: list[FormPart]) -> list[Image.Image] | FakeResponse:
    """The uploaded `image` / `image[]` files, decoded, or OpenAI's 400 for the first bad one."""
    files = [part for part in parts if part.name in ("image", "image[]") and part.filename]
    if not files:
        return missing_parameter("image")
    pictures = []
    for index, part in enumerate(files, start=1):
        if part.content_type not in _PICTURE_TYPES:
            return unsupported_mimetype(part.content_type)
        try:
            with Image.open(io.BytesIO(part.data)) as picture:
                picture.load()
                if picture.format not in ("PNG", "JPEG", "WEBP"):
                    return invalid_image_file(index)
                pictures.append(picture.convert("RGB"))
        except (UnidentifiedImageError, OSError, ValueError):
            return invalid_image_file(index)
    return pictures


def _encoded(picture: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt)
    return buffer.getvalue()


def edits(*, as_of: date = AS_OF, api_key: str | None = None) -> Responder:
    """`POST /v1/images/edits` as OpenAI answers it on `as_of`: `n` edits of the first
    uploaded picture, each that picture scaled to the size asked and tinted (`edited()`)."""

    def respond(request: RecordedRequest) -> FakeResponse:
        refused = _wrong_key(request, api_key)
        if refused is not None:
            return refused
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return error(
                400,
                "Invalid Content-Type header (application/json), expected multipart/form-data.",
                type_="invalid_request_error",
                code=None,
            )
        parts = form_parts(request)
        params = _form_params({part.name: part.text for part in parts if part.filename is None})
        if not params.get("prompt"):
            return missing_parameter("prompt")
        order = _order(params, as_of)
        if isinstance(order, FakeResponse):
            return order
        pictures = _pictures(parts)
        if isinstance(pictures, FakeResponse):
            return pictures
        result = _encoded(
            edited(pictures[0], order.width, order.height), _FORMATS[order.output_format]
        )
        return _answer(order, [result] * order.count)

    return respond


def models(*, as_of: date = AS_OF, api_key: str | None = None) -> Responder:
    """`GET /v1/models/{id}`: the model object, or 404 when it is unknown or shut down."""

    def respond(request: RecordedRequest) -> FakeResponse:
        refused = _wrong_key(request, api_key)
        if refused is not None:
            return refused
        name = request.path.rsplit("/", 1)[-1]
        known = IMAGE_MODELS.get(name) or CHAT_MODELS.get(name)
        if known is None or _is_gone(known.shutdown, as_of):
            return model_not_found(name)
        payload = {
            "id": name,
            "object": "model",
            "created": 1_776_729_600,
            "owned_by": "system",
            "shutdown_date": known.shutdown.isoformat() if known.shutdown else None,
        }
        return FakeResponse.json(payload, **_request_id_header())

    return respond


def chat_completions(
    answer: str = "A windswept lighthouse on a chalk cliff at dawn, soft watercolour washes",
    *,
    as_of: date = AS_OF,
    api_key: str | None = None,
) -> Responder:
    """`POST /v1/chat/completions` answering `answer`, with OpenAI's parameter checks."""

    def respond(request: RecordedRequest) -> FakeResponse:
        refused = _wrong_key(request, api_key)
        if refused is not None:
            return refused
        body = request.json()
        name = str(body.get("model") or "")
        model = CHAT_MODELS.get(name)
        if model is None:
            return model_not_found(name)
        if _is_gone(model.shutdown, as_of):
            return model_shut_down(name)
        if model.efforts is not None and "max_tokens" in body:
            return unsupported_parameter("max_tokens", instead="max_completion_tokens")
        effort = body.get("reasoning_effort")
        if effort is not None:
            if model.efforts is None:
                return unsupported_parameter("reasoning_effort")
            if effort not in model.efforts:
                listed = ", ".join(f"'{e}'" for e in model.efforts[:-1])
                return error(
                    400,
                    f"Unsupported value: 'reasoning_effort' does not support '{effort}' with "
                    f"this model. Supported values are: {listed}, and '{model.efforts[-1]}'.",
                    type_="invalid_request_error",
                    code="unsupported_value",
                    param="reasoning_effort",
                )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return error(
                400,
                "[] is too short - 'messages'",
                type_="invalid_request_error",
                code="invalid_value",
                param="messages",
            )
        return FakeResponse.json(chat_body(name, answer), **_request_id_header())

    return respond
