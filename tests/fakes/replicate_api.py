"""A fake of Replicate's HTTP API (the paths and bodies the `replicate` SDK uses).

- create: POST /v1/models/{owner}/{name}/predictions (a model id) or
  POST /v1/predictions with {"version": ...} (a version id), `Prefer: wait=N`
- poll: GET /v1/predictions/{id} while the prediction is starting/processing
- cancel: POST /v1/predictions/{id}/cancel
- models: GET /v1/models/{owner}/{name} and GET /v1/models/{owner}/{name}/versions/{id}
- output files: served by the fake itself under /delivery/ (replicate.delivery)
- files: POST /v1/files (multipart `content`, as the SDK uploads), DELETE /v1/files/{id}
- errors: RFC 7807 problem bodies {"type", "title", "status", "detail"}

`draws(server)` answers a create as the model would: an output file of the size the
model's documented inputs give for what was sent (not simply the size asked for). Given
`input_images` (FLUX.2), the output is the first picture scaled to that size and tinted,
so a test can tell the edit started from it. FLUX.2 [dev] documents its width/height for
"text-to-image mode" only, so its edits keep the picture's size. A reference that is not
a URI is refused with 422 (the API validates the input schema); one that is a URI but not
a picture fails the prediction as the model does when PIL cannot open it.
"""

from __future__ import annotations

import base64
import binascii
import email.parser
import email.policy
import hashlib
import io
import itertools
import re
from typing import Any

from PIL import Image, UnidentifiedImageError

from tests.fakes.images import png_bytes
from tests.fakes.server import FakeResponse, FakeServer, RecordedRequest, Responder

MODEL = "black-forest-labs/flux-2-pro"
SCHNELL = "black-forest-labs/flux-schnell"
FLUX_2_DEV = "black-forest-labs/flux-2-dev"
VERSION = "285631b5656a1839331cd9af0d82da820e2075db12046d1d061c681b2f206bc6"
PREDICTION_ID = "gm3qorzdhgbfurvjtvhg6dckhu"
CREATE_PATH = r"^/v1/(models/[^/]+/[^/]+/)?predictions$"
POLL_PATH = r"^/v1/predictions/[^/]+$"
CANCEL_PATH = r"^/v1/predictions/[^/]+/cancel$"
MODEL_PATH = r"^/v1/models/[^/]+/[^/]+$"
VERSION_PATH = r"^/v1/models/[^/]+/[^/]+/versions/[^/]+$"
DELIVERY_PATH = r"^/delivery/"
FILES_PATH = r"^/v1/files$"
FILE_PATH = r"^/v1/files/[^/]+$"
# FLUX.1 [schnell]/[dev] at `megapixels: "1"` (cog-flux's table), per aspect ratio.
FLUX_SIZES = {"1:1": (1024, 1024), "3:2": (1216, 832), "16:9": (1344, 768)}
# FLUX.2 with `aspect_ratio: "custom"`: `width`/`height` "rounded to nearest multiple of
# 32", between 256 and the model's maximum (replicate.com/black-forest-labs/flux-2-pro
# /versions/285631b5.../api; flux-2-dev: 7bba46bd..., max 1440).
FLUX_2_MAX_SIDE = {MODEL: 2048, FLUX_2_DEV: 1440}
FLUX_2_MULTIPLE = 32
# What an edit's output is blended with (a quarter of it): proof that the edit ran.
EDIT_TINT = (255, 200, 0)
EDIT_TINT_SHARE = 0.25
_prediction_ids = itertools.count(1)
_file_ids = itertools.count(1)
# Files uploaded to any fake, by their `urls.get` (kept for tests once deleted).
_uploads: dict[str, bytes] = {}
_deleted: set[str] = set()


