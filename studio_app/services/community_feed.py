"""Reading the community: the feed (Newest, Top of the week, Top of all time), one post,
and the public pictures — only posts that are published by authors whose accounts are
active. Nothing here names an email or a user id: authors are their display names.

Pages are keyset pages (the cursor is the last post's sort value and id), read from the
(status, sort value, id) indexes: page 100 costs what page 1 does.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from studio_app.clock import as_utc
from studio_app.models import (
    CommunityPost,
    GeneratedImage,
    ImageCategory,
    ImageTemplate,
    PostLike,
    PostStatus,
    User,
)
from studio_app.providers.registry import get_provider
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session
from studio_app.services.errors import InvalidInput, NotFound
from studio_app.services.tiers import get_tier
from studio_app.storage import StoredObject, published_store

Sort = Literal["newest", "top_week", "top_all"]
SORTS: dict[str, str] = {
    "newest": "Newest",
    "top_week": "Top this week",
    "top_all": "Top of all time",
}
PAGE_SIZE = 24
MAX_PAGE_SIZE = 60
IMAGE_PATH = "/community-images/{public_id}"


@dataclass(frozen=True)
class PostView:
    """A post as anyone may see it."""

    public_id: str = ""
    title: str = ""
    caption: str = ""
    author: str = ""
    # The prompt when its author shows it, else "".
    prompt: str = ""
    template_name: str = ""
    category_name: str = ""
    provider_label: str = ""
    tier: str = ""
    tier_label: str = ""
    width: int = 0
    height: int = 0
    like_count: int = 0
    reuse_count: int = 0
    image_url: str = ""
    thumbnail_url: str = ""
    published_iso: str = ""
    published_label: str = ""
    # About the viewer (False signed out).
    liked: bool = False
    is_own: bool = False


@dataclass(frozen=True)
class FeedPage:
    posts: list[PostView]
    next_cursor: str  # "" on the last page


def _visible() -> ColumnElement[bool]:
    return and_(
        col(CommunityPost.status) == PostStatus.PUBLISHED.value,
        col(User.is_active).is_(True),
    )


def _columns():
    return (
        select(
            CommunityPost, User.display_name, GeneratedImage.prompt, GeneratedImage.enhanced_prompt
        )
        .join(User, col(User.id) == col(CommunityPost.user_id))
        .join(GeneratedImage, col(GeneratedImage.id) == col(CommunityPost.generation_id))
    )


@dataclass(frozen=True)
class _Names:
    """The catalog names a page of posts shows, by id."""

    templates: dict[int, str]
    categories: dict[int, str]


def _names(db: Session, posts: list[CommunityPost]) -> _Names:
    template_ids = {post.template_id for post in posts if post.template_id is not None}
    category_ids = {post.category_id for post in posts if post.category_id is not None}
    templates = db.exec(
        select(ImageTemplate.id, ImageTemplate.name).where(col(ImageTemplate.id).in_(template_ids))
    ).all()
    categories = db.exec(
        select(ImageCategory.id, ImageCategory.name).where(col(ImageCategory.id).in_(category_ids))
    ).all()
    return _Names(
        templates={i: name for i, name in templates if i is not None},
        categories={i: name for i, name in categories if i is not None},
    )


def _view(row: tuple, names: _Names, liked: set[int], viewer: CurrentUser | None) -> PostView:
    post, author, prompt, enhanced = row
    template_name = names.templates.get(post.template_id or 0, "")
    category_name = names.categories.get(post.category_id or 0, "")
    provider = get_provider(post.provider)
    image_url = IMAGE_PATH.format(public_id=post.public_id)
    published = as_utc(post.published_at)
    return PostView(
        public_id=post.public_id,
        title=post.title,
        caption=post.caption,
        author=author or "",
        prompt=(enhanced or prompt) if post.show_prompt else "",
        template_name=template_name or "",
        category_name=category_name or "",
        provider_label=provider.label if provider else post.provider,
        tier=post.tier,
        tier_label=get_tier(post.tier).label,
        width=post.width,
        height=post.height,
        like_count=post.like_count,
        reuse_count=post.reuse_count,
        image_url=image_url,
        thumbnail_url=f"{image_url}/thumbnail",
        published_iso=published.isoformat(),
        published_label=published.strftime("%d %b %Y"),
        liked=post.id in liked,
        is_own=viewer is not None and post.user_id == viewer.id,
    )


def _liked_by(db: Session, viewer: CurrentUser | None, post_ids: list[int | None]) -> set[int]:
    if viewer is None or not post_ids:
        return set()
    return set(
        db.exec(
            select(PostLike.post_id).where(
                PostLike.user_id == viewer.id, col(PostLike.post_id).in_(post_ids)
            )
        ).all()
    )


def _sort_column(sort: Sort):
    if sort == "top_week":
        return col(CommunityPost.likes_week)
    if sort == "top_all":
        return col(CommunityPost.like_count)
    return col(CommunityPost.published_at)


def _encode_cursor(sort: Sort, post: CommunityPost) -> str:
    value = (
        as_utc(post.published_at).isoformat()
        if sort == "newest"
        else str(post.likes_week if sort == "top_week" else post.like_count)
    )
    return base64.urlsafe_b64encode(f"{sort}|{value}|{post.id}".encode()).decode()


def _decode_cursor(sort: Sort, cursor: str) -> tuple[object, int]:
    bad = InvalidInput(
        "That page link is not valid any more. Start from the first page.", field="cursor"
    )
    try:
        named, value, post_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        if named != sort:
            raise bad
        key: object = datetime.fromisoformat(value) if sort == "newest" else int(value)
        return key, int(post_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None


def feed(
    *,
    sort: str = "newest",
    category_id: int | None = None,
    template_id: int | None = None,
    cursor: str = "",
    limit: int = PAGE_SIZE,
    viewer: CurrentUser | None = None,
) -> FeedPage:
    """One page of the feed, newest or most liked first."""
    if sort not in SORTS:
        raise InvalidInput("Sort by newest, top this week or top of all time.", field="sort")
    order: Sort = sort  # type: ignore[assignment]
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    column = _sort_column(order)
    query = _columns().where(_visible())
    if category_id is not None:
        query = query.where(CommunityPost.category_id == category_id)
    if template_id is not None:
        query = query.where(CommunityPost.template_id == template_id)
    if cursor:
        key, after_id = _decode_cursor(order, cursor)
        query = query.where(
            or_(column < key, and_(column == key, col(CommunityPost.id) < after_id))
        )
    query = query.order_by(column.desc(), col(CommunityPost.id).desc()).limit(limit + 1)
    with read_session() as db:
        rows = list(db.exec(query).all())
        more = len(rows) > limit
        rows = rows[:limit]
        liked = _liked_by(db, viewer, [row[0].id for row in rows])
        names = _names(db, [row[0] for row in rows])
    posts = [_view(row, names, liked, viewer) for row in rows]
    next_cursor = _encode_cursor(order, rows[-1][0]) if more and rows else ""
    return FeedPage(posts=posts, next_cursor=next_cursor)


def post(public_id: object, viewer: CurrentUser | None = None) -> PostView | None:
    """One visible post, else None (never published, taken down, hidden, author disabled)."""
    if not isinstance(public_id, str) or len(public_id) > 64:
        return None
    with read_session() as db:
        row = db.exec(_columns().where(CommunityPost.public_id == public_id, _visible())).first()
        if row is None:
            return None
        return _view(row, _names(db, [row[0]]), _liked_by(db, viewer, [row[0].id]), viewer)


def visible_post(db: Session, public_id: object) -> CommunityPost:
    """A published post of an active author, else NotFound."""
    post = None
    if isinstance(public_id, str):
        post = db.exec(
            select(CommunityPost)
            .join(User, col(User.id) == col(CommunityPost.user_id))
            .where(CommunityPost.public_id == public_id, _visible())
        ).first()
    if post is None:
        raise NotFound("This post is not available.")
    return post


def open_public_image(public_id: object, *, thumbnail: bool) -> StoredObject | None:
    """A visible post's public picture (or thumbnail), else None."""
    if not isinstance(public_id, str) or len(public_id) > 64:
        return None
    with read_session() as db:
        found = db.exec(
            select(CommunityPost.image_key, CommunityPost.thumbnail_key)
            .join(User, col(User.id) == col(CommunityPost.user_id))
            .where(CommunityPost.public_id == public_id, _visible())
        ).first()
    if found is None:
        return None
    return published_store().open(found[1] if thumbnail else found[0])
