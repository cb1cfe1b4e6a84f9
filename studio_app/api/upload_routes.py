"""Pictures to edit, over HTTP: upload (the picture as the request body), list, fetch,
remove. The rules are services/uploads.py's."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse

from studio_app.api import images, schemas
from studio_app.api.callers import Caller
from studio_app.api.errors import ApiError, not_found, responses
from studio_app.api.stored_files import stored_response
from studio_app.services import uploads
from studio_app.services.uploads import UploadView

router = APIRouter(prefix="/api/studio/uploads", tags=["uploads"])

UploadId = Annotated[str, Path(pattern=schemas.CREATION_ID_PATTERN, description="An upload's `id`")]


def _upload(view: UploadView) -> schemas.Upload:
    return schemas.Upload(
        id=view.public_id,
        width=view.width,
        height=view.height,
        size_bytes=view.size_bytes,
        content_type=view.content_type,
        image_url=f"{router.prefix}/{view.public_id}/image",
        created_at=view.created_iso,
    )


async def body_within_limit(request: Request, limit: int = uploads.MAX_UPLOAD_BYTES) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large()
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise _too_large()
    return bytes(data)


def _too_large() -> ApiError:
    limit = uploads.MAX_UPLOAD_BYTES // (1024 * 1024)
    return ApiError(413, "too_large", f"The picture is larger than {limit} MB.")


_PICTURE_BODY = {
    "requestBody": {
        "required": True,
        "description": "The picture's bytes (PNG, JPEG or WebP, at most 10 MB and 25 "
        "megapixels): `curl --data-binary @photo.jpg`. Its type is read from the bytes.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "",
    status_code=201,
    responses=responses(401, 413, 422, 429),
    openapi_extra=_PICTURE_BODY,
)
async def upload_picture(viewer: Caller, request: Request) -> schemas.Upload:
    """Upload a picture to edit: checked, its metadata (EXIF) removed, kept privately."""
    data = await body_within_limit(request)
    return _upload(await asyncio.to_thread(uploads.accept, viewer, data))


@router.get("", responses=responses(401))
def list_uploads(viewer: Caller) -> schemas.UploadList:
    """Your uploads, newest first (the latest 50)."""
    return schemas.UploadList(items=[_upload(view) for view in uploads.list_uploads(viewer)])


@router.get(
    "/{upload_id}/image",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}},
        **responses(401, 404, 422),
    },
)
def upload_image(request: Request, viewer: Caller, upload_id: UploadId) -> Response:
    """The uploaded picture, as kept (metadata removed)."""
    stored = uploads.open_upload(viewer, upload_id)
    if stored is None:
        raise not_found("upload")
    return stored_response(request, stored, images.PRIVATE_IMAGE_HEADERS)


@router.delete("/{upload_id}", status_code=204, responses=responses(401, 404, 422))
def delete_upload(viewer: Caller, upload_id: UploadId) -> Response:
    """Remove one of your uploads."""
    uploads.delete_upload(viewer, upload_id)
    return Response(status_code=204)
