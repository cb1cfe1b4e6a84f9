"""The database tables. Schema changes go through Alembic (`alembic/versions`).

Times are timezone-aware UTC (`clock.utcnow()`); SQLModel's
UTCDateTime refuses naive ones.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, ClassVar

from sqlalchemy import BigInteger, CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from studio_app.clock import utcnow


class Role(str, Enum):
    USER = "user"
    ADMIN = "admin"


class GenerationStatus(str, Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EntryKind(str, Enum):
    GRANT = "grant"
    PURCHASE = "purchase"
    CAPTURE = "capture"
    REFUND = "refund"


class HoldStatus(str, Enum):
    OPEN = "open"
    CAPTURED = "captured"
    RELEASED = "released"


class PaymentStatus(str, Enum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class User(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("display_name_key", name="uq_user_display_name_key"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(default=Role.USER.value, max_length=16)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    # The name others see on what the user publishes (services/profiles.py); chosen by
    # the user, never made from the email. `display_name_key` is its folded form (case
    # and accents ignored), unique: two people cannot go by names that look the same.
    display_name: str | None = Field(default=None, max_length=30)
    display_name_key: str | None = Field(default=None, max_length=30)
    # False once an admin stops the user from publishing (moderation).
    can_publish: bool = Field(default=True)


class ImageCategory(SQLModel, table=True):
    __tablename__: ClassVar[str] = "image_category"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    # Stable key for seeding and URLs; never changes after creation.
    slug: str = Field(max_length=80, unique=True, index=True)
    description: str = Field(default="", max_length=500)
    sort_order: int = Field(default=0)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CatalogRevision(SQLModel, table=True):
    """One row counting changes to categories and templates (services/catalog.py bumps
    it in the same transaction), so a cached answer can be checked against it."""

    __tablename__: ClassVar[str] = "catalog_revision"

    id: int = Field(default=1, primary_key=True)
    revision: int = Field(default=0)


class ImageTemplate(SQLModel, table=True):
    __tablename__: ClassVar[str] = "image_template"
    __table_args__ = (UniqueConstraint("category_id", "slug", name="uq_template_category_slug"),)

    id: int | None = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="image_category.id", index=True)
    slug: str = Field(max_length=80)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=500)
    prompt: str = Field(max_length=4000)
    default_tier: str = Field(default="standard", max_length=32)
    preview_image_key: str | None = Field(default=None, max_length=255)
    sort_order: int = Field(default=0)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


def _own_public_id(context: Any) -> str:
    return context.get_current_parameters()["public_id"]


class GeneratedImage(SQLModel, table=True):
    __tablename__: ClassVar[str] = "generated_image"
    __table_args__ = (
        Index("ix_generated_image_user_created", "user_id", "created_at", "id"),
        # My Creations' filter choices: which templates and providers a user has used,
        # answered from these indexes alone.
        Index("ix_generated_image_user_template", "user_id", "template_id", "deleted_at"),
        Index("ix_generated_image_user_provider", "user_id", "provider", "deleted_at"),
        UniqueConstraint("user_id", "idempotency_key", name="uq_generated_image_idempotency_key"),
        Index("ix_generated_image_request", "request_id", "request_index", unique=True),
        Index("ix_generated_image_source_upload", "source_upload_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Random, unguessable id used in URLs instead of the row id.
    public_id: str = Field(max_length=32, unique=True, index=True)
    # The request this image was made for (one request asks for 1–4 images): the public id
    # of its first image, which is also the id of its job. `request_index` is 0 for that
    # first image; an idempotency key is kept on it alone.
    request_id: str = Field(
        max_length=32,
        # Not given (a row made outside the generation path): a request of its own.
        sa_column_kwargs={"default": _own_public_id},
    )
    request_index: int = Field(default=0)
    user_id: int = Field(foreign_key="user.id")
    template_id: int | None = Field(default=None, foreign_key="image_template.id")
    # An edit: the upload it changes (services/edit_sources.py). The upload's picture is
    # kept while a creation that is not deleted refers to it.
    source_upload_id: int | None = Field(default=None, foreign_key="image_upload.id")
    prompt: str = Field(max_length=4000)
    enhanced_prompt: str | None = Field(default=None, max_length=4000)
    negative_prompt: str | None = Field(default=None, max_length=2000)
    # Up to 2**32 - 1: a 64-bit column (PostgreSQL's integer stops at 2**31 - 1).
    seed: int | None = Field(default=None, sa_type=BigInteger)
    provider: str = Field(max_length=32)
    model: str = Field(default="", max_length=120)
    tier: str = Field(max_length=32)
    width: int | None = Field(default=None)
    height: int | None = Field(default=None)
    status: str = Field(default=GenerationStatus.PENDING.value, max_length=16, index=True)
    error_code: str | None = Field(default=None, max_length=32)
    error_message: str | None = Field(default=None, max_length=500)
    cost_credits: int = Field(default=0)
    image_key: str | None = Field(default=None, max_length=255)
    thumbnail_key: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None)
    duration_ms: int | None = Field(default=None)
    # Set when the owner deletes it: the files go, the row stays for the ledger and the stats.
    deleted_at: datetime | None = Field(default=None)
    # A REST client's Idempotency-Key and a hash of what it asked for: a retry with the
    # same key returns this generation instead of starting (and charging) another.
    idempotency_key: str | None = Field(default=None, max_length=100)
    request_hash: str | None = Field(default=None, max_length=64)


class CreditEntry(SQLModel, table=True):
    """One immutable line of the credit ledger.

    `amount` is signed: grants, purchases and refunds are positive, captures
    negative, so a balance is a plain SUM(amount).

    What an entry is about is a foreign key, unique where one entry may exist
    per link: the hold a capture took (captured once), the capture a refund
    gives back (refunded once), the payment a purchase credits (credited once).
    Grants link to nothing. `idempotency_key` stays the retry key.
    """

    __tablename__: ClassVar[str] = "credit_entry"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'capture' AND amount < 0) OR (kind <> 'capture' AND amount > 0)",
            name="ck_credit_entry_sign",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    amount: int
    kind: str = Field(max_length=16)
    reference: str = Field(default="", max_length=200)
    idempotency_key: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    hold_id: int | None = Field(default=None, foreign_key="credit_hold.id", unique=True, index=True)
    refunds_entry_id: int | None = Field(
        default=None, foreign_key="credit_entry.id", unique=True, index=True
    )
    payment_id: int | None = Field(default=None, foreign_key="payment.id", unique=True, index=True)


class CreditHold(SQLModel, table=True):
    """Credits set aside for a generation until it is captured or released."""

    __tablename__: ClassVar[str] = "credit_hold"
    __table_args__ = (
        Index("ix_credit_hold_user_status", "user_id", "status"),
        CheckConstraint("amount > 0", name="ck_credit_hold_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    amount: int
    status: str = Field(default=HoldStatus.OPEN.value, max_length=16)
    generation_id: int | None = Field(default=None, foreign_key="generated_image.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    closed_at: datetime | None = Field(default=None)


class AuthSession(SQLModel, table=True):
    """A signed-in browser (or client). Only the token's SHA-256 is stored."""

    __tablename__: ClassVar[str] = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = Field(default=None)


