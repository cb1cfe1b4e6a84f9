"""Images over HTTP: only the owner's session and admins may fetch them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from studio_app.api.app import build_api
from studio_app.services import auth, creations, generation
from studio_app.services.generation import GenerationRequest
from tests import aio
from tests.factories import add_credits, make_account

pytestmark = pytest.mark.usefixtures("migrated_db")


@pytest.fixture
def client() -> TestClient:
    return TestClient(build_api())


@pytest.fixture
def owned_image() -> tuple[auth.SignedIn, str]:
    owner = make_account(email="owner@example.com")

    async def make_one() -> str:
        ticket = generation.start(
            owner.user_id, GenerationRequest(prompt="Sunflowers in a blue vase", tier="premium")
        )
        await generation.run(ticket)
        return ticket.public_id

    return owner, aio.run(make_one())


def _get(client: TestClient, url: str, token: str | None = None):  # type: ignore[no-untyped-def]
    client.cookies.clear()
    if token:
        client.cookies.set(auth.SESSION_COOKIE, token)
    return client.get(url)


def test_the_owner_gets_the_original_and_the_thumbnail(
    client: TestClient, owned_image: tuple[auth.SignedIn, str]
) -> None:
    owner, public_id = owned_image
    original = _get(client, f"/images/{public_id}", owner.token)
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/png"
    assert original.headers["cache-control"].startswith("private")
    thumb = _get(client, f"/images/{public_id}/thumbnail", owner.token)
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == "image/webp"
    assert len(thumb.content) * 5 < len(original.content)


def test_download_has_a_sensible_file_name(
    client: TestClient, owned_image: tuple[auth.SignedIn, str]
) -> None:
    owner, public_id = owned_image
    response = _get(client, f"/images/{public_id}?download=1", owner.token)
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment")
    assert "studio-sunflowers-in-a-blue-vase" in disposition
    assert disposition.endswith('.png"')


def test_another_user_gets_404(client: TestClient, owned_image: tuple[auth.SignedIn, str]) -> None:
    _, public_id = owned_image
    stranger = make_account(email="stranger@example.com")
    add_credits(stranger.user_id, 1)
    for suffix in ("", "/thumbnail"):
        response = _get(client, f"/images/{public_id}{suffix}", stranger.token)
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "No such image."}


@pytest.mark.parametrize("token", [None, "forged-token", ""])
def test_signed_out_or_forged_sessions_get_404(
    client: TestClient, owned_image: tuple[auth.SignedIn, str], token: str | None
) -> None:
    _, public_id = owned_image
    assert _get(client, f"/images/{public_id}", token).status_code == 404


def test_a_signed_out_session_loses_access(
    client: TestClient, owned_image: tuple[auth.SignedIn, str]
) -> None:
    owner, public_id = owned_image
    auth.sign_out(owner.token)
    assert _get(client, f"/images/{public_id}", owner.token).status_code == 404


def test_an_admin_may_see_any_image(
    client: TestClient, owned_image: tuple[auth.SignedIn, str]
) -> None:
    _, public_id = owned_image
    auth.ensure_admin("admin@example.com", "admin password 1")
    admin = auth.sign_in("admin@example.com", "admin password 1", client_address="x")
    assert _get(client, f"/images/{public_id}", admin.token).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/images/..%2F..%2Fstudio.db",
        "/images/%2e%2e/%2e%2e/etc/passwd",
        "/images/../../etc/passwd",
        "/images/2026%2F11%2Fabc.png",
        "/images/00000000000000000000000",
        "/images/000000000000000000000000",
        "/images/{id}/../../../../etc/passwd",
        "/images/{id}%00.png",
    ],
)
def test_path_tricks_get_404(
    client: TestClient, owned_image: tuple[auth.SignedIn, str], path: str
) -> None:
    owner, public_id = owned_image
    response = _get(client, path.replace("{id}", public_id), owner.token)
    assert response.status_code == 404
    assert b"PNG" not in response.content[:8]


def test_an_image_is_sent_whole_with_its_length_and_validators(
    client: TestClient, owned_image: tuple[auth.SignedIn, str]
) -> None:
    owner, public_id = owned_image
    for suffix in ("", "/thumbnail"):
        response = _get(client, f"/images/{public_id}{suffix}", owner.token)
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(response.content) > 0
        assert response.headers["vary"] == "Cookie"
        assert response.headers["etag"].startswith('"')
        assert response.headers["last-modified"].endswith(" GMT")
        assert "content-disposition" not in response.headers


def test_a_cached_copy_is_confirmed_without_the_bytes_but_only_for_its_owner(
    client: TestClient, owned_image: tuple[auth.SignedIn, str]
) -> None:
    owner, public_id = owned_image
    url = f"/images/{public_id}"
    etag = _get(client, url, owner.token).headers["etag"]

    client.cookies.set(auth.SESSION_COOKIE, owner.token)
    confirmed = client.get(url, headers={"If-None-Match": etag})
    assert confirmed.status_code == 304 and confirmed.content == b""
    assert confirmed.headers["etag"] == etag
    assert confirmed.headers["cache-control"] == "private, max-age=300"
    changed = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.content[:4] == b"\x89PNG"

    stranger = make_account(email="stranger@example.com")
    client.cookies.set(auth.SESSION_COOKIE, stranger.token)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 404


def test_a_deleted_image_is_gone_from_its_url(
    client: TestClient, owned_image: tuple[auth.SignedIn, str]
) -> None:
    owner, public_id = owned_image
    creations.delete_creation(auth.current_user(owner.token), public_id)
    for suffix in ("", "/thumbnail"):
        assert _get(client, f"/images/{public_id}{suffix}", owner.token).status_code == 404
