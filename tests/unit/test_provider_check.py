"""`python -m studio_app.cli providers [--live]` tells the truth about each provider."""

from __future__ import annotations

import os
import subprocess
import sys

from studio_app.settings import PROJECT_ROOT, Settings
from tests.fakes import openai_api, replicate_api
from tests.fakes.server import FakeServer


def _cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    clean.update(
        STUDIO_DATABASE_URL=settings.database_url,
        STUDIO_IMAGES_DIR=str(settings.images_dir),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "studio_app.cli", "providers", *args],
        cwd=PROJECT_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _line(output: str, label: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(label))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        block.append(line.strip())
    return block


def test_without_keys_only_the_offline_provider_is_configured(migrated_db: Settings) -> None:
    # A fixed-size OpenAI model, so a tier is unavailable (the default draws every tier).
    done = _cli(migrated_db, STUDIO_OPENAI_IMAGE_MODEL="gpt-image-1.5")
    assert done.returncode == 0, done.stderr
    assert "configured" in _line(done.stdout, "Studio offline")[0]
    for label in ("OpenAI", "Google Gemini", "Replicate", "Hugging Face"):
        assert _line(done.stdout, label)[0].endswith("not configured"), label
    assert _line(done.stdout, "OpenAI")[1:] == [
        "premium-wide: unavailable — OpenAI's gpt-image-1.5 makes square, 3:2 and 2:3 images only"
    ]


def test_live_reports_what_each_call_really_returned(
    migrated_db: Settings, fake: FakeServer
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.image_of_requested_size)
    fake.on(
        "POST",
        replicate_api.CREATE_PATH,
        replicate_api.problem(
            401, "Unauthenticated", "You did not pass a valid authentication token"
        ),
    )
    done = _cli(
        migrated_db,
        "--live",
        OPENAI_API_KEY="sk-check",
        OPENAI_BASE_URL=f"{fake.url}/v1",
        REPLICATE_API_TOKEN="r8-check",
        REPLICATE_BASE_URL=fake.url,
    )
    openai_report = "\n".join(_line(done.stdout, "OpenAI"))
    replicate_report = "\n".join(_line(done.stdout, "Replicate"))
    assert "live: works — PNG 1024×1024" in openai_report
    assert "live: key rejected" in replicate_report
    assert "works" not in replicate_report
    assert "live:" not in "\n".join(_line(done.stdout, "Google Gemini"))
    assert done.returncode == 1  # one configured provider does not work
    assert len(fake.requests_to(openai_api.GENERATIONS_PATH)) == 1


def test_live_says_when_a_model_has_gone_and_members_stop_seeing_the_provider(
    migrated_db: Settings, fake: FakeServer
) -> None:
    fake.on("POST", openai_api.GENERATIONS_PATH, openai_api.model_not_found("gpt-image-2.6-flare"))
    keys = {"OPENAI_API_KEY": "sk-check", "OPENAI_BASE_URL": f"{fake.url}/v1"}

    live = "\n".join(_line(_cli(migrated_db, "--live", **keys).stdout, "OpenAI"))
    assert "gpt-image-2.6-flare" in live
    assert "live: model gone — " in live
    assert "does not exist" in live  # the provider's own words

    # Recorded as a generation would record it: the next plain listing says so too.
    listing = "\n".join(_line(_cli(migrated_db, **keys).stdout, "OpenAI"))
    assert "model gone since" in listing and "hidden from members" in listing
    assert "does not exist" in listing
