"""Helpers for REST API tests: users with API tokens, and waiting for generations."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlmodel import func, select
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from studio_app.api.app import build_served_api
from studio_app.models import CreditEntry, CreditHold, GeneratedImage
from studio_app.services import api_tokens
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session
from tests.factories import PASSWORD, make_user


@dataclass(frozen=True)
class ApiUser:
    user_id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def api_user(*, credits: int = 0, role: str = "user", email: str | None = None) -> ApiUser:
    user_id = make_user(credits=credits, role=role, email=email)
    with read_session() as db:
        from studio_app.models import User

        user = db.get(User, user_id)
        assert user is not None
        viewer = CurrentUser(id=user_id, email=user.email, role=user.role)
    secret = api_tokens.create_token(viewer, "tests", password=PASSWORD).secret
    return ApiUser(user_id=user_id, email=viewer.email, token=secret)


def wait_until_finished(client: TestClient, user: ApiUser, creation_id: str) -> dict:
    """Poll the status URL the way a client would, until it succeeds or fails."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body = client.get(f"/api/studio/generate/{creation_id}", headers=user.headers).json()
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"generation {creation_id} did not finish: {body}")


@dataclass(frozen=True)
class MoneySnapshot:
    entries: int
    holds: int
    generations: int
    balance: int


def money(user_id: int) -> MoneySnapshot:
    with read_session() as db:

        def count(model, *where):  # type: ignore[no-untyped-def]
            return db.exec(select(func.count()).select_from(model).where(*where)).one()

        balance = db.exec(
            select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
                CreditEntry.user_id == user_id
            )
        ).one()
        return MoneySnapshot(
            entries=count(CreditEntry, CreditEntry.user_id == user_id),
            holds=count(CreditHold, CreditHold.user_id == user_id),
            generations=count(GeneratedImage, GeneratedImage.user_id == user_id),
            balance=int(balance),
        )


async def _reflex_stand_in(scope: Scope, receive: Receive, send: Send) -> None:
    # What Reflex's static-file server (the built frontend) answers for a file it lacks.
    if scope["method"] in ("GET", "HEAD"):
        response = PlainTextResponse("Not Found", status_code=404)
    else:
        response = PlainTextResponse("Method Not Allowed", 405, headers={"Allow": "GET, HEAD"})
    await response(scope, receive, send)


def api_over_reflex() -> ASGIApp:
    """The API as the server stacks it, with a stand-in for Reflex's app mounted under it.

    `rx.App(api_transformer=...)` mounts Reflex's whole app at "" under the API app, so a
    request no API route takes goes on to Reflex, whose static-file server answers 404 or
    405 in plain text.
    """
    return build_served_api(_reflex_stand_in)
