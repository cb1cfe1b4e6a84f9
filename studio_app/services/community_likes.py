"""Likes: one per user per post, toggled. The post's counts move in the same transaction
as the like row, by one, in the database (`like_count = like_count + 1`), so that many
people liking at once are all counted; the unique (post, user) pair makes a repeated
like a no-op rather than a second one.

`likes_week` counts the likes of the last 7 days: it grows with each like and shrinks as
likes age (`refresh_week_counts`, from housekeeping).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from studio_app.clock import as_utc, utcnow
from studio_app.models import CommunityPost, PostLike
from studio_app.services import community_feed, maintenance
from studio_app.services.auth import CurrentUser
from studio_app.services.db import write_session

WEEK = timedelta(days=7)


def _count(db: Session, post_id: int) -> int:
    return db.exec(select(CommunityPost.like_count).where(CommunityPost.id == post_id)).one()


def set_liked(viewer: CurrentUser, post_id: object, liked: bool) -> int:
    """Like or unlike a visible post (doing it twice is doing it once); its like count."""
    try:
        with write_session() as db:
            post = community_feed.visible_post(db, post_id)
            assert post.id is not None
            existing = db.exec(
                select(PostLike).where(PostLike.post_id == post.id, PostLike.user_id == viewer.id)
            ).first()
            if liked and existing is None:
                db.add(PostLike(post_id=post.id, user_id=viewer.id))
                db.flush()
                _move_counts(db, post.id, +1, this_week=True)
            elif not liked and existing is not None:
                recent = as_utc(existing.created_at) >= utcnow() - WEEK
                db.delete(existing)
                db.flush()
                _move_counts(db, post.id, -1, this_week=recent)
            return _count(db, post.id)
    except IntegrityError:
        # The same person's other request liked it first: one like, as asked.
        with write_session() as db:
            return _count(db, community_feed.visible_post(db, post_id).id or 0)


def _move_counts(db: Session, post_id: int, step: int, *, this_week: bool) -> None:
    values: dict = {"like_count": col(CommunityPost.like_count) + step}
    if this_week:
        values["likes_week"] = col(CommunityPost.likes_week) + step
    db.exec(update(CommunityPost).where(col(CommunityPost.id) == post_id).values(**values))  # type: ignore[call-overload]


REFRESH_EVERY = timedelta(minutes=10)


def refresh_week_counts_if_due() -> int:
    """Housekeeping: `refresh_week_counts` once every REFRESH_EVERY across processes."""
    if not maintenance.claim(maintenance.WEEK_LIKES, REFRESH_EVERY):
        return 0
    return refresh_week_counts()


def refresh_week_counts(now: datetime | None = None) -> int:
    """Set `likes_week` again for the posts whose likes may have aged past 7 days (liked
    between 8 and 7 days ago, and any whose count is not 0 without a like this week).
    How many posts changed."""
    now = now or utcnow()
    since = now - WEEK
    with write_session() as db:
        recent = (
            select(func.count())
            .select_from(PostLike)
            .where(
                col(PostLike.post_id) == col(CommunityPost.id), col(PostLike.created_at) >= since
            )
            .scalar_subquery()
        )
        aged = select(PostLike.post_id).where(
            col(PostLike.created_at) < since, col(PostLike.created_at) >= since - timedelta(days=1)
        )
        changed = db.exec(  # type: ignore[call-overload]
            update(CommunityPost)
            .where(
                (col(CommunityPost.id).in_(aged)) | (col(CommunityPost.likes_week) > 0),
                col(CommunityPost.likes_week) != recent,
            )
            .values(likes_week=recent)
            .execution_options(synchronize_session=False)
        )
        return changed.rowcount or 0
