"""Sign-in, sign-up and sign-out as HTTP endpoints that end in a server `Set-Cookie`.

The forms on /login and /signup post JSON here (assets/studio_session.js) and then load
the next page, whose websocket carries the new cookie. Only our own pages may call these:
a request whose Origin is not `STUDIO_PUBLIC_URL` is refused (no login CSRF: another
site cannot sign a visitor into an account of its choosing), and only JSON is read, which
a cross-site form cannot send.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from studio_app.api.errors import error_response
from studio_app.api.session_cookie import cleared_session_cookie, session_cookie
from studio_app.routes import LOGIN, safe_next_path
from studio_app.services import auth
from studio_app.services.client_address import client_address
from studio_app.services.errors import InvalidInput, StudioError
from studio_app.settings import get_settings

router = APIRouter(prefix="/auth", include_in_schema=False)

_MAX_BODY_BYTES = 4096
_STATUS_BY_ERROR: list[tuple[type[StudioError], int]] = [
    (InvalidInput, 422),
    (auth.AuthError, 401),
    (auth.TooManyAttempts, 429),
]


class _Refused(Exception):
    def __init__(self, response: JSONResponse) -> None:
        self.response = response


def _check_origin(request: Request) -> None:
    if request.headers.get("origin") != get_settings().public_url:
        raise _Refused(
            error_response(
                403,
                "cross_origin",
                f"Sign in on {get_settings().public_url} itself.",
            )
        )


async def _json_body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise _Refused(error_response(415, "unsupported_media_type", "Send JSON."))
    body = await request.body()
    if len(body) > _MAX_BODY_BYTES:
        raise _Refused(error_response(413, "too_large", "That request is too large."))
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise _Refused(error_response(422, "invalid_input", "Send a JSON object.", field="body"))
    return data


def _error(error: StudioError) -> JSONResponse:
    status = next((s for kind, s in _STATUS_BY_ERROR if isinstance(error, kind)), 400)
    retry_after = getattr(error, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    field = getattr(error, "field", None) or None
    return error_response(status, error.code, error.message, field=field, headers=headers)


def _signed_in(result: auth.SignedIn, next_path: object) -> JSONResponse:
    response = JSONResponse({"next": safe_next_path(next_path)})
    response.headers.append("set-cookie", session_cookie(result.token, result.expires_at))
    return response


async def _enter(request: Request, action: Callable[[dict[str, Any], str], auth.SignedIn]):
    try:
        _check_origin(request)
        data = await _json_body(request)
    except _Refused as refused:
        return refused.response
    client = client_address(
        request.client.host if request.client else None,
        ",".join(request.headers.getlist("x-forwarded-for")),
    )
    try:
        # Password hashing is slow: off the event loop.
        result = await run_in_threadpool(action, data, client)
    except StudioError as error:
        return _error(error)
    return _signed_in(result, data.get("next"))


def _sign_in(data: dict[str, Any], client: str) -> auth.SignedIn:
    return auth.sign_in(data.get("email"), data.get("password"), client_address=client)


def _sign_up(data: dict[str, Any], client: str) -> auth.SignedIn:
    if data.get("password") != data.get("password_confirm"):
        raise InvalidInput("The two passwords are not the same.", field="password_confirm")
    return auth.sign_up(data.get("email"), data.get("password"), client_address=client)


@router.post("/signin")
async def sign_in(request: Request) -> JSONResponse:
    return await _enter(request, _sign_in)


@router.post("/signup")
async def sign_up(request: Request) -> JSONResponse:
    return await _enter(request, _sign_up)


@router.post("/signout")
async def sign_out(request: Request) -> JSONResponse:
    """End this session (`{"everywhere": true}`: every session and API token of the user)."""
    try:
        _check_origin(request)
        data = await _json_body(request)
    except _Refused as refused:
        return refused.response
    token = auth.session_token_from_cookie_header(request.headers.get("cookie", ""))
    if data.get("everywhere") is True:
        viewer = await run_in_threadpool(auth.current_user, token)
        if viewer is None:
            return error_response(401, "unauthorized", "You are not signed in.")
        await run_in_threadpool(auth.sign_out_everywhere, viewer.id)
    else:
        await run_in_threadpool(auth.sign_out, token)
    response = JSONResponse({"next": LOGIN})
    response.headers.append("set-cookie", cleared_session_cookie())
    return response
