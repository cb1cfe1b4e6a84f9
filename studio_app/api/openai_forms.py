"""What OpenAI's Images API clients send (openai_images.py): the JSON body of
`images.generate`, and the multipart form of `images.edit`, read within limits — the
whole body at most one upload's size plus room for the text fields, one picture, a few
short fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from studio_app.api.errors import ApiError
from studio_app.api.upload_routes import body_within_limit
from studio_app.services import generation, uploads

FIELDS_ROOM = 64 * 1024
_IMAGE_FIELDS = ("image", "image[]")


class FormProblem(Exception):
    """What is wrong with the form, for an OpenAI-shaped answer."""

    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param = status, message, param


class ImagesRequest(BaseModel):
    """OpenAI's `images.generate` body; fields we do not use (quality, style, user, …)
    are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")

    prompt: str
    model: str | None = None
    n: int | None = Field(default=1, ge=1, le=generation.MAX_IMAGES_PER_REQUEST)
    size: str | None = None
    response_format: Literal["b64_json", "url"] | None = None


@dataclass(frozen=True)
class EditForm:
    fields: ImagesRequest
    image: bytes


async def read_edit_form(request: Request) -> EditForm:
    """The form's fields (as `fields_model`) and its one picture's bytes."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise FormProblem(400, "Send the edit as multipart/form-data with an 'image' file.")
    try:
        # Read under the limit first: the form parser then works on bytes already here.
        request._body = await body_within_limit(request, uploads.MAX_UPLOAD_BYTES + FIELDS_ROOM)
    except ApiError as too_large:
        raise FormProblem(413, too_large.message, "image") from None
    try:
        form = await request.form(max_files=4, max_fields=20, max_part_size=FIELDS_ROOM)
    except Exception as exc:  # the parser's own errors differ between versions
        raise FormProblem(400, f"The form could not be read: {exc}") from None
    if form.get("mask") is not None:
        raise FormProblem(
            400, "Masks are not supported: describe the change in the prompt.", "mask"
        )
    pictures = [item for name in _IMAGE_FIELDS for item in form.getlist(name)]
    if len(pictures) != 1 or not isinstance(pictures[0], UploadFile):
        raise FormProblem(400, "Send exactly one 'image' file to edit.", "image")
    texts = {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        fields = ImagesRequest.model_validate(texts)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        param = ".".join(str(part) for part in first.get("loc", ())) or None
        raise FormProblem(400, f"Invalid '{param}': {first.get('msg')}.", param) from None
    return EditForm(fields=fields, image=await pictures[0].read())
