"""The display name over the REST API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.rest import api_user

PROFILE = "/api/studio/profile"


def test_the_rest_api_reads_and_changes_the_display_name(client: TestClient) -> None:
    user = api_user()
    assert client.get(PROFILE, headers=user.headers).json() == {"display_name": ""}
    changed = client.put(PROFILE, json={"display_name": "Ada L"}, headers=user.headers)
    assert changed.status_code == 200 and changed.json() == {"display_name": "Ada L"}
    refused = client.put(PROFILE, json={"display_name": "x"}, headers=user.headers)
    assert refused.status_code == 422 and refused.json()["field"] == "display_name"
    assert client.get(PROFILE, headers=user.headers).json() == {"display_name": "Ada L"}
    assert client.get(PROFILE).status_code == 401
