"""Property-based fuzz of the whole REST API from its own OpenAPI spec (schemathesis).

Every operation gets generated requests, valid and invalid, with an admin's token
(admins may call everything), and every answer goes through all of schemathesis's
checks: no 5xx; status codes, content types, headers and bodies as the spec says;
invalid requests refused; valid requests accepted; undeclared methods answered 405
with `Allow`; OPTIONS answered with the path's methods; a missing token refused.

The app is stacked as the server stacks it, Reflex's app under the API (a stand-in),
so a request that no API route takes would show up here as Reflex's answer.
"""

from __future__ import annotations

from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlmodel import select

from studio_app.models import ImageTemplate, User
from studio_app.services import (
    catalog,
    catalog_admin,
    community_feed,
    creations,
    profiles,
    uploads,
)
from studio_app.services.auth import CurrentUser
from studio_app.services.db import read_session
from studio_app.services.errors import InvalidInput
from studio_app.services.provider_switches import provider_infos
from studio_app.settings import Settings
from tests.api.rest import ApiUser, api_over_reflex, api_user
from tests.soak import scaled

# The spec needs no database; each test below gets its own fresh one.
schema = schemathesis.openapi.from_asgi("/api/openapi.json", api_over_reflex())
schema.config.generation.update(
    # Like most HTTP APIs, ours ignores query parameters it does not know (cache-busters,
    # tracking tags), so requests with made-up ones are not "invalid" here.
    allow_extra_parameters=False,
    # The same cases on every run: `make test` must not pass or fail by luck. `make soak`
    # runs 16× as many cases.
    deterministic=True,
)


@pytest.fixture
def admin_with_credits(seeded_db: Settings, settings_env) -> ApiUser:  # type: ignore[no-untyped-def]
    settings_env(
        STUDIO_TEST_PAYMENT_GATEWAY="1",
        STUDIO_GENERATIONS_PER_MINUTE="100000",
        STUDIO_ENHANCEMENTS_PER_MINUTE="100000",
        STUDIO_MAX_CONCURRENT_GENERATIONS="100000",
    )
    return api_user(role="admin", credits=1_000_000)


# ---------------------------------------------------------------- state, not schema
#
# A request the spec calls valid may still be refused for the server's state, which no
# schema can state: a name already taken, a template switched off, a provider without
# keys, a page cursor for a row that is gone or someone else's, or `date_to` before
# `date_from`. Those answer 422 naming the field (the spec says so). The fuzz accepts
# such a 422 only after checking, here, that the state really is so; any other refusal
# of valid data fails.


def _names_match(a: str, b: str) -> bool:
    # The catalog's rule: trimmed, spaces collapsed, compared without case.
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _name_taken(case, admin: CurrentUser) -> bool:  # type: ignore[no-untyped-def]
    own_id = next(iter((case.path_parameters or {}).values()), None)
    name = case.body["name"]
    if "categories" in case.operation.path:
        rows = catalog_admin.list_categories(admin)
    else:
        category_id = case.body["category_id"]
        rows = [t for t in catalog_admin.list_templates(admin) if t.category_id == category_id]
    return any(row.id != own_id and _names_match(row.name, name) for row in rows)


def _no_such_template(template_id: int) -> bool:
    with read_session() as db:
        return db.get(ImageTemplate, template_id) is None


def _template_unavailable(case) -> bool:  # type: ignore[no-untyped-def]
    with read_session() as db:
        return catalog.active_template(db, case.body["template_id"]) is None


def _provider(case):  # type: ignore[no-untyped-def]
    name = case.body.get("provider", "offline")
    return next(info for info in provider_infos() if info.name == name)


def _date_range_reversed(case) -> bool:  # type: ignore[no-untyped-def]
    query = case.query or {}
    start, end = query.get("date_from"), query.get("date_to")
    return bool(start and end) and date.fromisoformat(end) < date.fromisoformat(start)


def _not_a_picture(body: object) -> bool:
    data = body if isinstance(body, bytes) else str(body or "").encode()
    try:
        uploads.clean_picture(data)
    except InvalidInput:
        return True
    return False


def _not_a_feed_cursor(query: dict) -> bool:
    """A cursor the schema allows but no page of this sort ever handed out."""
    try:
        community_feed.feed(sort=query.get("sort", "newest"), cursor=query["cursor"], limit=1)
    except InvalidInput:
        return True
    return False


def _name_refused(viewer: CurrentUser, name: str) -> bool:
    """Refused by the rules the schema cannot say: spacing tidied, reserved, the email,
    or someone else's already."""
    try:
        _shown, key = profiles.clean_display_name(name, viewer.email)
    except InvalidInput:
        return True
    with read_session() as db:
        other = db.exec(select(User.id).where(User.display_name_key == key)).first()
    return other is not None and other != viewer.id


def _not_an_upload_of(viewer: CurrentUser, upload_id: str) -> bool:
    return upload_id not in {upload.public_id for upload in uploads.list_uploads(viewer)}


def _refused_for_state(case, field: str | None, admin: CurrentUser) -> bool:  # type: ignore[no-untyped-def]
    label = f"{case.operation.method.upper()} {case.operation.path}"
    if label.startswith(("POST /api/admin/studio/", "PUT /api/admin/studio/")):
        return field == "name" and _name_taken(case, admin)
    if label == "POST /api/studio/generate":
        if field == "template_id":
            return _template_unavailable(case)
        if field == "provider":
            return bool(_provider(case).unavailable_reason)
        if field == "tier":
            return case.body.get("tier", "standard") in _provider(case).unavailable_tiers
        if field == "source_upload_id":
            return _not_an_upload_of(admin, case.body["source_upload_id"])
    if label == "GET /api/community/posts":
        return field == "cursor" and _not_a_feed_cursor(case.query)
    if label == "PUT /api/studio/profile":
        return field == "display_name" and _name_refused(admin, case.body["display_name"])
    if label == "POST /api/studio/uploads":
        # The schema says "bytes"; only the bytes themselves can say they are no picture.
        return field == "file" and _not_a_picture(case.body)
    if label == "GET /api/studio/templates":
        return field == "cursor" and _no_such_template(int(case.query["cursor"]))
    if label == "GET /api/studio/my-creations":
        if field == "cursor":
            return creations.get_own_creation(admin, case.query["cursor"]) is None
        if field == "date_to":
            return _date_range_reversed(case)
    return False


def valid_data_is_accepted_unless_state_forbids(admin: CurrentUser):  # type: ignore[no-untyped-def]
    """schemathesis's positive_data_acceptance, except for a 422 that the state explains."""

    def check(ctx, response, case):  # type: ignore[no-untyped-def]
        try:
            return positive_data_acceptance(ctx, response, case)
        except AssertionError:
            if response.status_code == 422 and _refused_for_state(
                case, response.json().get("field"), admin
            ):
                return None
            raise

    return check


@schema.parametrize()
@settings(
    max_examples=scaled(25, 400),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_its_own_spec(case, admin_with_credits: ApiUser) -> None:  # type: ignore[no-untyped-def]
    admin = CurrentUser(id=admin_with_credits.user_id, email=admin_with_credits.email, role="admin")
    case.call_and_validate(
        headers=admin_with_credits.headers,
        excluded_checks=[positive_data_acceptance],
        additional_checks=[valid_data_is_accepted_unless_state_forbids(admin)],
    )
