"""Publishing creations to the community: publish, edit, unpublish, and what deleting a
creation does to its post.

A post's picture is a public copy made when it is published — the original re-encoded
without any metadata, and a thumbnail — kept in the published store, never the private
original. Only a published post of an active author is shown (community_feed.py).
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

from PIL import Image
from sqlmodel import Session, col, delete, select

from studio_app.clock import utcnow
from studio_app.models import (
    CommunityPost,
    GeneratedImage,
    GenerationStatus,
    ImageTemplate,
    PostLike,
    PostReport,
    PostStatus,
    PromptReuseEvent,
    User,
)
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound, PermissionDenied
from studio_app.services.validation import clean_text
from studio_app.storage import StorageError, image_store, keys, published_store

MAX_TITLE_CHARS = 80
MAX_CAPTION_CHARS = 500
POST_ID_LENGTH = 24
THUMBNAIL_BOX = (512, 512)
_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


class PublishingStopped(PermissionDenied):
    code = "publishing_stopped"


@dataclass(frozen=True)
class PostChange:
    """What an author may change on a post (None: leave as it is)."""

    title: str | None = None
    caption: str | None = None
    show_prompt: bool | None = None


def _clean_title(title: object) -> str:
    return clean_text(title, field="title", label="title", limit=MAX_TITLE_CHARS, required=True)


def _clean_caption(caption: object) -> str:
    return clean_text(
        caption, field="caption", label="caption", limit=MAX_CAPTION_CHARS, required=False
    )


def _show_prompt(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("Say whether to show the prompt.", field="show_prompt")
    return value


def _public_copy(image_key: str) -> tuple[bytes, str, bytes, int, int]:
    """(copy, its extension, WebP thumbnail, width, height) of a private original: decoded
    and encoded again, so nothing but the pixels goes public."""
    stored = image_store().open(image_key)
    if stored is None:
        raise StorageError(f"the original {image_key} is missing")
    with Image.open(io.BytesIO(stored.read())) as original:
        extension = _FORMATS.get(original.format or "", "png")
        picture = original.convert("RGB")
    copy = io.BytesIO()
    if extension == "jpg":
        picture.save(copy, "JPEG", quality=92)
    elif extension == "webp":
        picture.save(copy, "WEBP", quality=92)
    else:
        picture.save(copy, "PNG", compress_level=6)
    thumb = picture.copy()
    thumb.thumbnail(THUMBNAIL_BOX, reducing_gap=2.0)
    thumbnail = io.BytesIO()
    thumb.save(thumbnail, "WEBP", quality=82)
    return copy.getvalue(), extension, thumbnail.getvalue(), picture.width, picture.height


def _publishable(db: Session, viewer: CurrentUser, creation_id: object) -> GeneratedImage:
    row = None
    if isinstance(creation_id, str):
        row = db.exec(
            select(GeneratedImage).where(
                GeneratedImage.public_id == creation_id,
                GeneratedImage.user_id == viewer.id,
                col(GeneratedImage.deleted_at).is_(None),
            )
        ).first()
    if row is None:
        raise NotFound("No such image.")
    if row.status != GenerationStatus.SUCCEEDED.value or row.image_key is None:
        raise InvalidInput("Only a finished image can be published.")
    user = db.get(User, viewer.id)
    if user is None or not user.display_name:
        raise InvalidInput(
            "Choose a display name on your Account page first: it is shown on what you "
            "publish (your email never is).",
            field="display_name",
        )
    if not user.can_publish:
        raise PublishingStopped("A moderator has stopped this account from publishing.")
    existing = db.exec(
        select(CommunityPost.status).where(CommunityPost.generation_id == row.id)
    ).first()
    if existing == PostStatus.REMOVED.value:
        raise InvalidInput("A moderator removed this picture from the community.")
    if existing is not None:
        raise InvalidInput("This picture is published already: edit its post instead.")
    return row


def publish(
    viewer: CurrentUser, creation_id: object, *, title: object, caption: object, show_prompt: object
) -> str:
    """Publish one of the viewer's finished creations; the new post's public id.
    Storage work: call it off the event loop."""
    clean_title, clean_caption = _clean_title(title), _clean_caption(caption)
    shows_prompt = _show_prompt(show_prompt)
    with read_session() as db:
        row = _publishable(db, viewer, creation_id)
    assert row.image_key is not None
    data, extension, thumbnail, width, height = _public_copy(row.image_key)
    image_key, thumbnail_key = keys.new_published_keys(extension)
    store = published_store()
    store.put(image_key, data, keys.content_type_of(image_key))
    try:
        store.put(thumbnail_key, thumbnail, keys.content_type_of(thumbnail_key))
        with write_session() as db:
            # Checked again under the write lock: two publishes of one picture make one post.
            row = _publishable(db, viewer, creation_id)
            assert row.id is not None
            category_id = None
            if row.template_id is not None:
                template = db.get(ImageTemplate, row.template_id)
                category_id = template.category_id if template else None
            post = CommunityPost(
                public_id=secrets.token_hex(POST_ID_LENGTH // 2),
                generation_id=row.id,
                user_id=viewer.id,
                title=clean_title,
                caption=clean_caption,
                show_prompt=shows_prompt,
                category_id=category_id,
                template_id=row.template_id,
                provider=row.provider,
                tier=row.tier,
                width=width,
                height=height,
                image_key=image_key,
                thumbnail_key=thumbnail_key,
            )
            db.add(post)
            db.flush()
            return post.public_id
    except BaseException:
        store.delete(image_key)
        store.delete(thumbnail_key)
        raise


def _own_post(db: Session, viewer: CurrentUser, post_id: object) -> CommunityPost:
    post = None
    if isinstance(post_id, str):
        post = db.exec(select(CommunityPost).where(CommunityPost.public_id == post_id)).first()
    if post is None or post.user_id != viewer.id or post.status == PostStatus.REMOVED.value:
        raise NotFound("No such post.")
    return post


def edit_post(viewer: CurrentUser, post_id: object, change: PostChange) -> None:
    """Change the title, caption or whether the prompt shows, on the viewer's own post."""
    title = None if change.title is None else _clean_title(change.title)
    caption = None if change.caption is None else _clean_caption(change.caption)
    show = None if change.show_prompt is None else _show_prompt(change.show_prompt)
    with write_session() as db:
        post = _own_post(db, viewer, post_id)
        post.title = post.title if title is None else title
        post.caption = post.caption if caption is None else caption
        post.show_prompt = post.show_prompt if show is None else show
        post.updated_at = utcnow()
        db.add(post)


