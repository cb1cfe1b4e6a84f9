"""Point this process's settings at a given database and image folder, then put them back."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from studio_app.services import migrations
from studio_app.services.db import dispose_engines
from studio_app.settings import reload_settings


@contextmanager
def studio_env(workdir: Path, **settings: str) -> Iterator[None]:
    """Settings on `workdir`/studio.db and `workdir`/images (like the tests' fresh_env),
    plus any other STUDIO_* `settings`; every other STUDIO_* variable is hidden meanwhile.
    """
    saved = {k: v for k, v in os.environ.items() if k.startswith("STUDIO_")}
    for name in saved:
        del os.environ[name]
    os.environ["STUDIO_DATABASE_URL"] = f"sqlite:///{workdir / 'studio.db'}"
    os.environ["STUDIO_IMAGES_DIR"] = str(workdir / "images")
    os.environ.update(settings)
    dispose_engines()
    reload_settings()
    try:
        yield
    finally:
        dispose_engines()
        for name in [k for k in os.environ if k.startswith("STUDIO_")]:
            del os.environ[name]
        os.environ.update(saved)
        reload_settings()


@contextmanager
def temporary_studio(**settings: str) -> Iterator[Path]:
    """A new, migrated database and image folder in a temporary directory."""
    with (
        tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp,
        studio_env(Path(tmp), **settings),
    ):
        migrations.upgrade_to_head()
        yield Path(tmp)
