"""Template preview images: public catalog pictures, cacheable by anyone.

Only a key that some template currently holds is served (the preview store checks
the key's shape before it touches anything); anything else gets the same 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from studio_app.api.stored_files import stored_response
from studio_app.services import previews

router = APIRouter()

_NOT_FOUND = {"code": "not_found", "message": "No such preview."}
# A key names one picture forever (a new upload gets a new key), so it may be cached long.
# nosniff, like every response, comes from security_headers.py.
_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable"}


@router.get("/template-previews/{key}", response_model=None)
def template_preview(request: Request, key: str) -> Response:
    stored = previews.open_preview(key)
    if stored is None:
        return JSONResponse(_NOT_FOUND, status_code=404)
    return stored_response(request, stored, _HEADERS)
