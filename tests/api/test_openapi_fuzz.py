"""Property-based fuzz of the whole REST API from its own OpenAPI spec (schemathesis).

Every operation gets generated requests, valid and invalid, with an admin's token
(admins may call everything): no answer may be a 5xx, and every answer must match
the spec (status codes, content types, bodies).

The app is stacked as the server stacks it, Reflex's app under the API (a stand-in),
so a request that no API route takes would show up here as Reflex's answer.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

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


@schema.parametrize()
@settings(
    max_examples=scaled(25, 400),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_its_own_spec(case, admin_with_credits: ApiUser) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        headers=admin_with_credits.headers,
        # "Schema-valid data must be accepted" cannot hold for rules a schema cannot
        # say: a cursor or template that does not exist, a pack size, a date like
        # 2026-02-31. Those answer 422 with the field named, which the spec documents.
        excluded_checks=[positive_data_acceptance],
    )