def _drop_post(db: Session, post: CommunityPost) -> tuple[str, str]:
    """Delete a post and what hangs on it, in the caller's transaction; its objects'
    keys, for the caller to delete once the transaction is over."""
    for table in (PostLike, PostReport, PromptReuseEvent):
        db.exec(delete(table).where(col(table.post_id) == post.id))  # type: ignore[arg-type]
    db.delete(post)
    return post.image_key, post.thumbnail_key


def delete_objects(object_keys: tuple[str, ...]) -> None:
    store = published_store()
    for key in object_keys:
        store.delete(key)


def unpublish(viewer: CurrentUser, post_id: object) -> None:
    """Take the viewer's post down: its likes and reuses go with it, its public copy is
    deleted; the creation stays in My Creations."""
    with write_session() as db:
        post = _own_post(db, viewer, post_id)
        if post.status == PostStatus.HIDDEN.value:
            # Reported and waiting for a moderator: the reports must stay for them.
            raise InvalidInput("This post is waiting for a moderator; it cannot be taken down now.")
        gone = _drop_post(db, post)
    delete_objects(gone)


def drop_post_of_creation(db: Session, generation_id: int | None) -> tuple[str, ...]:
    """In the caller's transaction (a creation being deleted): its post goes too. The
    public objects' keys, to delete after the transaction."""
    post = db.exec(
        select(CommunityPost).where(CommunityPost.generation_id == generation_id)
    ).first()
    return () if post is None else _drop_post(db, post)


def post_of_creation(viewer: CurrentUser, creation_id: str) -> str:
    """The public id of the viewer's post of this creation ("" when not published)."""
    with read_session() as db:
        found = db.exec(
            select(CommunityPost.public_id, CommunityPost.status)
            .join(GeneratedImage, col(GeneratedImage.id) == col(CommunityPost.generation_id))
            .where(GeneratedImage.public_id == creation_id, GeneratedImage.user_id == viewer.id)
        ).first()
    if found is None or found[1] == PostStatus.REMOVED.value:
        return ""
    return found[0]


def published_keys(db: Session) -> set[str]:
    """Every object the published store should hold (the store scan keeps these)."""
    rows = db.exec(
        select(CommunityPost.image_key, CommunityPost.thumbnail_key).where(
            CommunityPost.status != PostStatus.REMOVED.value
        )
    ).all()
    return {key for pair in rows for key in pair}