class ThrottleEvent(SQLModel, table=True):
    """One counted event (a failed sign-in, a sign-up) for rate limits."""

    __tablename__: ClassVar[str] = "throttle_event"
    __table_args__ = (Index("ix_throttle_event_lookup", "kind", "subject", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    subject: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=utcnow)


class Payment(SQLModel, table=True):
    """A credit-pack purchase through a payment gateway."""

    __tablename__: ClassVar[str] = "payment"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    credits: int
    amount_rupees: int
    gateway: str = Field(max_length=32)
    # The gateway's own reference for the payment (order / charge id).
    gateway_reference: str = Field(default="", max_length=120)
    status: str = Field(default=PaymentStatus.PENDING.value, max_length=16)
    # Per user: the same key never pays or credits twice.
    idempotency_key: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = Field(default=None)


class MaintenanceRun(SQLModel, table=True):
    """When a periodic task shared by every process last ran, one row per task: the
    process that records a run does it, so it runs once per period however many serve."""

    __tablename__: ClassVar[str] = "maintenance_run"

    name: str = Field(primary_key=True, max_length=40)
    last_run_at: datetime


class ImageUpload(SQLModel, table=True):
    """A picture a user uploaded to edit (services/uploads.py): private to its owner."""

    __tablename__: ClassVar[str] = "image_upload"
    __table_args__ = (Index("ix_image_upload_user_created", "user_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=32, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id")
    image_key: str = Field(max_length=255)
    width: int
    height: int
    size_bytes: int
    created_at: datetime = Field(default_factory=utcnow)
    # Set when its owner removes it; the object goes then (or at the next store scan).
    deleted_at: datetime | None = Field(default=None)


class AppSecret(SQLModel, table=True):
    """Random keys the app makes for itself, shared by every process through the
    database (signed image links). Made by the migration that adds the table."""

    __tablename__: ClassVar[str] = "app_secret"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=128)


class ProviderSetting(SQLModel, table=True):
    """An admin's settings for a provider: its switch (a kill switch when it misbehaves or
    costs too much) and its model (services/provider_models.py)."""

    __tablename__: ClassVar[str] = "provider_setting"

    name: str = Field(primary_key=True, max_length=32)
    enabled: bool = Field(default=True)
    updated_at: datetime = Field(default_factory=utcnow)
    # The admin's model for this provider; "" = the environment setting, else the default.
    model: str = Field(default="", max_length=120)
    # The model the provider last said is gone (404/410), when and in its words; "" = none.
    # The provider is hidden from members while this is still its model.
    failed_model: str = Field(default="", max_length=120)
    failed_at: datetime | None = Field(default=None)
    failure_detail: str = Field(default="", max_length=500)


class AuditEntry(SQLModel, table=True):
    """One admin action: who did what to which thing, with the values before and after."""

    __tablename__: ClassVar[str] = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int = Field(foreign_key="user.id", index=True)
    action: str = Field(max_length=64)
    target: str = Field(max_length=200)
    before: str = Field(default="", max_length=4000)
    after: str = Field(default="", max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ApiToken(SQLModel, table=True):
    """A personal token for the REST API. Shown once at creation; only its SHA-256 is kept."""

    __tablename__: ClassVar[str] = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True)
    # The first characters, so a user can tell tokens apart without the secret.
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None)
    # None: the token never expires (its owner chose so).
    expires_at: datetime | None = Field(default=None)


