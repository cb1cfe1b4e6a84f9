"""The admin tab's Moderation queue: reported posts and the decisions on them. The
rules (admins only, audited) are services/community_moderation.py's."""

from __future__ import annotations

import asyncio

import reflex as rx

from studio_app.services import community_moderation
from studio_app.services.community_moderation import QueuedPost
from studio_app.services.errors import StudioError
from studio_app.states.auth import AuthState

_DONE = {
    "hide": "Hidden from the community.",
    "restore": "Back in the community.",
    "remove": "Removed. The picture stays private to its author.",
    "stop_author": "Its author can no longer publish.",
}


class ModerationState(AuthState):
    queued: rx.Field[list[QueuedPost]] = rx.field(default_factory=list)

    async def _reload(self) -> None:
        admin = await asyncio.to_thread(self._admin)
        if admin is not None:
            self.queued = await asyncio.to_thread(community_moderation.queue, admin)

    @rx.event
    async def load(self) -> None:
        await self._reload()

    @rx.event
    async def decide(self, post_id: str, decision: str) -> rx.event.EventSpec | None:
        admin = await asyncio.to_thread(self._admin)
        if admin is None:
            return rx.toast.error("Only admins can do that.")
        try:
            await asyncio.to_thread(community_moderation.decide, admin, post_id, decision)
        except StudioError as error:
            return rx.toast.error(error.message)
        await self._reload()
        return rx.toast.success(_DONE[decision])
