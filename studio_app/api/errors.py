"""One error shape for the whole REST API: `{"code", "message", "field"?}`.

Service errors (`StudioError`) keep their stable code and human message; this
module only decides the HTTP status. It also answers what no route does under /api:
an unknown path (404), a method the path does not have (405) and OPTIONS (204), each
with the path's methods in `Allow`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send

from studio_app.api import schemas
from studio_app.services import generation, job_queue, payments, throttle
from studio_app.services.errors import (
    HoldNotOpen,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StudioError,
)

# Most specific first: the first matching class decides the status.
_STATUS_BY_ERROR: list[tuple[type[StudioError], int]] = [
    (InvalidInput, 422),
    (NotFound, 404),
    (PermissionDenied, 403),
    (InsufficientCredits, 402),
    (payments.PaymentFailed, 402),
    (IdempotencyConflict, 409),
    (HoldNotOpen, 409),
    (throttle.Throttled, 429),
    (generation.TooManyJobs, 429),
    (payments.PaymentsUnavailable, 503),
    (job_queue.QueueUnavailable, 503),
]
# How long a client should wait before asking to start another image when it has
# too many in progress (they take seconds, not minutes).
_TOO_MANY_JOBS_RETRY_AFTER_S = 5
# Redis restarting: back within seconds.
_QUEUE_RETRY_AFTER_S = 2


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


class ApiError(Exception):
    """An error raised by the API layer itself (authentication, unknown resource)."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(
    status: int, code: str, message: str, *, field: str | None = None, headers: dict | None = None
) -> JSONResponse:
    body = ErrorBody(code=code, message=message, field=field)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"No such {what}.")


def _studio_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StudioError)
    status = next((s for kind, s in _STATUS_BY_ERROR if isinstance(error, kind)), 400)
    headers = None
    if isinstance(error, throttle.Throttled):
        headers = {"Retry-After": str(error.retry_after)}
    elif isinstance(error, generation.TooManyJobs):
        headers = {"Retry-After": str(_TOO_MANY_JOBS_RETRY_AFTER_S)}
    elif isinstance(error, job_queue.QueueUnavailable):
        headers = {"Retry-After": str(_QUEUE_RETRY_AFTER_S)}
    field = getattr(error, "field", None) or None
    return error_response(status, error.code, error.message, field=field, headers=headers)


def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error_response(error.status, error.code, error.message, headers=error.headers)


def _field_name(location: tuple) -> str:
    # ("body", "prompt") → "prompt"; ("query", "limit") → "limit"; ("body",) → "body"
    named = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(named) or str(location[0] if location else "request")


def _problem_text(problem: dict) -> str:
    if problem.get("type") == "string_pattern_mismatch":
        # Say the rule in words, not the regular expression.
        rule = schemas.rule_for(str(problem.get("ctx", {}).get("pattern", "")))
        if rule:
            return rule
    return str(problem.get("msg", "invalid value"))


def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    first = problems[0] if problems else {"loc": ("request",), "msg": "Invalid request."}
    field = _field_name(tuple(first.get("loc", ())))
    message = f"{field}: {_problem_text(first)}"
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return error_response(422, "invalid_input", message, field=field)


API_PREFIX = "/api"


def _is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(f"{API_PREFIX}/")


# A route as far as "does it take this request" goes: its path regex and its methods
# (None: any method, as for a mount).
_RouteShape = tuple[re.Pattern[str], frozenset[str] | None]


def _route_shapes(router: Router, *, api_only: bool = False) -> list[_RouteShape]:
    """The app's routes at their full paths (FastAPI keeps included routers as branches)."""
    return [
        (route.path_regex, frozenset(route.methods) if route.methods else None)
        for route in iter_route_contexts(router.routes)
        if not api_only or _is_api_path(route.path or "")
    ]


def _routing(routes: list[_RouteShape], method: str, path: str) -> tuple[bool, set[str]]:
    """Whether a route takes this request, and every method the routes at its path have."""
    methods: set[str] = set()
    for path_regex, route_methods in routes:
        if path_regex.match(path):
            if route_methods is None or method in route_methods:
                return True, methods
            methods |= route_methods
    return False, methods


def _allow(methods: set[str]) -> str:
    return ", ".join(sorted(methods))


class ApiPaths:
    """Answers the requests under /api that no API route takes, in the API's own way.

    Reflex's app is mounted under the API app and takes any path, so without this an
    unknown /api path, a method its path does not have, or OPTIONS would get Reflex's
    plain-text or HTML 404/405. (CORS preflights are answered before this, by the CORS
    middleware.)
    """

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app, self.router = app, router
        self._api_routes: list[_RouteShape] | None = None

    def api_routes(self) -> list[_RouteShape]:
        # Read at the first request, when every route is in. Reflex's mount ("") is not
        # one of them: it takes every path.
        if self._api_routes is None:
            self._api_routes = _route_shapes(self.router, api_only=True)
        return self._api_routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        taken, methods = _routing(self.api_routes(), scope["method"], scope["path"])
        if taken:
            await self.app(scope, receive, send)
            return
        response: Response
        if not methods:
            response = error_response(404, "not_found", "There is no such API path; see /api/docs.")
        else:
            allow = _allow(methods | {"OPTIONS"})  # OPTIONS is answered on every API path
            if scope["method"] == "OPTIONS":
                response = Response(status_code=204, headers={"Allow": allow})
            else:
                message = f"This path does not take {scope['method']}; it takes {allow}."
                response = error_response(
                    405, "method_not_allowed", message, headers={"Allow": allow}
                )
        await response(scope, receive, send)


def _http_error_handler(api: FastAPI) -> Callable[[Request, Exception], JSONResponse]:
    def handle(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        codes = {404: "not_found", 405: "method_not_allowed"}
        code = codes.get(error.status_code, "http_error")
        message = error.detail if isinstance(error.detail, str) else "Request refused."
        headers = dict(error.headers or {})
        if error.status_code == 400:
            # FastAPI's answer to a body that is not JSON: one error shape for all bad input.
            return error_response(
                422, "invalid_input", "The request body is not valid JSON.", field="body"
            )
        if error.status_code == 405 and "Allow" not in headers:
            routes = _route_shapes(api.router)
            headers["Allow"] = _allow(_routing(routes, request.method, request.url.path)[1])
        return error_response(error.status_code, code, message, headers=headers or None)

    return handle


def install(api: FastAPI) -> None:
    api.add_exception_handler(StudioError, _studio_error)
    api.add_exception_handler(ApiError, _api_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(StarletteHTTPException, _http_error_handler(api))
    api.add_middleware(ApiPaths, router=api.router)


def responses(*statuses: int) -> dict[int | str, dict]:
    """The error answers a route documents in the OpenAPI spec."""
    described = {
        401: "No API token, or not a valid one",
        402: "Not enough credits, or the payment did not go through",
        403: "Admins only",
        404: "Not found (or not yours)",
        409: "The Idempotency-Key was used for a different request",
        413: "The request body is larger than this route accepts",
        422: "Invalid input, or a rule that depends on the server's state (a name taken,"
        " a template or provider not available now); `field` names it",
        429: "Rate limited; see Retry-After",
        503: "Not available on this server",
    }
    return {status: {"model": ErrorBody, "description": described[status]} for status in statuses}
