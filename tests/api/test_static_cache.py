"""Hashed build assets are cached for a year; nothing else is."""

from __future__ import annotations

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from studio_app.api.static_cache import ImmutableAssets


def _client() -> TestClient:
    async def asset(_request):  # type: ignore[no-untyped-def]
        return PlainTextResponse("x", headers={"Cache-Control": "no-cache"})

    inner = Starlette(routes=[Route("/assets/app-3f9c.js", asset), Route("/login", asset)])
    return TestClient(ImmutableAssets(inner))


def test_assets_are_immutable_for_a_year() -> None:
    answer = _client().get("/assets/app-3f9c.js")
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_pages_and_missing_assets_keep_their_own_caching() -> None:
    client = _client()
    assert client.get("/login").headers["cache-control"] == "no-cache"
    assert "immutable" not in client.get("/assets/missing.js").headers.get("cache-control", "")
