"""Template preview images: public catalog pictures, cacheable by anyone.

Only a key that some template currently holds is served (the file path comes
from the storage module's key rules, never from the request); anything else
gets the same 404.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, Response

from studio_app.services import previews

router = APIRouter()

_NOT_FOUND = {"code": "not_found", "message": "No such preview."}
# A key names one picture forever (a new upload gets a new key), so it may be cached long.
# nosniff, like every response, comes from security_headers.py.
_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable"}


@router.get("/template-previews/{key}", response_model=None)
def template_preview(key: str) -> Response:
    path = previews.preview_file(key)
    if path is None:
        return JSONResponse(_NOT_FOUND, status_code=404)
    return FileResponse(path, media_type="image/webp", headers=_HEADERS)
