"""My Creations: paging, filters, deletion and reuse — always only the viewer's own rows."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from studio_app.clock import utcnow
from studio_app.models import CreditEntry, GeneratedImage, ImageTemplate
from studio_app.services import catalog, creations, generation, ledger, reconcile
from studio_app.services.auth import CurrentUser
from studio_app.services.db import get_engine, read_session, write_session
from studio_app.services.errors import InvalidInput, NotFound
from studio_app.services.generation import GenerationRequest
from studio_app.storage import image_store
from tests import aio
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("migrated_db")

BASE = datetime(2026, 3, 10, 12, 0, tzinfo=utcnow().tzinfo)


def _viewer(user_id: int, role: str = "user") -> CurrentUser:
    return CurrentUser(id=user_id, email=f"u{user_id}@example.com", role=role)


def _row(
    user_id: int,
    created_at: datetime,
    *,
    prompt: str = "a prompt",
    provider: str = "offline",
    template_id: int | None = None,
    status: str = "succeeded",
) -> str:
    """A creation row inserted directly (no files): fast enough for thousands."""
    public_id = secrets.token_hex(12)
    with write_session() as db:
        db.add(
            GeneratedImage(
                public_id=public_id,
                user_id=user_id,
                prompt=prompt,
                provider=provider,
                tier="standard",
                status=status,
                template_id=template_id,
                created_at=created_at,
                cost_credits=1,
            )
        )
    return public_id


def _generate(user_id: int, prompt: str = "Sunflowers in a blue vase", **kw: object) -> str:
    async def go() -> str:
        ticket = generation.start(user_id, GenerationRequest(prompt=prompt, **kw))  # type: ignore[arg-type]
        await generation.run(ticket)
        return ticket.public_id

    return aio.run(go())


def _all_pages(viewer: CurrentUser, limit: int, **filters: object) -> list[list[str]]:
    parsed = creations.parse_filters(**filters)  # type: ignore[arg-type]
    pages, cursor = [], None
    while True:
        page = creations.list_creations(viewer, filters=parsed, cursor=cursor, limit=limit)
        pages.append([item.public_id for item in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def _templates() -> list[ImageTemplate]:
    with write_session() as db:
        catalog.seed_catalog(db)
    with read_session() as db:
        return catalog.list_templates(db)


# --- paging ---------------------------------------------------------------------------------


def test_pages_are_newest_first_and_of_the_asked_size() -> None:
    user = make_user()
    ids = [_row(user, BASE + timedelta(minutes=i)) for i in range(7)]
    pages = _all_pages(_viewer(user), limit=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [pid for page in pages for pid in page] == list(reversed(ids))


def test_a_page_that_ends_exactly_says_there_is_no_more() -> None:
    user = make_user()
    for i in range(4):
        _row(user, BASE + timedelta(minutes=i))
    first = creations.list_creations(_viewer(user), limit=4)
    assert len(first.items) == 4 and first.next_cursor is None


def test_equal_timestamps_never_skip_or_repeat_across_pages() -> None:
    user = make_user()
    same = [_row(user, BASE) for _ in range(9)]
    older = _row(user, BASE - timedelta(seconds=1))
    pages = _all_pages(_viewer(user), limit=2)
    seen = [pid for page in pages for pid in page]
    assert len(seen) == len(set(seen)) == 10
    assert set(seen) == {*same, older}
    assert seen[-1] == older


def test_new_images_made_while_paging_do_not_shift_later_pages() -> None:
    user = make_user()
    ids = [_row(user, BASE + timedelta(minutes=i)) for i in range(6)]
    viewer = _viewer(user)
    first = creations.list_creations(viewer, limit=3)
    _row(user, BASE + timedelta(hours=1))  # a new one arrives at the top
    second = creations.list_creations(viewer, cursor=first.next_cursor, limit=3)
    assert [i.public_id for i in second.items] == list(reversed(ids[:3]))


def test_only_the_viewers_creations_are_listed_and_cursors_are_checked() -> None:
    mine, theirs = make_user(), make_user()
    my_id = _row(mine, BASE)
    their_id = _row(theirs, BASE + timedelta(minutes=1))
    assert [i.public_id for i in creations.list_creations(_viewer(mine)).items] == [my_id]
    # Someone else's id as a cursor reveals nothing: refused.
    with pytest.raises(InvalidInput):
        creations.list_creations(_viewer(mine), cursor=their_id)
    with pytest.raises(InvalidInput):
        creations.list_creations(_viewer(mine), cursor="'; drop table user; --")


@pytest.mark.sqlite_only  # reads SQLite's query plan
def test_paging_uses_the_index_not_a_sort_or_offset() -> None:
    user = make_user()
    viewer = _viewer(user)
    for i in range(3):
        _row(user, BASE + timedelta(minutes=i))
    engine = get_engine()
    statements: list[tuple[str, object]] = []

    def remember(_conn, _cursor, statement, parameters, *_args):  # type: ignore[no-untyped-def]
        if "FROM generated_image" in statement and "ORDER BY" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        page = creations.list_creations(viewer, limit=1)
        creations.list_creations(viewer, cursor=page.next_cursor, limit=1)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert len(statements) == 2
    for statement, parameters in statements:
        # SQLAlchemy's SQLite dialect always renders "LIMIT ? OFFSET ?": the offset stays 0.
        assert "OFFSET" not in statement.upper() or parameters[-1] == 0
        with engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        detail = " ".join(str(row[-1]) for row in plan).upper()
        assert "IX_GENERATED_IMAGE_USER_CREATED" in detail, detail
        assert "TEMP B-TREE" not in detail, detail


# --- filters --------------------------------------------------------------------------------


def test_filters_by_template_provider_and_dates() -> None:
    user = make_user()
    first, second = _templates()[:2]
    a = _row(user, BASE, template_id=first.id, provider="offline")
    b = _row(user, BASE + timedelta(days=1), template_id=second.id, provider="offline")
    c = _row(user, BASE + timedelta(days=2), template_id=first.id, provider="openai")
    viewer = _viewer(user)

    def ids(**filters: object) -> list[str]:
        return [pid for page in _all_pages(viewer, 10, **filters) for pid in page]

    assert ids(template=str(first.id)) == [c, a]
    assert ids(provider="openai") == [c]
    assert ids(date_from="2026-03-11") == [c, b]
    assert ids(date_to="2026-03-11") == [b, a]  # the whole 'to' day counts
    assert ids(date_from="2026-03-11", date_to="2026-03-11") == [b]
    assert ids(template=str(first.id), provider="offline") == [a]
    assert ids(template="all", provider="all") == [c, b, a]
    assert ids(date_from="2027-01-01") == []


@pytest.mark.parametrize(
    "bad",
    [
        {"template": "abc"},
        {"template": "-3"},
        {"provider": "<script>"},
        {"date_from": "yesterday"},
        {"date_from": "2026-03-12", "date_to": "2026-03-10"},
        {"date_to": 20260310},
    ],
)
def test_bad_filters_are_refused_with_a_message(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInput) as error:
        creations.parse_filters(**bad)  # type: ignore[arg-type]
    assert error.value.message


def test_filter_choices_list_only_what_the_viewer_used() -> None:
    mine, theirs = make_user(), make_user()
    first, second = _templates()[:2]
    _row(mine, BASE, template_id=first.id, provider="offline")
    _row(theirs, BASE, template_id=second.id, provider="openai")
    choices = creations.filter_choices(_viewer(mine))
    assert [(c.value, c.label) for c in choices.templates] == [(str(first.id), first.name)]
    assert [c.value for c in choices.providers] == ["offline"]
    assert choices.providers[0].label != "offline"  # a name people read


def test_failed_and_pending_creations_show_no_charge_and_no_image() -> None:
    user = make_user()
    _row(user, BASE, status="failed")
    _row(user, BASE + timedelta(minutes=1), status="pending")
    items = creations.list_creations(_viewer(user)).items
    assert [(i.status, i.cost_credits, i.image_url, i.download_url) for i in items] == [
        ("pending", 0, "", ""),
        ("failed", 0, "", ""),
    ]


# --- delete ---------------------------------------------------------------------------------


def _entries(user_id: int) -> list[tuple[int, str]]:
    with read_session() as db:
        return [
            (e.amount, e.kind)
            for e in db.exec(select(CreditEntry).where(CreditEntry.user_id == user_id)).all()
        ]


def test_delete_removes_the_files_and_the_row_from_view_but_keeps_the_ledger() -> None:
    user = make_user(credits=5)
    public_id = _generate(user)
    viewer = _viewer(user)
    with read_session() as db:
        row = db.exec(select(GeneratedImage).where(GeneratedImage.public_id == public_id)).one()
    stored = [row.image_key, row.thumbnail_key]
    assert all(image_store().exists(key) for key in stored)
    entries_before = _entries(user)

    creations.delete_creation(viewer, public_id)

    assert not any(image_store().exists(key) for key in stored)
    assert list(image_store().keys()) == []
    assert creations.list_creations(viewer).items == []
    assert creations.get_creation(viewer, public_id) is None
    assert creations.open_image(viewer, public_id, thumbnail=False) is None
    assert creations.reuse_settings(viewer, public_id) is None
    assert _entries(user) == entries_before == [(5, "grant"), (-1, "capture")]
    with read_session() as db:
        assert ledger.summary(db, user).available == 4
    # The reconciler does not take a deleted image for a lost one: no refund.
    reconcile.reconcile(now=utcnow() + timedelta(days=1))
    assert _entries(user) == entries_before


def test_delete_twice_and_other_peoples_images_are_refused() -> None:
    owner, other = make_user(credits=5), make_user()
    public_id = _generate(owner)
    for intruder in (_viewer(other), _viewer(other, role="admin")):
        with pytest.raises(NotFound):
            creations.delete_creation(intruder, public_id)
    assert creations.get_creation(_viewer(owner), public_id) is not None
    creations.delete_creation(_viewer(owner), public_id)
    with pytest.raises(NotFound):
        creations.delete_creation(_viewer(owner), public_id)
    for junk in ("", "../../etc/passwd", 42, None):
        with pytest.raises(NotFound):
            creations.delete_creation(_viewer(owner), junk)


def test_a_pending_creation_cannot_be_deleted_yet() -> None:
    user = make_user()
    public_id = _row(user, BASE, status="pending")
    with pytest.raises(InvalidInput):
        creations.delete_creation(_viewer(user), public_id)
    assert len(creations.list_creations(_viewer(user)).items) == 1


def test_a_failed_creation_can_be_deleted() -> None:
    user = make_user()
    public_id = _row(user, BASE, status="failed")
    creations.delete_creation(_viewer(user), public_id)
    assert creations.list_creations(_viewer(user)).items == []


# --- reuse ----------------------------------------------------------------------------------


def test_reuse_settings_are_the_owners_only() -> None:
    owner, other = make_user(credits=5), make_user()
    template = _templates()[0]
    public_id = _generate(
        owner,
        "Plain prompt",
        enhanced_prompt="Plain prompt, golden hour, 35mm",
        tier="premium",
        template_id=template.id,
    )
    settings = creations.reuse_settings(_viewer(owner), public_id)
    assert settings is not None
    assert (settings.prompt, settings.enhanced_prompt, settings.tier, settings.provider) == (
        "Plain prompt",
        "Plain prompt, golden hour, 35mm",
        "premium",
        "offline",
    )
    assert (settings.template_id, settings.template_name) == (template.id, template.name)
    assert creations.reuse_settings(_viewer(other), public_id) is None
    assert creations.reuse_settings(_viewer(other, role="admin"), public_id) is None
    assert creations.reuse_settings(None, public_id) is None
    assert creations.reuse_settings(_viewer(owner), "nope") is None


def test_reuse_drops_a_template_that_was_deactivated() -> None:
    owner = make_user(credits=5)
    template = _templates()[0]
    public_id = _generate(owner, template_id=template.id)
    with write_session() as db:
        row = db.get(ImageTemplate, template.id)
        row.is_active = False
        db.add(row)
    settings = creations.reuse_settings(_viewer(owner), public_id)
    assert settings is not None and settings.template_id is None
    # ...so "Generate again" with these settings is still accepted.
    again = _generate(owner, **vars(settings.request()))
    assert creations.get_creation(_viewer(owner), again).status == "succeeded"
