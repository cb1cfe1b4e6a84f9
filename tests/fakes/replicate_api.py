"""A fake of Replicate's HTTP API (the paths and bodies the `replicate` SDK uses).

- create: POST /v1/models/{owner}/{name}/predictions (a model id) or
  POST /v1/predictions with {"version": ...} (a version id), `Prefer: wait=N`
- poll: GET /v1/predictions/{id} while the prediction is starting/processing
- output files: served by the fake itself under /delivery/ (replicate.delivery)
- errors: RFC 7807 problem bodies {"type", "title", "status", "detail"}
"""

from __future__ import annotations

from typing import Any

from tests.fakes.server import FakeResponse, FakeServer, RecordedRequest, Responder

MODEL = "black-forest-labs/flux-schnell"
VERSION = "5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637"
PREDICTION_ID = "gm3qorzdhgbfurvjtvhg6dckhu"
CREATE_PATH = r"^/v1/(models/[^/]+/[^/]+/)?predictions$"
POLL_PATH = r"^/v1/predictions/[^/]+$"
DELIVERY_PATH = r"^/delivery/"
# What FLUX.1 [schnell] really returns per aspect ratio (megapixels "1").
FLUX_SIZES = {"1:1": (1024, 1024), "3:2": (1216, 832), "16:9": (1344, 768)}


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


def serve_file(server: FakeServer, data: bytes, name: str = "out-0.png") -> str:
    """Serve `data` as an output file; return its URL."""
    content_type = {"png": "image/png", "webp": "image/webp"}.get(name.rsplit(".", 1)[-1], "")
    path = f"/delivery/xezq/{PREDICTION_ID}/{name}"
    server.on("GET", f"^{path}$", FakeResponse(body=data, headers={"Content-Type": content_type}))
    return f"{server.url}{path}"


def succeeded_with(server: FakeServer, output: Any, *, status: int = 201) -> Responder:
    """A create answer: the prediction finished within `Prefer: wait`, echoing its input."""

    def answer(request: RecordedRequest) -> FakeResponse:
        body = prediction(server, output=output, input=request.json().get("input"))
        return FakeResponse.json(body, status)

    return answer


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


def downloads(server: FakeServer) -> list[RecordedRequest]:
    return server.requests_to(DELIVERY_PATH)
