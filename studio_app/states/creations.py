"""State of the My Creations page: a paged grid, its filters and one opened creation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import reflex as rx

from studio_app.models import GenerationStatus
from studio_app.services import community, creations, profiles
from studio_app.services.creations import CreationView, FilterChoice
from studio_app.services.errors import StudioError
from studio_app.states.auth import AuthState

ALL = "all"
PENDING_POLL_S = 2.0
PENDING_POLL_LIMIT = 600  # polls (20 minutes): longer than any hold lives


class CreationsState(AuthState):
    """One page of the grid at a time, with Newer / Older.

    Only the page on screen lives in the state: Reflex sends a changed list whole, so a
    grid that grew by "Load more" made each click cost more than the one before it (page
    100 of 10,000 images took 7× page 2; bench/gallery). Paging keeps every page's cost
    that of the first.
    """

    items: rx.Field[list[CreationView]] = rx.field(default_factory=list)
    has_more: rx.Field[bool] = rx.field(False)
    page_number: int = 1
    loaded: bool = False
    template_choices: list[FilterChoice] = []
    provider_choices: list[FilterChoice] = []
    filter_template: str = ALL
    filter_provider: str = ALL
    filter_from: str = ""
    filter_to: str = ""
    # The creation opened in the dialog.
    selected: rx.Field[CreationView] = rx.field(default_factory=CreationView)
    # "Image 2 of 4 made together" when the open image came with others, else "".
    selected_request_note: str = ""
    viewing: bool = False
    # The open creation's community post ("" when it is not published), and the form
    # that publishes it.
    selected_post_id: str = ""
    publishing: bool = False
    publish_error: str = ""
    needs_display_name: bool = False
    # Keyset cursors (public ids), kept on the server: where the page on screen starts
    # ("" for the newest), where each page before it started, where the next one starts.
    _page_start: str = ""
    _earlier_starts: list[str] = []
    _next_cursor: str = ""
    _watching: bool = False

    @rx.var
    def filtered(self) -> bool:
        return (
            self.filter_template != ALL
            or self.filter_provider != ALL
            or self.filter_from != ""
            or self.filter_to != ""
        )

    @rx.var
    def has_pending(self) -> bool:
        return any(item.status == GenerationStatus.PENDING for item in self.items)

    def _filters(self) -> creations.CreationFilters:
        return creations.parse_filters(
            template=self.filter_template,
            provider=self.filter_provider,
            date_from=self.filter_from,
            date_to=self.filter_to,
        )

    def _show_page(self, start: str) -> None:
        viewer = self._viewer()
        if viewer is None:
            return
        page = creations.list_creations(viewer, filters=self._filters(), cursor=start or None)
        self.items = page.items
        self._page_start = start
        self._next_cursor = page.next_cursor or ""
        self.has_more = page.next_cursor is not None

    def _first_page(self) -> None:
        self._show_page("")
        self._earlier_starts = []
        self.page_number = 1

    @rx.event
    def load(self) -> Iterator[rx.event.EventType[()] | None]:
        viewer = self._viewer()
        if viewer is None:
            return
        self.loaded = False
        self.viewing = False
        yield
        choices = creations.filter_choices(viewer)
        self.template_choices = choices.templates
        self.provider_choices = choices.providers
        try:
            self._first_page()
        except StudioError:
            # Filters left over from an earlier visit that no longer make sense.
            self._reset_filters()
            self._first_page()
        self.loaded = True
        if self.has_pending:
            yield CreationsState.watch_pending

    @rx.event
    def older_page(self) -> rx.event.EventSpec | None:
        if self._viewer() is None or not self._next_cursor:
            return None
        current = self._page_start
        try:
            self._show_page(self._next_cursor)
        except StudioError as error:
            return rx.toast.error(error.message)
        self._earlier_starts = [*self._earlier_starts, current]
        self.page_number += 1
        return rx.scroll_to("creations-top")

    @rx.event
    def newer_page(self) -> rx.event.EventSpec | None:
        if self._viewer() is None or not self._earlier_starts:
            return None
        try:
            self._show_page(self._earlier_starts[-1])
        except StudioError as error:
            return rx.toast.error(error.message)
        self._earlier_starts = self._earlier_starts[:-1]
        self.page_number -= 1
        return rx.scroll_to("creations-top")

    def _apply_filters(self) -> rx.event.EventSpec | None:
        try:
            self._first_page()
        except StudioError as error:
            return rx.toast.error(error.message)
        return None

    @rx.event
    def set_filter_template(self, value: str) -> rx.event.EventSpec | None:
        self.filter_template = value if isinstance(value, str) else ALL
        return self._apply_filters()

    @rx.event
    def set_filter_provider(self, value: str) -> rx.event.EventSpec | None:
        self.filter_provider = value if isinstance(value, str) else ALL
        return self._apply_filters()

    @rx.event
    def set_filter_from(self, value: str) -> rx.event.EventSpec | None:
        self.filter_from = value if isinstance(value, str) else ""
        return self._apply_filters()

    @rx.event
    def set_filter_to(self, value: str) -> rx.event.EventSpec | None:
        self.filter_to = value if isinstance(value, str) else ""
        return self._apply_filters()

    def _reset_filters(self) -> None:
        self.filter_template = self.filter_provider = ALL
        self.filter_from = self.filter_to = ""

    @rx.event
    def clear_filters(self) -> rx.event.EventSpec | None:
        self._reset_filters()
        return self._apply_filters()

    @rx.event
    def open_creation(self, public_id: str) -> rx.event.EventSpec | None:
        viewer = self._viewer()
        if viewer is None:
            return None
        view = creations.get_creation(viewer, public_id)
        if view is None:
            return rx.toast.error("That image is not available any more.")
        self.selected = view
        self.selected_request_note = creations.request_note(view)
        self.selected_post_id = community.post_of_creation(viewer, public_id)
        self.publishing = False
        self.publish_error = ""
        self.viewing = True
        return None

    @rx.event
    def start_publishing(self) -> None:
        viewer = self._viewer()
        if viewer is None:
            return
        self.needs_display_name = not profiles.profile_of(viewer.id).display_name
        self.publish_error = ""
        self.publishing = True

    @rx.event
    def cancel_publishing(self) -> None:
        self.publishing = False

    @rx.event
    async def publish_selected(self, form_data: dict) -> rx.event.EventSpec | None:
        viewer = await asyncio.to_thread(self._viewer)
        if viewer is None:
            return None
        try:
            post_id = await asyncio.to_thread(
                community.publish,
                viewer,
                self.selected.public_id,
                title=form_data.get("post_title"),
                caption=form_data.get("post_caption"),
                show_prompt=form_data.get("show_prompt") in ("on", "true", True),
            )
        except StudioError as error:
            self.publish_error = error.message
            return None
        self.selected_post_id = post_id
        self.publishing = False
        return rx.toast.success("Published to the community.")

    @rx.event
    async def unpublish_selected(self) -> rx.event.EventSpec | None:
        viewer = await asyncio.to_thread(self._viewer)
        if viewer is None or not self.selected_post_id:
            return None
        try:
            await asyncio.to_thread(community.unpublish, viewer, self.selected_post_id)
        except StudioError as error:
            return rx.toast.error(error.message)
        self.selected_post_id = ""
        return rx.toast.success("Taken down from the community. The picture stays here.")

    @rx.event
    def set_viewing(self, is_open: bool) -> None:
        # Only closing comes from the browser; opening goes through open_creation.
        if not is_open:
            self.viewing = False

    @rx.event
    def delete_selected(self) -> rx.event.EventSpec | None:
        viewer = self._viewer()
        if viewer is None:
            return None
        public_id = self.selected.public_id
        try:
            creations.delete_creation(viewer, public_id)
        except StudioError as error:
            return rx.toast.error(error.message)
        try:
            # The page refills from the next one, so it stays a whole page.
            self._show_page(self._page_start)
        except StudioError:
            self._first_page()
        if not self.items and self._earlier_starts:
            self._show_page(self._earlier_starts[-1])
            self._earlier_starts = self._earlier_starts[:-1]
            self.page_number -= 1
        self.viewing = False
        self.selected = CreationView()
        return rx.toast.success("Image deleted.")

    @rx.event(background=True)
    async def watch_pending(self) -> None:
        """While images are still being made, refresh their tiles until they finish."""
        async with self:
            if self._watching:
                return
            self._watching = True
        try:
            for _ in range(PENDING_POLL_LIMIT):
                await asyncio.sleep(PENDING_POLL_S)
                async with self:
                    viewer = self._viewer()
                    if viewer is None or not self.has_pending:
                        return
                    updated = []
                    for item in self.items:
                        fresh = (
                            creations.get_creation(viewer, item.public_id)
                            if item.status == GenerationStatus.PENDING
                            else None
                        )
                        updated.append(fresh or item)
                    self.items = updated
                    self._refresh_credits(viewer)
        finally:
            async with self:
                self._watching = False
