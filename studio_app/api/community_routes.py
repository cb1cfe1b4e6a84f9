"""The community over HTTP: the feed and posts (readable without a token), publishing
your creations, likes; and the public pictures of posts. The rules are
services/community*.py's."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from studio_app.api import schemas
from studio_app.api.callers import OPTIONAL_TOKEN, AdminCaller, Caller, optional_caller
from studio_app.api.errors import not_found, responses
from studio_app.api.stored_files import stored_response
from studio_app.services import (
    community,
    community_feed,
    community_likes,
    community_moderation,
    community_reuse,
)
from studio_app.services.auth import CurrentUser
from studio_app.services.community_feed import PostView
from studio_app.settings import get_settings

router = APIRouter(prefix="/api/community", tags=["community"])
pictures = APIRouter()

PostId = Annotated[str, Path(pattern=schemas.CREATION_ID_PATTERN, description="A post's `id`")]
MaybeCaller = Annotated[CurrentUser | None, Depends(optional_caller)]
# Public, but briefly: a post hidden or taken down stops being served within a minute
# by any cache that kept it.
PUBLIC_PICTURE_HEADERS = {"Cache-Control": "public, max-age=60"}
PAGE_PATH = "/community/{public_id}"


def _post(view: PostView) -> schemas.Post:
    return schemas.Post(
        id=view.public_id,
        title=view.title,
        caption=view.caption,
        author=view.author,
        prompt=view.prompt or None,
        template_name=view.template_name or None,
        category_name=view.category_name or None,
        provider=view.provider_label,
        tier=view.tier_label,
        width=view.width,
        height=view.height,
        like_count=view.like_count,
        reuse_count=view.reuse_count,
        image_url=view.image_url,
        thumbnail_url=view.thumbnail_url,
        page_url=f"{get_settings().public_url}{PAGE_PATH.format(public_id=view.public_id)}",
        published_at=view.published_iso,
        liked=view.liked,
        is_own=view.is_own,
    )


def _visible(public_id: str, viewer: CurrentUser | None) -> schemas.Post:
    view = community_feed.post(public_id, viewer)
    if view is None:
        raise not_found("post")
    return _post(view)


@router.get("/posts", responses=responses(401, 422), openapi_extra=OPTIONAL_TOKEN)
def list_posts(
    viewer: MaybeCaller,
    sort: Annotated[schemas.FeedSort, Query(description="newest, top_week or top_all")] = "newest",
    category_id: Annotated[schemas.RowId | None, Query()] = None,
    template_id: Annotated[schemas.RowId | None, Query()] = None,
    limit: int = Query(default=community_feed.PAGE_SIZE, ge=1, le=community_feed.MAX_PAGE_SIZE),
    cursor: str | None = Query(default=None, pattern=schemas.POST_CURSOR_PATTERN),
) -> schemas.PostPage:
    """The community's posts: newest first, or most liked this week or of all time."""
    page = community_feed.feed(
        sort=sort,
        category_id=category_id,
        template_id=template_id,
        cursor=cursor or "",
        limit=limit,
        viewer=viewer,
    )
    return schemas.PostPage(
        items=[_post(view) for view in page.posts], next_cursor=page.next_cursor or None
    )


@router.get("/posts/{post_id}", responses=responses(401, 404, 422), openapi_extra=OPTIONAL_TOKEN)
def read_post(viewer: MaybeCaller, post_id: PostId) -> schemas.Post:
    """One post (404 once it is taken down, hidden or its author's account disabled)."""
    return _visible(post_id, viewer)


@router.post("/posts", status_code=201, responses=responses(401, 403, 404, 422))
async def publish(viewer: Caller, body: schemas.PublishRequest) -> schemas.Post:
    """Publish one of your finished creations: a public copy of its picture is made (no
    metadata); your display name is shown with it, never your email."""
    post_id = await asyncio.to_thread(
        community.publish,
        viewer,
        body.creation_id,
        title=body.title,
        caption=body.caption,
        show_prompt=body.show_prompt,
    )
    return await asyncio.to_thread(_visible, post_id, viewer)


