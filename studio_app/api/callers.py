"""Who is calling the REST API: a personal API token sent as `Authorization: Bearer`.

Cookies are not accepted here (the API is for scripts; a cookie would let another
site's page call it with the user's browser session).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool

from studio_app.api.errors import ApiError
from studio_app.services import api_tokens
from studio_app.services.auth import CurrentUser

# Only declares the scheme in the OpenAPI spec (the docs' "Authorize" button);
# the header is read below so that a malformed one is a 401 too.
_bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="A personal API token, created on the Account page (`stu_…`).",
)

_UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers=_UNAUTHORIZED_HEADERS)


def token_user(request: Request) -> CurrentUser | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise _unauthorized("Send your API token as 'Authorization: Bearer <token>'.")
    user = api_tokens.user_for_token(secret.strip())
    if user is None:
        raise _unauthorized(
            "This API token is not valid: it is unknown, revoked or its account is disabled."
        )
    return user


# For the spec of routes where a token is optional (the catalog).
OPTIONAL_TOKEN = {"security": [{}, {"ApiToken": []}]}


async def optional_caller(request: Request) -> CurrentUser | None:
    """For public routes: no token is fine, a bad token is still refused.

    Async so that the common case (no token) costs no trip to a worker thread; a token
    lookup may write (last used), so it does go to one.
    """
    if "authorization" not in request.headers:
        return None
    return await run_in_threadpool(token_user, request)


def caller(request: Request, _scheme: object = Security(_bearer_scheme)) -> CurrentUser:
    user = token_user(request)
    if user is None:
        raise _unauthorized("This needs an API token: send 'Authorization: Bearer <token>'.")
    return user


def admin_caller(user: Annotated[CurrentUser, Depends(caller)]) -> CurrentUser:
    if not user.is_admin:
        raise ApiError(403, "forbidden", "Only admins can do this.")
    return user


# Route parameters: `viewer: Caller`, `admin: AdminCaller`.
Caller = Annotated[CurrentUser, Depends(caller)]
AdminCaller = Annotated[CurrentUser, Depends(admin_caller)]
