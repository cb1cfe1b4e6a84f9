""" "Use this prompt" on a community post: the studio's form filled from the post, and a
PromptReuseEvent recording who took it — once per user and post, however often they
come back, so that the post's reuse count counts people."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from studio_app.models import CommunityPost, GeneratedImage, PromptReuseEvent
from studio_app.services import catalog, community_feed
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound
from studio_app.services.tiers import get_tier

# A tier whose price is more than this share of the balance is confirmed first.
MOST_OF_THE_BALANCE = 0.5


@dataclass(frozen=True)
class PromptToReuse:
    """What the studio's form gets from a post."""

    prompt: str
    template_id: int | None  # None when the template is gone or inactive
    template_name: str
    tier: str


def tier_needs_confirming(tier_id: str, available_credits: int) -> bool:
    """Whether one image of `tier_id` would spend most of what the user has."""
    return get_tier(tier_id).credits > available_credits * MOST_OF_THE_BALANCE


def _prompt_of(post_id: object) -> tuple[int, PromptToReuse]:
    with read_session() as db:
        post = community_feed.visible_post(db, post_id)
        if not post.show_prompt:
            raise InvalidInput("Its author keeps this prompt to themselves.")
        row = db.get(GeneratedImage, post.generation_id)
        if row is None:
            raise NotFound("This post is not available.")
        template_id, template_name = None, ""
        if post.template_id is not None:
            active = catalog.active_template(db, post.template_id)
            if active is not None:
                template_id, template_name = active.id, active.name
        assert post.id is not None
        return post.id, PromptToReuse(
            prompt=row.enhanced_prompt or row.prompt,
            template_id=template_id,
            template_name=template_name,
            tier=post.tier,
        )


def preview(post_id: object) -> PromptToReuse:
    """What "Use this prompt" would fill in, without recording anything."""
    return _prompt_of(post_id)[1]


def reuse(viewer: CurrentUser, post_id: object) -> PromptToReuse:
    """The post's prompt for the viewer's studio, the reuse recorded (once per person)."""
    row_id, prompt = _prompt_of(post_id)
    try:
        with write_session() as db:
            already = db.exec(
                select(PromptReuseEvent.id).where(
                    PromptReuseEvent.post_id == row_id, PromptReuseEvent.user_id == viewer.id
                )
            ).first()
            if already is None:
                db.add(PromptReuseEvent(post_id=row_id, user_id=viewer.id))
                db.flush()
                db.exec(  # type: ignore[call-overload]
                    update(CommunityPost)
                    .where(col(CommunityPost.id) == row_id)
                    .values(reuse_count=col(CommunityPost.reuse_count) + 1)
                )
    except IntegrityError:
        pass  # the same person's other request recorded it first
    return prompt
