"""The community over the REST API: publish, read without a token, like, unpublish."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from studio_app.services import profiles
from studio_app.services.auth import CurrentUser
from tests.api.rest import ApiUser, api_user, wait_until_finished

POSTS = "/api/community/posts"


def _author(client: TestClient, name: str = "Harbour Painter") -> tuple[ApiUser, str]:
    """A member with a display name and one finished creation (its id)."""
    user = api_user(credits=5)
    profiles.set_display_name(CurrentUser(id=user.user_id, email=user.email, role="user"), name)
    started = client.post(
        "/api/studio/generate", json={"prompt": "Boats in a harbour"}, headers=user.headers
    )
    return user, wait_until_finished(client, user, started.json()["id"])["id"]


def test_a_post_is_published_read_by_anyone_liked_and_taken_down(client: TestClient) -> None:
    author, creation = _author(client)
    published = client.post(
        POSTS,
        json={
            "creation_id": creation,
            "title": "Harbour",
            "caption": "Morning",
            "show_prompt": True,
        },
        headers=author.headers,
    )
    assert published.status_code == 201, published.text
    post = published.json()
    assert post["author"] == "Harbour Painter" and post["prompt"] == "Boats in a harbour"
    assert post["page_url"].endswith(f"/community/{post['id']}")

    # Signed out: the feed, the post, its picture.
    feed = client.get(POSTS).json()
    assert [item["id"] for item in feed["items"]] == [post["id"]]
    assert client.get(f"{POSTS}/{post['id']}").json()["title"] == "Harbour"
    picture = client.get(post["image_url"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.headers["cache-control"] == "public, max-age=60"
    assert client.get(post["thumbnail_url"]).headers["content-type"] == "image/webp"
    public = json.dumps([feed, client.get(f"{POSTS}/{post['id']}").json()])
    assert author.email not in public and f'"{author.user_id}"' not in public

    fan = api_user()
    assert client.put(f"{POSTS}/{post['id']}/like", headers=fan.headers).json() == {
        "liked": True,
        "like_count": 1,
    }
    assert client.put(f"{POSTS}/{post['id']}/like", headers=fan.headers).json()["like_count"] == 1
    assert client.get(f"{POSTS}/{post['id']}", headers=fan.headers).json()["liked"] is True
    assert client.get(f"{POSTS}/{post['id']}").json()["liked"] is False

    reused = client.post(f"{POSTS}/{post['id']}/reuse", headers=fan.headers).json()
    assert reused == {"prompt": "Boats in a harbour", "template_id": None, "tier": "standard"}
    assert client.get(f"{POSTS}/{post['id']}").json()["reuse_count"] == 1

    # Only its author changes or takes it down.
    change = {"title": "Not yours"}
    assert (
        client.patch(f"{POSTS}/{post['id']}", json=change, headers=fan.headers).status_code == 404
    )
    changed = client.patch(
        f"{POSTS}/{post['id']}", json={"show_prompt": False}, headers=author.headers
    )
    assert changed.json()["prompt"] is None and changed.json()["title"] == "Harbour"
    assert client.delete(f"{POSTS}/{post['id']}", headers=fan.headers).status_code == 404
    assert client.delete(f"{POSTS}/{post['id']}", headers=author.headers).status_code == 204
    assert client.get(f"{POSTS}/{post['id']}").status_code == 404
    assert client.get(post["image_url"]).status_code == 404
    assert client.get(POSTS).json()["items"] == []


def test_publishing_is_refused_clearly(client: TestClient) -> None:
    author, creation = _author(client)
    nameless = api_user()
    body = {"creation_id": creation, "title": "Mine"}
    assert client.post(POSTS, json=body).status_code == 401
    assert client.post(POSTS, json=body, headers=nameless.headers).status_code == 404
    blank = client.post(POSTS, json={**body, "title": "   "}, headers=author.headers)
    assert blank.status_code == 422 and blank.json()["field"] == "title"
    assert client.post(POSTS, json=body, headers=author.headers).status_code == 201
    again = client.post(POSTS, json=body, headers=author.headers)
    assert again.status_code == 422 and "published already" in again.json()["message"]
    assert client.get(POSTS, params={"cursor": "bm90LWEtY3Vyc29y"}).status_code == 422


def test_reports_and_the_moderation_queue(client: TestClient, settings_env) -> None:  # type: ignore[no-untyped-def]
    settings_env(STUDIO_REPORTS_TO_HIDE="1")
    author, creation = _author(client)
    post = client.post(
        POSTS, json={"creation_id": creation, "title": "Harbour"}, headers=author.headers
    ).json()
    reporter, admin = api_user(), api_user(role="admin")
    path = f"{POSTS}/{post['id']}/reports"
    assert client.post(path, json={"reason": "spam"}).status_code == 401
    bad = client.post(path, json={"reason": "dull"}, headers=reporter.headers)
    assert bad.status_code == 422
    made = client.post(path, json={"reason": "spam", "details": "ads"}, headers=reporter.headers)
    assert made.status_code == 201 and made.json() == {"hidden": True}
    assert client.get(f"{POSTS}/{post['id']}").status_code == 404

    queue = "/api/community/moderation"
    assert client.get(queue, headers=reporter.headers).status_code == 403
    [item] = client.get(queue, headers=admin.headers).json()["items"]
    assert (item["id"], item["status"], item["reasons"]) == (
        post["id"],
        "hidden",
        ["Spam or advertising ×1"],
    )
    assert reporter.email not in json.dumps(item)
    decided = client.post(
        f"{queue}/{post['id']}", json={"decision": "restore"}, headers=admin.headers
    )
    assert decided.status_code == 204
    assert client.get(f"{POSTS}/{post['id']}").status_code == 200
