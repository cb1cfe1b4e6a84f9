"""The community's services: publishing, the feed, one post, likes."""

from __future__ import annotations

import dataclasses
import io
import threading
from datetime import timedelta

import pytest
from PIL import Image
from sqlmodel import col, select

from studio_app.clock import utcnow
from studio_app.models import AuditEntry, CommunityPost, PostLike, PromptReuseEvent, User
from studio_app.services import (
    community,
    community_feed,
    community_likes,
    community_moderation,
    community_reuse,
    creations,
    generation,
    profiles,
    reconcile,
)
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound, PermissionDenied
from studio_app.services.generation import GenerationRequest
from studio_app.settings import Settings, reload_settings
from studio_app.storage import keys, published_store
from tests import aio
from tests.factories import make_user


@pytest.fixture(autouse=True)
def _db(migrated_db: Settings) -> Settings:
    return migrated_db


_people = iter(range(1_000_000))


def _member(name: str | None = "Paper Crane", credits: int = 10) -> CurrentUser:
    n = next(_people)
    email = f"member{n}@example.com"
    viewer = CurrentUser(id=make_user(credits=credits, email=email), email=email, role="user")
    if name:
        profiles.set_display_name(viewer, f"{name} {n}")
    return viewer


def _creation(viewer: CurrentUser, prompt: str = "A lighthouse at dawn") -> str:
    ticket = generation.start(viewer.id, GenerationRequest(prompt=prompt))
    assert aio.run(generation.run(ticket)) == "succeeded"
    return ticket.public_id


def _publish(viewer: CurrentUser, title: str = "Dawn light", **fields: object) -> str:
    asked: dict[str, object] = {"title": title, "caption": "", "show_prompt": True, **fields}
    return community.publish(viewer, _creation(viewer), **asked)  # type: ignore[arg-type]


def test_a_published_creation_is_in_the_feed_with_a_public_copy_and_no_private_data() -> None:
    author = _member("Mira")
    post_id = _publish(author, "Harbour at dawn", caption="My first", show_prompt=True)

    page = community_feed.feed()
    assert [post.public_id for post in page.posts] == [post_id]
    shown = community_feed.post(post_id)
    assert shown is not None
    assert shown.title == "Harbour at dawn" and shown.author.startswith("Mira ")
    assert shown.prompt == "A lighthouse at dawn"
    everything = repr(dataclasses.asdict(shown))
    assert author.email not in everything and "member" not in everything
    assert len(post_id) == 24 and str(author.id) != post_id
    public = community_feed.open_public_image(post_id, thumbnail=False)
    assert public is not None
    with Image.open(io.BytesIO(public.read())) as picture:
        assert picture.size == (1024, 1024) and "exif" not in picture.info
    assert community_feed.open_public_image(post_id, thumbnail=True) is not None


def test_a_hidden_prompt_is_not_shown() -> None:
    post_id = _publish(_member(), show_prompt=False)
    shown = community_feed.post(post_id)
    assert shown is not None and shown.prompt == ""


def test_publishing_needs_a_display_name_an_own_finished_image_and_happens_once() -> None:
    nameless = _member(name=None)
    with pytest.raises(InvalidInput, match="display name"):
        _publish(nameless)
    author, stranger = _member(), _member()
    creation = _creation(author)
    with pytest.raises(NotFound):
        community.publish(stranger, creation, title="Mine now", caption="", show_prompt=True)
    with pytest.raises(InvalidInput, match="title"):
        community.publish(author, creation, title="  ", caption="", show_prompt=True)
    community.publish(author, creation, title="Once", caption="", show_prompt=True)
    with pytest.raises(InvalidInput, match="published already"):
        community.publish(author, creation, title="Twice", caption="", show_prompt=True)
    with read_session() as db:
        assert len(db.exec(select(CommunityPost)).all()) == 1