@router.patch("/posts/{post_id}", responses=responses(401, 404, 422))
def change_post(viewer: Caller, post_id: PostId, body: schemas.PostChangeRequest) -> schemas.Post:
    """Change your post's title, caption or whether its prompt shows."""
    change = community.PostChange(
        title=body.title, caption=body.caption, show_prompt=body.show_prompt
    )
    community.edit_post(viewer, post_id, change)
    return _visible(post_id, viewer)


@router.delete("/posts/{post_id}", status_code=204, responses=responses(401, 404, 422))
def unpublish(viewer: Caller, post_id: PostId) -> Response:
    """Take your post down: its public picture goes; the creation stays yours."""
    community.unpublish(viewer, post_id)
    return Response(status_code=204)


@router.put("/posts/{post_id}/like", responses=responses(401, 404, 422))
def like(viewer: Caller, post_id: PostId) -> schemas.LikeState:
    """Like a post (liking it again changes nothing)."""
    return schemas.LikeState(
        liked=True, like_count=community_likes.set_liked(viewer, post_id, True)
    )


@router.delete("/posts/{post_id}/like", responses=responses(401, 404, 422))
def unlike(viewer: Caller, post_id: PostId) -> schemas.LikeState:
    """Take your like back."""
    return schemas.LikeState(
        liked=False, like_count=community_likes.set_liked(viewer, post_id, False)
    )


@router.post("/posts/{post_id}/reuse", responses=responses(401, 404, 422))
def reuse_prompt(viewer: Caller, post_id: PostId) -> schemas.PromptToReuse:
    """ "Use this prompt": what to generate with (POST it to /api/studio/generate, with a
    `tier` you choose); counted once per person on the post."""
    taken = community_reuse.reuse(viewer, post_id)
    return schemas.PromptToReuse(
        prompt=taken.prompt, template_id=taken.template_id, tier=taken.tier
    )


@router.post("/posts/{post_id}/reports", status_code=201, responses=responses(401, 404, 422))
def report_post(
    viewer: Caller, post_id: PostId, body: schemas.ReportRequest
) -> schemas.ReportAccepted:
    """Report a post to the moderators, once; its author never learns who reported it."""
    hidden = community_moderation.report(viewer, post_id, body.reason, body.details)
    return schemas.ReportAccepted(hidden=hidden)


@router.get("/moderation", responses=responses(401, 403))
def moderation_queue(admin: AdminCaller) -> schemas.ModerationQueue:
    """Admins: the reported posts, the most reported first."""
    return schemas.ModerationQueue(
        items=[
            schemas.QueuedPost(
                id=item.public_id,
                title=item.title,
                author=item.author,
                status=item.status,  # type: ignore[arg-type]
                report_count=item.report_count,
                reasons=item.reasons,
                details=item.details,
                thumbnail_url=item.thumbnail_url,
                author_can_publish=item.author_can_publish,
            )
            for item in community_moderation.queue(admin)
        ]
    )


@router.post("/moderation/{post_id}", status_code=204, responses=responses(401, 403, 404, 422))
def decide(admin: AdminCaller, post_id: PostId, body: schemas.ModerationDecision) -> Response:
    """Admins: hide, restore or remove a post, or stop its author from publishing."""
    community_moderation.decide(admin, post_id, body.decision)
    return Response(status_code=204)


def _picture(request: Request, public_id: str, *, thumbnail: bool) -> Response:
    stored = community_feed.open_public_image(public_id, thumbnail=thumbnail)
    if stored is None:
        return JSONResponse(
            {"code": "not_found", "message": "This post is not available."}, status_code=404
        )
    return stored_response(request, stored, PUBLIC_PICTURE_HEADERS)


@pictures.get("/community-images/{public_id}", response_model=None)
def post_picture(request: Request, public_id: str) -> Response:
    return _picture(request, public_id, thumbnail=False)


@pictures.get("/community-images/{public_id}/thumbnail", response_model=None)
def post_thumbnail(request: Request, public_id: str) -> Response:
    return _picture(request, public_id, thumbnail=True)
