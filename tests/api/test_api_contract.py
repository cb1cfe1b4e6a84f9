"""What the OpenAPI spec promises, the server does: its paths and methods.

The `client` fixture stacks the API as the server does, over Reflex's app, where a
request that no API route takes would otherwise get Reflex's plain-text answer.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

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
