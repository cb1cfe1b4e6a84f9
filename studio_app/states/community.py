"""The community pages' states: the feed (`CommunityState`) and one post's page
(`PostPageState`). Both are public: a visitor who is not signed in reads them, and is
sent to sign in only to like."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import reflex as rx

from studio_app.routes import COMMUNITY, LOGIN, STUDIO
from studio_app.services import (
    community_feed,
    community_likes,
    community_moderation,
    community_reuse,
    ledger,
)
from studio_app.services.community_feed import SORTS, PostView
from studio_app.services.errors import StudioError
from studio_app.services.tiers import get_tier
from studio_app.states.auth import AuthState
from studio_app.tiers import DEFAULT_TIER

SORT_CHOICES = list(SORTS.items())


def _sign_in_first(path: str) -> rx.event.EventSpec:
    return rx.redirect(f"{LOGIN}?next={path}")


class CommunityState(AuthState):
    posts: rx.Field[list[PostView]] = rx.field(default_factory=list)
    sort: str = "newest"
    loaded: bool = False
    loading_more: bool = False
    # The page after the last one shown ("" when there is none): a server-side cursor.
    _next_cursor: str = ""
    has_more: bool = False

    async def _read(self, *, more: bool) -> None:
        viewer = await asyncio.to_thread(self._viewer)
        page = await asyncio.to_thread(
            community_feed.feed,
            sort=self.sort,
            cursor=self._next_cursor if more else "",
            viewer=viewer,
        )
        self.posts = [*self.posts, *page.posts] if more else page.posts
        self._next_cursor = page.next_cursor
        self.has_more = bool(page.next_cursor)
        self.loaded = True

    @rx.event
    async def load_feed(self) -> None:
        await self._read(more=False)

    @rx.event
    async def choose_sort(self, sort: str | list[str]) -> None:
        # The segmented control sends a list when it allows several choices; ours does not.
        if isinstance(sort, str) and sort in SORTS and sort != self.sort:
            self.sort = sort
            await self._read(more=False)

    @rx.event
    async def load_more(self) -> AsyncIterator[None]:
        if self._next_cursor:
            self.loading_more = True
            yield
            try:
                await self._read(more=True)
            finally:
                self.loading_more = False

    @rx.event
    async def toggle_like(self, public_id: str) -> AsyncIterator[rx.event.EventSpec]:
        viewer = await asyncio.to_thread(self._viewer)
        if viewer is None:
            yield _sign_in_first(COMMUNITY)
            return
        shown = next((post for post in self.posts if post.public_id == public_id), None)
        if shown is None:
            return
        try:
            count = await asyncio.to_thread(
                community_likes.set_liked, viewer, public_id, not shown.liked
            )
        except StudioError as error:
            yield rx.toast.error(error.message)
            return
        self.posts = [
            _with_like(post, not shown.liked, count) if post.public_id == public_id else post
            for post in self.posts
        ]


def _with_like(post: PostView, liked: bool, count: int) -> PostView:
    return replace(post, liked=liked, like_count=count)


class PostPageState(AuthState):
    post: rx.Field[PostView] = rx.field(default_factory=PostView)
    unavailable: bool = False
    # "Use this prompt" with a size that would spend most of the balance: asked first.
    confirming_tier: bool = False
    tier_question: str = ""
    # The report form.
    reporting: bool = False
    report_error: str = ""

    def _post_id(self) -> str:
        found = self.router.page.params.get("post_id", "")
        return found if isinstance(found, str) else ""

    @rx.event
    async def load_post(self) -> None:
        viewer = await asyncio.to_thread(self._viewer)
        found = await asyncio.to_thread(community_feed.post, self._post_id(), viewer)
        self.post = found or PostView()
        self.unavailable = found is None

    def _studio_with_post(self, tier: str = "") -> rx.event.EventSpec:
        query = f"?post={self.post.public_id}" + (f"&tier={tier}" if tier else "")
        return rx.redirect(f"{STUDIO}{query}")

    @rx.event
    async def use_prompt(self) -> rx.event.EventSpec | None:
        viewer = await asyncio.to_thread(self._viewer)
        if viewer is None:
            return _sign_in_first(f"{COMMUNITY}/{self.post.public_id}")
        if not self.post.public_id or not self.post.prompt:
            return None
        credits = await asyncio.to_thread(ledger.credit_summary, viewer.id)
        if community_reuse.tier_needs_confirming(self.post.tier, credits.available):
            tier = get_tier(self.post.tier)
            self.tier_question = (
                f"This picture is {tier.label} ({tier.size_label}): {tier.credits} credits an "
                f"image, and you have {credits.available}."
            )
            self.confirming_tier = True
            return None
        return self._studio_with_post()

    @rx.event
    def use_prompt_at(self, tier: str) -> rx.event.EventSpec | None:
        self.confirming_tier = False
        return self._studio_with_post("" if tier == self.post.tier else DEFAULT_TIER)

    @rx.event
    async def open_report(self) -> rx.event.EventSpec | None:
        if await asyncio.to_thread(self._viewer) is None:
            return _sign_in_first(f"{COMMUNITY}/{self.post.public_id}")
        self.report_error = ""
        self.reporting = True
        return None

    @rx.event
    def set_reporting(self, is_open: bool) -> None:
        if not is_open:
            self.reporting = False

    @rx.event
    async def send_report(self, form_data: dict) -> rx.event.EventSpec | None:
        viewer = await asyncio.to_thread(self._viewer)
        if viewer is None:
            return _sign_in_first(f"{COMMUNITY}/{self.post.public_id}")
        try:
            await asyncio.to_thread(
                community_moderation.report,
                viewer,
                self.post.public_id,
                form_data.get("reason"),
                form_data.get("details", ""),
            )
        except StudioError as error:
            self.report_error = error.message
            return None
        self.reporting = False
        return rx.toast.success("Thank you. A moderator will look at it.")

    @rx.event
    def set_confirming_tier(self, is_open: bool) -> None:
        if not is_open:
            self.confirming_tier = False

    @rx.event
    async def toggle_like(self) -> AsyncIterator[rx.event.EventSpec]:
        viewer = await asyncio.to_thread(self._viewer)
        if viewer is None:
            yield _sign_in_first(f"{COMMUNITY}/{self.post.public_id}")
            return
        if not self.post.public_id:
            return
        try:
            count = await asyncio.to_thread(
                community_likes.set_liked, viewer, self.post.public_id, not self.post.liked
            )
        except StudioError as error:
            yield rx.toast.error(error.message)
            return
        self.post = _with_like(self.post, not self.post.liked, count)
