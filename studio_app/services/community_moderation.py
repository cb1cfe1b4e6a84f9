"""Reports and moderation: signed-in people report a post (a reason from a fixed list,
optional words, once per post); at REPORTS_TO_HIDE distinct reporters the post is hidden
until an admin decides. Admins see the queue and hide, restore or remove a post, or stop
its author from publishing; each decision is in the audit log. An author never learns
who reported them: nothing here names a reporter outside the admin queue's counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from studio_app.models import CommunityPost, GeneratedImage, PostReport, PostStatus, User
from studio_app.services import audit, community, community_feed
from studio_app.services.admin_guard import require_admin
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound
from studio_app.services.validation import clean_text
from studio_app.settings import get_settings

REASONS = {
    "spam": "Spam or advertising",
    "sexual": "Sexual content",
    "violence": "Violence or gore",
    "hate": "Hate or harassment",
    "stolen": "Someone else's work",
    "other": "Something else",
}
DECISIONS = ("hide", "restore", "remove", "stop_author")
MAX_DETAILS_CHARS = 500
QUEUE_SIZE = 100


def reports_to_hide() -> int:
    return get_settings().reports_to_hide


def report(viewer: CurrentUser, post_id: object, reason: object, details: object = "") -> bool:
    """Report a visible post; True when this report hid it (the threshold was reached)."""
    if not isinstance(reason, str) or reason not in REASONS:
        raise InvalidInput("Choose why you report this post.", field="reason")
    words = clean_text(
        details, field="details", label="details", limit=MAX_DETAILS_CHARS, required=False
    )
    already = InvalidInput("You reported this post already: a moderator will look at it.")
    try:
        with write_session() as db:
            post = community_feed.visible_post(db, post_id)
            if post.user_id == viewer.id:
                raise InvalidInput("This is your own post: take it down instead.")
            found = db.exec(
                select(PostReport.id).where(
                    PostReport.post_id == post.id, PostReport.reporter_id == viewer.id
                )
            ).first()
            if found is not None:
                raise already
            assert post.id is not None
            db.add(PostReport(post_id=post.id, reporter_id=viewer.id, reason=reason, details=words))
            db.flush()
            reporters = db.exec(
                select(func.count()).select_from(PostReport).where(PostReport.post_id == post.id)
            ).one()
            if reporters >= reports_to_hide():
                post.status = PostStatus.HIDDEN.value
                db.add(post)
                return True
            return False
    except IntegrityError:
        raise already from None


@dataclass(frozen=True)
class QueuedPost:
    """A reported post, as the moderation queue shows it."""

    public_id: str
    title: str
    author: str
    status: str
    report_count: int
    # "Spam or advertising ×2", most given first.
    reasons: list[str] = field(default_factory=list)
    # What reporters wrote (without who wrote it).
    details: list[str] = field(default_factory=list)
    # The picture through the admin's own image route (hidden posts are not public).
    thumbnail_url: str = ""
    author_can_publish: bool = True


def queue(admin: object) -> list[QueuedPost]:
    """Reported posts that are not removed, the most reported first."""
    require_admin(admin)
    with read_session() as db:
        counted = (
            select(PostReport.post_id, func.count().label("reports"))
            .group_by(col(PostReport.post_id))
            .subquery()
        )
        rows = db.exec(
            select(CommunityPost, counted.c.reports)
            .join(counted, counted.c.post_id == col(CommunityPost.id))
            .where(col(CommunityPost.status) != PostStatus.REMOVED.value)
            .order_by(counted.c.reports.desc(), col(CommunityPost.id).desc())
            .limit(QUEUE_SIZE)
        ).all()
        authors = {
            user_id: (name or "", can_publish)
            for user_id, name, can_publish in db.exec(
                select(User.id, User.display_name, User.can_publish).where(
                    col(User.id).in_({post.user_id for post, _ in rows})
                )
            ).all()
        }
        creation_ids = dict(
            db.exec(
                select(GeneratedImage.id, GeneratedImage.public_id).where(
                    col(GeneratedImage.id).in_({post.generation_id for post, _ in rows})
                )
            ).all()
        )
        ids = [row[0].id for row in rows]
        reports = db.exec(
            select(PostReport.post_id, PostReport.reason, PostReport.details).where(
                col(PostReport.post_id).in_(ids)
            )
        ).all()
    reasons: dict[int, Counter[str]] = {}
    details: dict[int, list[str]] = {}
    for post_id, reason, text in reports:
        reasons.setdefault(post_id, Counter())[REASONS.get(reason, reason)] += 1
        if text:
            details.setdefault(post_id, []).append(text)
    return [
        QueuedPost(
            public_id=post.public_id,
            title=post.title,
            author=authors.get(post.user_id, ("", True))[0],
            status=post.status,
            report_count=count,
            reasons=[
                f"{label} ×{n}" for label, n in reasons.get(post.id or 0, Counter()).most_common()
            ],
            details=details.get(post.id or 0, []),
            thumbnail_url=f"/images/{creation_ids.get(post.generation_id, '')}/thumbnail",
            author_can_publish=authors.get(post.user_id, ("", True))[1],
        )
        for post, count in rows
    ]


def decide(admin: object, post_id: object, decision: object) -> None:
    """An admin's decision on a post: hide, restore, remove (gone for good; the creation
    stays its owner's) or stop_author (no more publishing). Audited."""
    actor = require_admin(admin)
    if decision not in DECISIONS:
        raise InvalidInput("Hide, restore, remove, or stop the author.", field="decision")
    gone: tuple[str, ...] = ()
    with write_session() as db:
        post = None
        if isinstance(post_id, str):
            post = db.exec(select(CommunityPost).where(CommunityPost.public_id == post_id)).first()
        if post is None or post.status == PostStatus.REMOVED.value:
            raise NotFound("No such post.")
        before = {"status": post.status}
        target = f"post {post.public_id} ({post.title})"
        if decision == "stop_author":
            author = db.get(User, post.user_id)
            assert author is not None
            audit.record(
                db, actor.id, "community.stop_author", target,
                before={"can_publish": author.can_publish}, after={"can_publish": False},
            )  # fmt: skip
            author.can_publish = False
            db.add(author)
            return
        post.status = {
            "hide": PostStatus.HIDDEN.value,
            "restore": PostStatus.PUBLISHED.value,
            "remove": PostStatus.REMOVED.value,
        }[str(decision)]
        if decision == "remove":
            gone = (post.image_key, post.thumbnail_key)
        db.add(post)
        audit.record(
            db,
            actor.id,
            f"community.{decision}",
            target,
            before=before,
            after={"status": post.status},
        )
    community.delete_objects(gone)
