"""A post's share page, `/community/<id>`, answered with its OpenGraph and Twitter tags in
the HTML itself: crawlers run no JavaScript, so a link shared anywhere shows the picture,
its title and its author.

The page is the app's own single-page shell (Reflex's SPA fallback from the production
build) with the tags put into its <head>; the browser then runs the app as on any page.
Without a build (the API alone, in tests) a small HTML page carries the same tags and a
link. A post that is not visible answers 404 with the shell, whose page says so.
"""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from reflex.utils.prerequisites import get_web_dir
from reflex_base import constants

from studio_app.services import community_feed
from studio_app.services.community_feed import PostView
from studio_app.settings import get_settings

router = APIRouter()
SITE_NAME = "Studio"
_HEADERS = {"Cache-Control": "public, max-age=60"}


def _shell_path() -> Path:
    return get_web_dir() / constants.Dirs.STATIC / constants.ReactRouter.SPA_FALLBACK


@lru_cache(maxsize=2)
def _shell(path: Path, modified: float) -> str:
    return path.read_text(encoding="utf-8")


def _app_shell() -> str | None:
    path = _shell_path()
    try:
        return _shell(path, path.stat().st_mtime)
    except OSError:
        return None


def _tags(post: PostView | None, page_url: str) -> str:
    if post is None:
        title, description, image = f"Post unavailable — {SITE_NAME}", "", ""
    else:
        title = f"{post.title} by {post.author} — {SITE_NAME}"
        description = post.caption or post.prompt or f"A picture made with {SITE_NAME}."
        image = f"{get_settings().public_url}{post.image_url}"
    pairs = [
        ("property", "og:site_name", SITE_NAME),
        ("property", "og:type", "article"),
        ("property", "og:title", title),
        ("property", "og:url", page_url),
        ("name", "twitter:title", title),
    ]
    if description:
        pairs += [
            ("property", "og:description", description[:300]),
            ("name", "description", description[:300]),
            ("name", "twitter:description", description[:300]),
        ]
    if image and post is not None:
        pairs += [
            ("property", "og:image", image),
            ("property", "og:image:width", str(post.width)),
            ("property", "og:image:height", str(post.height)),
            ("property", "og:image:alt", post.title),
            ("name", "twitter:card", "summary_large_image"),
            ("name", "twitter:image", image),
        ]
    meta = "".join(
        f'<meta {kind}="{html.escape(key)}" content="{html.escape(value)}"/>'
        for kind, key, value in pairs
    )
    return f"<title>{html.escape(title)}</title>{meta}"


def _plain_page(tags: str, post: PostView | None) -> str:
    body = (
        f'<h1>{html.escape(post.title)}</h1><img src="{html.escape(post.image_url)}" '
        f'alt="{html.escape(post.title)}"/>'
        if post
        else "<p>This post is unavailable.</p>"
    )
    return f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/>{tags}</head><body>{body}</body></html>'


@router.get("/community/{post_id}", response_class=HTMLResponse, include_in_schema=False)
@router.get("/community/{post_id}/", response_class=HTMLResponse, include_in_schema=False)
def share_page(post_id: str) -> HTMLResponse:
    post = community_feed.post(post_id)
    page_url = f"{get_settings().public_url}/community/{post_id}"
    tags = _tags(post, page_url)
    shell = _app_shell()
    if shell is None or "<head>" not in shell:
        page = _plain_page(tags, post)
    else:
        page = shell.replace("<head>", f"<head>{tags}", 1)
    return HTMLResponse(page, status_code=200 if post else 404, headers=_HEADERS)
