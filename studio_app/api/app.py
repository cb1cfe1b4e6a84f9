"""The FastAPI app that Reflex mounts its own routes under."""

from __future__ import annotations

from fastapi import FastAPI

from studio_app.api import images, previews


def build_api() -> FastAPI:
    api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    api.include_router(images.router)
    api.include_router(previews.router)
    return api
