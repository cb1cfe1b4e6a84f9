"""Stored images as HTTP responses: streamed from the store, with their validators.

Every image route answers through `stored_response`: the bytes are streamed (never
read whole into memory), with Content-Type, Content-Length, ETag and Last-Modified
from the store, a Content-Disposition when the caller asks for a download, and a 304
(no body) when the browser's cached copy is still the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import format_datetime
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from studio_app.storage import StoredObject


def _still_fresh(request: Request, etag: str) -> bool:
    """Whether the request's If-None-Match names this entity (weak comparison, RFC 9110)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _attachment(filename: str) -> str:
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'


def stored_response(
    request: Request,
    stored: StoredObject,
    headers: Mapping[str, str],
    *,
    filename: str | None = None,
) -> Response:
    """The object as a response with `headers` added; takes over closing `stored`."""
    validators = {
        "ETag": stored.etag,
        "Last-Modified": format_datetime(stored.modified, usegmt=True),
    }
    if _still_fresh(request, stored.etag):
        stored.close()
        return Response(status_code=304, headers={**headers, **validators})
    sent = {**headers, **validators, "Content-Length": str(stored.size)}
    if filename is not None:
        sent["Content-Disposition"] = _attachment(filename)
    return StreamingResponse(stored, media_type=stored.content_type, headers=sent)
