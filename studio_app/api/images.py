"""Private images: served only to their owner's session (and to admins).

Anyone else gets the same 404, whatever URL they try; storage keys come from the
database row, never from the request.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from studio_app.api.stored_files import stored_response
from studio_app.services import auth, creations, uploads

router = APIRouter()

_NOT_FOUND = {"code": "not_found", "message": "No such image."}
# Images are private: browsers may keep them briefly (My Creations pages back and forth
# stay fast), shared caches not at all; a cached copy belongs to the cookie it was
# fetched with, so after a sign-out, or soon after a delete, it is not shown again.
# (nosniff, like every response, comes from security_headers.py.)
PRIVATE_IMAGE_HEADERS = {
    "Cache-Control": "private, max-age=300",
    "Vary": "Cookie",
}


def _serve(request: Request, public_id: str, *, thumbnail: bool) -> Response:
    viewer = auth.current_user(request.cookies.get(auth.SESSION_COOKIE))
    image = creations.open_image(viewer, public_id, thumbnail=thumbnail)
    if image is None:
        return JSONResponse(_NOT_FOUND, status_code=404)
    download = not thumbnail and bool(request.query_params.get("download"))
    return stored_response(
        request,
        image.stored,
        PRIVATE_IMAGE_HEADERS,
        filename=image.download_name if download else None,
    )


@router.get("/pictures/{public_id}", response_model=None)
def uploaded_picture(request: Request, public_id: str) -> Response:
    """One of the session's user's uploads (the studio's pictures to edit)."""
    viewer = auth.current_user(request.cookies.get(auth.SESSION_COOKIE))
    stored = None if viewer is None else uploads.open_upload(viewer, public_id)
    if stored is None:
        return JSONResponse(_NOT_FOUND, status_code=404)
    return stored_response(request, stored, PRIVATE_IMAGE_HEADERS)


@router.get("/images/{public_id}", response_model=None)
def original(request: Request, public_id: str) -> Response:
    return _serve(request, public_id, thumbnail=False)


@router.get("/images/{public_id}/thumbnail", response_model=None)
def thumbnail(request: Request, public_id: str) -> Response:
    return _serve(request, public_id, thumbnail=True)
