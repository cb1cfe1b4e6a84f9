"""The studio's picture to edit: upload one, or pick one uploaded before (or kept from a
creation), and remove the ones no longer wanted. The rules are services/uploads.py's;
the chosen picture lives in `StudioState` (it is part of the request)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import reflex as rx

from studio_app.routes import LOGIN
from studio_app.services import uploads
from studio_app.services.errors import StudioError
from studio_app.services.uploads import UploadView
from studio_app.states.studio import StudioState
from studio_app.storage import StorageError

PICTURE_UPLOAD_ID = "picture-to-edit"


@dataclass
class PictureOption:
    """One of the user's uploads, as the chooser shows it."""

    public_id: str = ""
    url: str = ""
    size: str = ""


def _option(upload: UploadView) -> PictureOption:
    return PictureOption(
        upload.public_id, f"/pictures/{upload.public_id}", f"{upload.width}×{upload.height}"
    )


class EditSourceState(StudioState):
    pictures: rx.Field[list[PictureOption]] = rx.field(default_factory=list)
    choosing: bool = False
    picture_busy: bool = False
    picture_error: str = ""
    # The uploads as listed to this tab: choosing one reads no database.
    _uploads: list[UploadView] = []

    def _list(self, listed: list[UploadView]) -> None:
        self._uploads = listed
        self.pictures = [_option(upload) for upload in listed]

    @rx.event(background=True)
    async def open_pictures(self) -> AsyncIterator[rx.event.EventSpec]:
        session, viewer = await self._caller()
        if viewer is None:
            yield rx.redirect(LOGIN)
            return
        listed = await asyncio.to_thread(uploads.list_uploads, viewer)
        async with self:
            if self._still_bound_to(session):
                self._list(listed)
                self.picture_error = ""
                self.choosing = True

    @rx.event
    def close_pictures(self) -> None:
        self.choosing = False
        self.picture_error = ""

    @rx.event
    async def upload_picture(self, files: list[rx.UploadFile]):
        viewer = await asyncio.to_thread(self._viewer)
        if viewer is None:
            yield rx.redirect(LOGIN)
            return
        if not files:
            self.picture_error = "Choose a PNG, JPEG or WebP picture."
            return
        # One byte past the limit is enough to know it is too big.
        data = await files[0].read(uploads.MAX_UPLOAD_BYTES + 1)
        self.picture_busy = True
        self.picture_error = ""
        yield
        try:
            upload = await asyncio.to_thread(uploads.accept, viewer, data)
        except (StudioError, StorageError) as error:
            self.picture_error = (
                error.message if isinstance(error, StudioError) else uploads.NOT_KEPT
            )
            self.picture_busy = False
            yield rx.clear_selected_files(PICTURE_UPLOAD_ID)
            return
        self._list([upload, *self._uploads])
        self._show_source(upload)
        self.picture_busy = False
        self.choosing = False
        yield rx.clear_selected_files(PICTURE_UPLOAD_ID)
        yield rx.set_focus("prompt")

    @rx.event
    def choose_picture(self, public_id: str) -> rx.event.EventSpec | None:
        found = next((upload for upload in self._uploads if upload.public_id == public_id), None)
        if found is None:
            return None
        self._show_source(found)
        self.choosing = False
        return rx.set_focus("prompt")

    @rx.event(background=True)
    async def remove_picture(self, public_id: str) -> AsyncIterator[rx.event.EventSpec]:
        session, viewer = await self._caller()
        if viewer is None:
            yield rx.redirect(LOGIN)
            return
        try:
            await asyncio.to_thread(uploads.delete_upload, viewer, public_id)
        except StudioError as error:
            yield rx.toast.error(error.message)
            return
        listed = await asyncio.to_thread(uploads.list_uploads, viewer)
        async with self:
            if not self._still_bound_to(session):
                return
            self._list(listed)
            if self.source_id == public_id:
                self._show_source(None)

    @rx.event
    def stop_editing(self) -> None:
        self._show_source(None)
        self.choosing = False