def test_an_author_edits_and_unpublishes_and_the_public_copy_goes() -> None:
    author = _member()
    post_id = _publish(author)
    community.edit_post(
        author, post_id, community.PostChange(title="Better title", show_prompt=False)
    )
    shown = community_feed.post(post_id)
    assert shown is not None and shown.title == "Better title" and shown.prompt == ""
    with pytest.raises(NotFound):
        community.edit_post(_member(), post_id, community.PostChange(title="Not yours"))

    objects = sorted(key for key, _ in published_store().listing())
    assert len(objects) == 2
    community.unpublish(author, post_id)
    assert community_feed.post(post_id) is None
    assert community_feed.open_public_image(post_id, thumbnail=False) is None
    assert list(published_store().listing()) == []


def test_deleting_the_creation_removes_its_post_and_likes() -> None:
    author, fan = _member(), _member()
    creation = _creation(author)
    post_id = community.publish(author, creation, title="Soon gone", caption="", show_prompt=True)
    community_likes.set_liked(fan, post_id, True)
    creations.delete_creation(author, creation)
    assert community_feed.post(post_id) is None
    assert list(published_store().listing()) == []
    with read_session() as db:
        assert db.exec(select(PostLike)).all() == []


def test_a_disabled_authors_posts_vanish() -> None:
    author = _member()
    post_id = _publish(author)
    with write_session() as db:
        user = db.get(User, author.id)
        assert user is not None
        user.is_active = False
        db.add(user)
    assert community_feed.post(post_id) is None
    assert community_feed.feed().posts == []
    assert community_feed.open_public_image(post_id, thumbnail=True) is None


def test_a_hundred_people_liking_at_once_are_each_counted_once() -> None:
    post_id = _publish(_member())
    fans = [_member(name=None, credits=0) for _ in range(100)]
    barrier = threading.Barrier(len(fans))
    errors: list[BaseException] = []

    def like(fan: CurrentUser) -> None:
        barrier.wait()
        try:
            community_likes.set_liked(fan, post_id, True)
            community_likes.set_liked(fan, post_id, True)  # a double click
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=like, args=(fan,)) for fan in fans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    shown = community_feed.post(post_id, fans[0])
    assert shown is not None and shown.like_count == 100 and shown.liked
    assert community_likes.set_liked(fans[0], post_id, False) == 99
    assert community_likes.set_liked(fans[0], post_id, False) == 99


def test_newest_and_top_pages_walk_every_post_once_in_order() -> None:
    author = _member()
    fans = [_member(name=None, credits=0) for _ in range(4)]
    post_ids = [_publish(author, f"Post {n}") for n in range(7)]
    # Post k gets k % 5 likes.
    for index, post_id in enumerate(post_ids):
        for fan in fans[: index % 5]:
            community_likes.set_liked(fan, post_id, True)

    def walk(sort: str) -> list[community_feed.PostView]:
        seen, cursor = [], ""
        while True:
            page = community_feed.feed(sort=sort, cursor=cursor, limit=3)
            seen += page.posts
            if not page.next_cursor:
                return seen
            cursor = page.next_cursor

    newest = walk("newest")
    assert [post.public_id for post in newest] == list(reversed(post_ids))
    for sort in ("top_all", "top_week"):
        top = walk(sort)
        assert sorted(p.public_id for p in top) == sorted(post_ids)
        assert [p.like_count for p in top] == sorted((p.like_count for p in top), reverse=True)
    with pytest.raises(InvalidInput):
        community_feed.feed(sort="top_all", cursor=community_feed.feed(limit=3).next_cursor)


def test_likes_older_than_a_week_leave_the_weeks_top() -> None:
    post_id = _publish(_member())
    fan = _member(name=None, credits=0)
    community_likes.set_liked(fan, post_id, True)
    assert community_likes.refresh_week_counts() == 0
    with write_session() as db:
        like = db.exec(select(PostLike)).one()
        like.created_at = utcnow() - timedelta(days=7, hours=2)
        db.add(like)
    assert community_likes.refresh_week_counts() == 1
    assert community_feed.feed(sort="top_week").posts[0].like_count == 1
    with read_session() as db:
        assert db.exec(select(CommunityPost.likes_week)).one() == 0


