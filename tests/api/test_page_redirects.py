"""The pages' redirects: `/` to the studio for now, and the reference report's paths to ours.

These are routes of the API app, which Reflex mounts its pages under, so they answer
before any page (tests/e2e/test_page_redirects.py checks the same on the real server).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from studio_app.routes import ADMIN, BUY_CREDITS, MY_CREATIONS, STUDIO


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/", STUDIO),
        ("/studio/my-creations", MY_CREATIONS),
        ("/studio/buy-credits", BUY_CREDITS),
        ("/admin/studio", ADMIN),
    ],
)
def test_old_and_bare_paths_redirect_with_302(client: TestClient, path: str, target: str) -> None:
    answer = client.get(path, follow_redirects=False)

    assert answer.status_code == 302
    assert answer.headers["location"] == target
    # Like every response, the redirect carries the security headers.
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_query_string_goes_along(client: TestClient) -> None:
    answer = client.get("/?use=0123abcd", follow_redirects=False)
    assert answer.headers["location"] == f"{STUDIO}?use=0123abcd"


def test_a_head_request_redirects_too(client: TestClient) -> None:
    assert client.head("/studio/buy-credits", follow_redirects=False).status_code == 302