def prediction(
    server: FakeServer,
    *,
    status: str = "succeeded",
    output: Any = None,
    error: str | None = None,
    prediction_id: str = PREDICTION_ID,
    model: str = MODEL,
    input: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A prediction object as the API returns it."""
    api = f"{server.url}/v1/predictions/{prediction_id}"
    done = status in {"succeeded", "failed", "canceled"}
    return {
        "id": prediction_id,
        "model": model,
        "version": VERSION,
        "input": input or {},
        "logs": "" if status == "starting" else "Using seed: 1234\nRunning prediction...\n",
        "output": output,
        "data_removed": False,
        "error": error,
        "status": status,
        "created_at": "2025-03-01T10:00:00.000Z",
        "started_at": None if status == "starting" else "2025-03-01T10:00:00.100Z",
        "completed_at": "2025-03-01T10:00:01.200Z" if done else None,
        "urls": {
            "cancel": f"{api}/cancel",
            "get": api,
            "stream": f"{server.url}/stream/{prediction_id}",
            "web": f"https://replicate.com/p/{prediction_id}",
        },
        "metrics": {"image_count": 1, "predict_time": 0.9, "total_time": 1.1} if done else {},
    }


def problem(status: int, title: str, detail: str, **headers: str) -> FakeResponse:
    """An RFC 7807 error answer."""
    body = {
        "type": f"https://replicate.com/docs/reference/http#errors-{status}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    response = FakeResponse.json(body, status, **headers)
    response.headers["Content-Type"] = "application/problem+json"
    return response


def not_found() -> FakeResponse:
    """The API's 404 for a model (or anything else) it does not have."""
    return problem(404, "Not found", "The requested resource could not be found.")


def reference_refused(index: int = 0) -> FakeResponse:
    """The API's answer to an `input_images` entry that is not a URI (schema validation)."""
    return problem(
        422,
        "Input validation failed",
        f"- input.input_images.{index}: Does not match format 'uri'",
    )


def version_gone() -> FakeResponse:
    """The answer to a create by a version id that no longer exists (or is not ours)."""
    return problem(
        422,
        "Invalid version or not permitted",
        "The specified version does not exist (or perhaps you don't have permission to use it?)",
    )


def serve_file(
    server: FakeServer, data: bytes, name: str = "out-0.png", *, prefix: str = ""
) -> str:
    """Serve `data` as an output file; return its URL."""
    content_type = {"png": "image/png", "webp": "image/webp"}.get(name.rsplit(".", 1)[-1], "")
    path = f"{prefix}/delivery/xezq/{PREDICTION_ID}/{name}"
    server.on(
        "GET",
        f"^{re.escape(path)}$",
        FakeResponse(body=data, headers={"Content-Type": content_type}),
    )
    return f"{server.url}{path}"


def succeeded_with(server: FakeServer, output: Any, *, status: int = 201) -> Responder:
    """A create answer: the prediction finished within `Prefer: wait`, echoing its input."""

    def answer(request: RecordedRequest) -> FakeResponse:
        body = prediction(server, output=output, input=request.json().get("input"))
        return FakeResponse.json(body, status)

    return answer


def _round(value: object, multiple: int) -> int:
    return int(float(value) / multiple + 0.5) * multiple  # type: ignore[arg-type]


def drawn_size(model: str, payload: dict[str, Any]) -> tuple[int, int] | str:
    """The size `model` draws for these inputs, or the 422 message it refuses them with."""
    aspect = payload.get("aspect_ratio", "1:1")
    if model in FLUX_2_MAX_SIDE:
        if aspect != "custom":
            # Preset ratios at `resolution` megapixels: Replicate does not document the
            # pixel sizes they give, so this fake refuses rather than guess.
            return f"fake: {model} sizes for aspect_ratio {aspect!r} are not modelled"
        sides = []
        for field in ("width", "height"):
            value = payload.get(field)
            if not isinstance(value, int) or not 256 <= value <= FLUX_2_MAX_SIDE[model]:
                return (
                    f"- input.{field}: Must be an integer between 256 and "
                    f"{FLUX_2_MAX_SIDE[model]}, got {value!r}"
                )
            sides.append(_round(value, FLUX_2_MULTIPLE))
        return sides[0], sides[1]
    # FLUX.1 [schnell]/[dev] (and fine-tunes built on them): preset ratios only.
    if aspect not in FLUX_SIZES:
        return (
            f"- input.aspect_ratio: aspect_ratio must be one of the following: "
            f"{', '.join(FLUX_SIZES)}, got {aspect!r}"
        )
    width, height = FLUX_SIZES[aspect]
    if str(payload.get("megapixels", "1")) == "0.25":
        width, height = _round(width / 2, 16), _round(height / 2, 16)
    return width, height


def _model_of(request: RecordedRequest) -> str:
    found = re.match(r"^/v1/models/([^/]+/[^/]+)/predictions$", request.path)
    return found.group(1) if found else f"someone/fine-tune:{request.json().get('version')}"


def draws(server: FakeServer, *, cdn: FakeServer | None = None) -> Responder:
    """A create answer as the model gives it: a PNG of the size its inputs give, served as
    the prediction's output file (by `cdn` when given: another host than the API's)."""
    files = cdn or server

    def answer(request: RecordedRequest) -> FakeResponse:
        model = _model_of(request)
        payload = request.json().get("input") or {}
        size = drawn_size(model, payload)
        if isinstance(size, str):
            return problem(422, "Input validation failed", size)
        prediction_id = f"{PREDICTION_ID[:-6]}{next(_prediction_ids):06d}"
        if "input_images" in payload and model in FLUX_2_MAX_SIDE:
            return _edit(server, files, model, payload, size, prediction_id)
        count = 1 if model in FLUX_2_MAX_SIDE else payload.get("num_outputs", 1)
        if type(count) is not int or not 1 <= count <= 4:
            return problem(
                422,
                "Input validation failed",
                f"- input.num_outputs: Must be less than or equal to 4, got {count!r}",
            )
        outputs = []
        for index in range(count):
            path = f"/delivery/xezq/{prediction_id}/out-{index}.png"
            files.on("GET", f"^{re.escape(path)}$", FakeResponse(body=png_bytes(*size)))
            outputs.append(f"{files.url}{path}")
        body = prediction(
            server,
            output=outputs[0] if model in FLUX_2_MAX_SIDE else outputs,
            input=payload,
            prediction_id=prediction_id,
            model=model,
        )
        return FakeResponse.json(body, 201)

    return answer


def _edit(
    server: FakeServer,
    files: FakeServer,
    model: str,
    payload: dict[str, Any],
    size: tuple[int, int],
    prediction_id: str,
) -> FakeResponse:
    """A FLUX.2 edit: its first reference picture, scaled and tinted."""
    references = payload["input_images"]
    if not isinstance(references, list) or not references:
        return problem(422, "Input validation failed", "- input.input_images: Invalid type.")
    for index, reference in enumerate(references):
        if not isinstance(reference, str) or not reference.startswith(
            ("data:", "http://", "https://")
        ):
            return reference_refused(index)
    try:
        picture = _open_reference(references[0])
    except (UnidentifiedImageError, OSError, ValueError, binascii.Error) as exc:
        failed = prediction(
            server,
            status="failed",
            error=str(exc),
            input=payload,
            prediction_id=prediction_id,
            model=model,
        )
        return FakeResponse.json(failed, 201)
    if model != MODEL:
        size = picture.size  # FLUX.2 [dev]: width/height are for text-to-image only
    path = f"/delivery/xezq/{prediction_id}/out-0.png"
    files.on("GET", f"^{re.escape(path)}$", FakeResponse(body=edited_png(picture, size)))
    body = prediction(
        server, output=f"{files.url}{path}", input=payload, prediction_id=prediction_id, model=model
    )
    return FakeResponse.json(body, 201)


def _open_reference(reference: str) -> Image.Image:
    """The picture a reference names: a data URI's, or an uploaded file's."""
    if reference.startswith("data:"):
        header, _, encoded = reference.partition(",")
        if not header.endswith(";base64"):
            raise ValueError(f"not a base64 data URI: {header[:40]}")
        data = base64.b64decode(encoded, validate=True)
    elif reference in _uploads and reference not in _deleted:
        data = _uploads[reference]
    else:
        raise ValueError(f"could not download {reference[:200]}: 404 Not Found")
    with Image.open(io.BytesIO(data)) as picture:
        return picture.convert("RGB")


def edited_png(picture: Image.Image, size: tuple[int, int]) -> bytes:
    """`picture` at `size`, a quarter EDIT_TINT: what the fake's edit model makes."""
    scaled = picture.convert("RGB").resize(size, Image.Resampling.BILINEAR)
    tinted = Image.blend(scaled, Image.new("RGB", size, EDIT_TINT), EDIT_TINT_SHARE)
    buffer = io.BytesIO()
    tinted.save(buffer, "PNG")
    return buffer.getvalue()


def references(create: RecordedRequest) -> list[bytes]:
    """The pictures a create request sent in `input_images` (data URIs or uploads)."""
    found = []
    for reference in create.json()["input"]["input_images"]:
        if reference.startswith("data:"):
            found.append(base64.b64decode(reference.partition(",")[2]))
        else:
            found.append(_uploads[reference])
    return found


def _multipart(request: RecordedRequest) -> dict[str, tuple[str, str, bytes]]:
    """A multipart/form-data body: field name → (filename, content type, bytes)."""
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    parts = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        parts[str(name)] = (part.get_filename() or "", part.get_content_type(), payload)
    return parts


def serve_files(server: FakeServer) -> None:
    """The files API: uploads kept (their `urls.get` work as inputs), deletes answered."""

    def create(request: RecordedRequest) -> FakeResponse:
        parts = _multipart(request)
        if "content" not in parts:
            return problem(400, "Bad request", "The request must include a content field")
        filename, content_type, data = parts["content"]
        file_id = f"cneqzikepnug6xezperrr{next(_file_ids):06d}"
        url = f"{server.url}/v1/files/{file_id}"
        _uploads[url] = data
        body = {
            "id": file_id,
            "name": filename,
            "content_type": content_type,
            "size": len(data),
            "etag": hashlib.md5(data).hexdigest(),
            "checksums": {
                "sha256": hashlib.sha256(data).hexdigest(),
                "md5": hashlib.md5(data).hexdigest(),
            },
            "metadata": {},
            "created_at": "2025-03-01T10:00:00.000Z",
            "expires_at": "2025-03-02T10:00:00.000Z",
            "urls": {"get": url},
        }
        return FakeResponse.json(body, 201)

    def delete(request: RecordedRequest) -> FakeResponse:
        url = f"{server.url}{request.path}"
        if url not in _uploads or url in _deleted:
            return not_found()
        _deleted.add(url)
        return FakeResponse(status=204)

    server.on("POST", FILES_PATH, create)
    server.on("DELETE", FILE_PATH, delete)


def uploads(server: FakeServer) -> list[RecordedRequest]:
    return [r for r in server.requests_to(FILES_PATH) if r.method == "POST"]


def deletions(server: FakeServer) -> list[RecordedRequest]:
    return [r for r in server.requests_to(FILE_PATH) if r.method == "DELETE"]


def cancels(server: FakeServer) -> Responder:
    """The cancel answer: the prediction, now canceled."""

    def answer(request: RecordedRequest) -> FakeResponse:
        prediction_id = request.path.split("/")[3]
        return FakeResponse.json(prediction(server, status="canceled", prediction_id=prediction_id))

    return answer


def model_info(server: FakeServer, model: str) -> FakeResponse:
    """GET /v1/models/{owner}/{name}: the model object."""
    owner, name = model.split("/")
    return FakeResponse.json(
        {
            "url": f"https://replicate.com/{model}",
            "owner": owner,
            "name": name,
            "description": "High-quality image generation",
            "visibility": "public",
            "github_url": None,
            "paper_url": None,
            "license_url": None,
            "run_count": 1_234_567,
            "cover_image_url": None,
            "default_example": None,
            "latest_version": version_info(),
        }
    )


def version_info(version: str = VERSION) -> dict[str, Any]:
    return {
        "id": version,
        "created_at": "2025-11-25T10:00:00.000Z",
        "cog_version": "0.16.8",
        "openapi_schema": {},
    }


def serve_models(server: FakeServer, *models: str) -> None:
    """The API knows `models` (default: the three FLUX ones) and `VERSION` of each."""
    server.on("GET", MODEL_PATH, not_found())
    server.on("GET", VERSION_PATH, not_found())
    for model in models or (MODEL, FLUX_2_DEV, SCHNELL):
        server.on("GET", rf"^/v1/models/{re.escape(model)}$", model_info(server, model))
        server.on(
            "GET",
            rf"^/v1/models/{re.escape(model)}/versions/{VERSION}$",
            FakeResponse.json(version_info()),
        )


def create_answers(server: FakeServer, *responses: Responder) -> None:
    """Answer the create-prediction requests with `responses`, in order."""
    server.on("POST", CREATE_PATH, *responses)


def succeed(server: FakeServer, data: bytes, name: str = "out-0.png") -> str:
    """Every create finishes at once with `data` as its single output file; return its URL."""
    url = serve_file(server, data, name)
    create_answers(server, succeeded_with(server, [url]))
    return url


def creates(server: FakeServer) -> list[RecordedRequest]:
    """The create-prediction requests the fake received (polls and downloads excluded)."""
    return [r for r in server.requests_to(CREATE_PATH) if r.method == "POST"]


def polls(server: FakeServer) -> list[RecordedRequest]:
    return [r for r in server.requests_to(POLL_PATH) if r.method == "GET"]


def cancellations(server: FakeServer) -> list[RecordedRequest]:
    """The cancel requests the fake received."""
    return [r for r in server.requests_to(CANCEL_PATH) if r.method == "POST"]


def downloads(server: FakeServer) -> list[RecordedRequest]:
    return server.requests_to(DELIVERY_PATH)


def processing_forever(server: FakeServer) -> None:
    """Predictions that stay `processing` until they are cancelled (the cancel answers)."""
    processing = prediction(server, status="processing")
    create_answers(server, FakeResponse.json(processing, 201))
    server.on("GET", POLL_PATH, FakeResponse.json(processing))
    server.on("POST", CANCEL_PATH, cancels(server))