def test_the_store_scan_keeps_posts_pictures_and_deletes_what_no_post_names() -> None:
    post_id = _publish(_member())
    orphan, _ = keys.new_published_keys("png")
    published_store().put(orphan, b"\x89PNG leftover", "image/png")
    reconcile.reconcile(now=utcnow() + timedelta(hours=1))
    assert orphan not in [key for key, _ in published_store().listing()]
    assert community_feed.open_public_image(post_id, thumbnail=False) is not None


def test_use_this_prompt_fills_the_request_and_counts_each_person_once() -> None:
    author = _member()
    post_id = _publish(author)
    fans = [_member(name=None, credits=0) for _ in range(3)]
    for fan in fans:
        taken = community_reuse.reuse(fan, post_id)
        community_reuse.reuse(fan, post_id)  # back again: still one
    assert (taken.prompt, taken.tier) == ("A lighthouse at dawn", "standard")
    shown = community_feed.post(post_id)
    assert shown is not None and shown.reuse_count == 3
    with read_session() as db:
        assert len(db.exec(select(PromptReuseEvent)).all()) == 3


def test_a_hidden_prompt_cannot_be_reused() -> None:
    post_id = _publish(_member(), show_prompt=False)
    with pytest.raises(InvalidInput, match="keeps this prompt"):
        community_reuse.reuse(_member(name=None), post_id)


@pytest.mark.parametrize(
    ("tier", "available", "asks"),
    [
        ("standard", 5, False),
        ("premium", 5, False),
        ("premium-wide", 5, True),
        ("standard", 1, True),
    ],
)
def test_a_size_that_spends_most_of_the_balance_is_asked_about(
    tier: str, available: int, asks: bool
) -> None:
    assert community_reuse.tier_needs_confirming(tier, available) is asks


def _admin() -> CurrentUser:
    email = f"admin{next(_people)}@example.com"
    return CurrentUser(id=make_user(email=email, role="admin"), email=email, role="admin")


def test_enough_reporters_hide_a_post_and_the_admin_decides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STUDIO_REPORTS_TO_HIDE", "2")
    reload_settings()
    author = _member()
    post_id = _publish(author)
    first, second = _member(name=None), _member(name=None)
    with pytest.raises(InvalidInput, match="your own post"):
        community_moderation.report(author, post_id, "spam")
    with pytest.raises(InvalidInput, match="why"):
        community_moderation.report(first, post_id, "boring")
    assert community_moderation.report(first, post_id, "spam", "Ads for shoes") is False
    with pytest.raises(InvalidInput, match="already"):
        community_moderation.report(first, post_id, "hate")
    assert community_feed.post(post_id) is not None
    assert community_moderation.report(second, post_id, "spam") is True
    # Hidden: gone from the feed, its page and its public picture.
    assert community_feed.post(post_id) is None and community_feed.feed().posts == []
    assert community_feed.open_public_image(post_id, thumbnail=False) is None

    admin = _admin()
    [queued] = community_moderation.queue(admin)
    assert (queued.public_id, queued.status, queued.report_count) == (post_id, "hidden", 2)
    assert queued.reasons == ["Spam or advertising ×2"] and queued.details == ["Ads for shoes"]
    assert author.email not in repr(queued) and first.email not in repr(queued)
    with pytest.raises(PermissionDenied):
        community_moderation.queue(first)
    with pytest.raises(PermissionDenied):
        community_moderation.decide(first, post_id, "restore")

    community_moderation.decide(admin, post_id, "restore")
    assert community_feed.post(post_id) is not None
    community_moderation.decide(admin, post_id, "stop_author")
    with pytest.raises(PermissionDenied, match="stopped"):
        _publish(author, "Another")
    community_moderation.decide(admin, post_id, "remove")
    assert community_feed.post(post_id) is None
    assert list(published_store().listing()) == []
    assert community_moderation.queue(admin) == []
    with read_session() as db:
        actions = db.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all()
    assert actions == ["community.restore", "community.stop_author", "community.remove"]
