"""The baseline of `bench api_reads`: a bare Starlette endpoint answering fixed JSON.

Served by the same ASGI server (Granian, as `reflex run --env prod` runs the backend) with
the same number of workers; the body is the app's own answer, read from BARE_BODY_PATH.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_app() -> Starlette:
    body = Path(os.environ["BARE_BODY_PATH"]).read_bytes()

    async def templates(_request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/api/studio/templates", templates)])
