"""What the OpenAPI spec promises, the server does: its paths, methods and input rules.

The `client` fixture stacks the API as the server does, over Reflex's app, where a
request that no API route takes would otherwise get Reflex's plain-text answer.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from studio_app.api import schemas
from studio_app.api.app import build_api
from studio_app.services.validation import clean_text
from tests.api.rest import api_user, money

HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _spec_paths(client: TestClient) -> dict[str, set[str]]:
    """An example URL of each path of the spec, with the path's methods."""
    spec = client.get("/api/openapi.json").json()
    return {
        re.sub(r"\{[a-z_]+\}", "1", path.replace("{creation_id}", "0" * 24)): {
            method.upper() for method in operations
        }
        for path, operations in spec["paths"].items()
    }


def test_options_lists_the_methods_of_every_api_path(client: TestClient) -> None:
    paths = _spec_paths(client)
    assert len(paths) >= 15
    for url, methods in paths.items():
        answer = client.options(url)
        assert answer.status_code == 204, url
        assert set(answer.headers["allow"].split(", ")) == methods | {"OPTIONS"}, url


def test_a_method_a_path_does_not_have_is_405_with_allow(client: TestClient) -> None:
    for url, methods in _spec_paths(client).items():
        for method in sorted(HTTP_METHODS - methods):
            answer = client.request(method, url)
            assert answer.status_code == 405, (method, url)
            assert answer.json()["code"] == "method_not_allowed"
            assert set(answer.headers["allow"].split(", ")) == methods | {"OPTIONS"}


@pytest.mark.parametrize(
    "url",
    [
        "/api",
        "/api/",
        "/api/nothing-here",
        "/api/studio/creations//image",
        "/api/studio/templates/1/extra",
        "/api/admin/studio/categories/1/",
    ],
)
def test_unknown_api_paths_are_json_404s(client: TestClient, url: str) -> None:
    for method in ("GET", "POST", "OPTIONS"):
        answer = client.request(method, url)
        assert answer.status_code == 404, (method, url)
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["code"] == "not_found"


def test_paths_outside_the_api_are_left_to_reflex(client: TestClient) -> None:
    answer = client.get("/apiary")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/plain")


# ---------------------------------------------------------------- input rules


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/studio/templates", {"cursor": "0"}),
        ("/api/studio/templates", {"cursor": "012"}),
        ("/api/studio/templates", {"cursor": "1" * 16}),
        ("/api/studio/credits/statement", {"cursor": "0"}),
        ("/api/studio/my-creations", {"cursor": "A" * 24}),
        ("/api/studio/my-creations", {"date_from": "2026-02-30"}),
        ("/api/studio/my-creations", {"date_from": "0000-01-01"}),
        ("/api/studio/my-creations", {"date_to": "2026-1-5"}),
    ],
)
def test_cursors_and_dates_outside_the_declared_formats_are_refused(
    client: TestClient, url: str, params: dict
) -> None:
    user = api_user()
    answer = client.get(url, params=params, headers=user.headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == next(iter(params))


def _patterns(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return found.union(*(_patterns(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_patterns(value) for value in node))
    return set()


def test_every_declared_pattern_is_explained_in_words(client: TestClient) -> None:
    """A refused value is told the rule in words, never a regular expression."""
    patterns = _patterns(client.get("/api/openapi.json").json())
    assert len(patterns) >= 8
    assert {p for p in patterns if not schemas.rule_for(p)} == set()


def test_a_creation_id_that_cannot_exist_is_refused_as_input(client: TestClient) -> None:
    user = api_user()
    for url in ("/api/studio/generate/NOPE", "/api/studio/creations/xyz/thumbnail"):
        answer = client.get(url, headers=user.headers)
        assert answer.status_code == 422, url
        assert answer.json()["field"] == "creation_id"


@pytest.mark.parametrize("prompt", ["A\x00cat", "A cat\x1b[31m", "\x7fA cat", "A cat\r\n"])
def test_control_characters_are_refused_with_the_rule_in_words(
    client: TestClient, prompt: str
) -> None:
    user = api_user(credits=5)
    answer = client.post("/api/studio/generate", json={"prompt": prompt}, headers=user.headers)
    assert answer.status_code == 422
    assert answer.json()["field"] == "prompt"
    assert "control characters" in answer.json()["message"]
    assert money(user.user_id).generations == 0


def test_integral_json_numbers_are_integers(client: TestClient) -> None:
    """JSON (and the spec's JSON Schema) make 1.0 the integer 1; 1.5 is not one."""
    user = api_user(credits=5)
    template_id = client.get("/api/studio/templates").json()["items"][0]["id"]
    body = {"prompt": "A paper boat", "template_id": float(template_id), "seed": 7.0}
    assert client.post("/api/studio/generate", json=body, headers=user.headers).status_code == 202
    refused = client.post("/api/studio/generate", json={**body, "seed": 7.5}, headers=user.headers)
    assert refused.status_code == 422 and refused.json()["field"] == "seed"


def test_the_spec_lists_this_servers_packs_and_providers(settings_env) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_CREDIT_PACKS="25,5", STUDIO_ENABLE_FAULT_PROVIDER="1")
    with TestClient(build_api()) as client:
        spec = client.get("/api/openapi.json").json()["components"]["schemas"]
    assert spec["PurchaseRequest"]["properties"]["credits"]["enum"] == [5, 25]
    providers = spec["GenerateRequest"]["properties"]["provider"]["enum"]
    assert "fault" in providers and "offline" in providers


# A text the spec accepts is one the services accept: the declared patterns are a
# promise, checked here against the services' own rule over the characters that matter.
_TRICKY_CHARACTERS = st.sampled_from(
    [chr(c) for c in range(0x00, 0xA1)]
    + ["\u1680", "\u2000", "\u200a", "\u200b", "\u2028", "\u202f", "\u3000", "\ufeff", "é", "🙂"]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(_TRICKY_CHARACTERS, max_size=6))
def test_declared_text_rules_promise_no_more_than_the_services_accept(text: str) -> None:
    for declared, required, name_min in (
        (schemas.OptionalText, False, 0),
        (schemas.Prompt, True, 0),
        (schemas.CategoryName, True, 2),
    ):
        try:
            TypeAdapter(declared).validate_python(text)
        except ValidationError:
            continue
        cleaned = clean_text(text, field="f", label="text", limit=2000, required=required)
        assert len(" ".join(cleaned.split())) >= name_min, (declared, text)


@pytest.mark.parametrize(
    "text", ["A cat", "  A cat\n\tsitting  ", "Ünïcödé 🙂", "a\u3000b", "\u00a0ab\u2028"]
)
def test_declared_text_rules_take_ordinary_text(text: str) -> None:
    for declared in (schemas.OptionalText, schemas.Prompt, schemas.CategoryName):
        assert TypeAdapter(declared).validate_python(text) == text