class PostStatus(str, Enum):
    PUBLISHED = "published"
    # Out of sight until an admin decides: reported by enough people, or hidden by one.
    HIDDEN = "hidden"
    # Taken down by an admin: gone for good (its creation stays its owner's).
    REMOVED = "removed"


class CommunityPost(SQLModel, table=True):
    """A creation its owner published to the community (services/community.py).

    Its picture is a public copy (`image_key`, `thumbnail_key` in the published store),
    never the private original. `category_id`, `template_id`, `provider` and `tier` are
    the creation's, kept here so that the feed filters without joins; `like_count`,
    `likes_week` and `reuse_count` are kept by the same transactions that add likes and
    reuses, so that the feed sorts by an index."""

    __tablename__: ClassVar[str] = "community_post"
    __table_args__ = (
        Index("ix_community_post_newest", "status", "published_at", "id"),
        Index("ix_community_post_top", "status", "like_count", "id"),
        Index("ix_community_post_top_week", "status", "likes_week", "id"),
        Index("ix_community_post_user", "user_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=32, unique=True, index=True)
    generation_id: int = Field(foreign_key="generated_image.id", unique=True)
    user_id: int = Field(foreign_key="user.id")
    title: str = Field(max_length=80)
    caption: str = Field(default="", max_length=500)
    show_prompt: bool = Field(default=True)
    status: str = Field(default=PostStatus.PUBLISHED.value, max_length=16)
    category_id: int | None = Field(default=None, foreign_key="image_category.id", index=True)
    template_id: int | None = Field(default=None, foreign_key="image_template.id", index=True)
    provider: str = Field(max_length=32)
    tier: str = Field(max_length=32)
    width: int
    height: int
    image_key: str = Field(max_length=255)
    thumbnail_key: str = Field(max_length=255)
    like_count: int = Field(default=0)
    # Likes given in the last 7 days: kept as likes come, and as they age (housekeeping).
    likes_week: int = Field(default=0)
    reuse_count: int = Field(default=0)
    published_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PostLike(SQLModel, table=True):
    """One user's like of one post (at most one: the unique pair)."""

    __tablename__: ClassVar[str] = "post_like"
    __table_args__ = (
        UniqueConstraint("post_id", "user_id", name="uq_post_like_post_user"),
        Index("ix_post_like_created", "created_at", "post_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="community_post.id")
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class PostReport(SQLModel, table=True):
    """A signed-in user's report of a post, once per post; its author never learns who."""

    __tablename__: ClassVar[str] = "post_report"
    __table_args__ = (UniqueConstraint("post_id", "reporter_id", name="uq_post_report_reporter"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="community_post.id", index=True)
    reporter_id: int = Field(foreign_key="user.id")
    reason: str = Field(max_length=32)
    details: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class PromptReuseEvent(SQLModel, table=True):
    """A user took a post's prompt to the studio ("Use this prompt"); once per user and post."""

    __tablename__: ClassVar[str] = "prompt_reuse_event"
    __table_args__ = (UniqueConstraint("post_id", "user_id", name="uq_prompt_reuse_post_user"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="community_post.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
