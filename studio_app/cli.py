"""Command line: `python -m studio_app.cli <command>`.

setup                migrate, seed, and create the admin from STUDIO_ADMIN_EMAIL /
                     STUDIO_ADMIN_PASSWORD when set (what `make run` does first)
migrate              apply the Alembic migrations
seed                 add the seed catalog's missing categories and templates
create-admin EMAIL   create an admin (or promote an account)
grant EMAIL CREDITS --as ADMIN_EMAIL
                     give an account free credits, as that admin (audit-logged;
                     the same --key grants once)
unlock EMAIL         clear an account's failed sign-ins (from every address)
providers [--live]   which image providers are configured; --live makes one real
                     call each and reports exactly what came back
worker               a job worker: runs the generations queued on Redis
                     (STUDIO_REDIS_URL); start as many as you like
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
import uuid

from studio_app.services import (
    admin_users,
    auth,
    catalog,
    emails,
    job_queue,
    job_worker,
    migrations,
    provider_check,
    signin_throttle,
)
from studio_app.services.errors import StudioError
from studio_app.settings import get_settings


def _migrate(_args: argparse.Namespace) -> None:
    before = migrations.current_revision()
    migrations.upgrade_to_head()
    after = migrations.current_revision()
    if before == after:
        print(f"Database is up to date (revision {after}).")
    else:
        print(f"Database migrated from {before or 'empty'} to {after}.")
    _report_lookalikes()


def _report_lookalikes() -> None:
    """Stored addresses migration 0009 could not normalise (it leaves them as they are).

    Printed on every migrate until resolved: alembic's own warnings are silent
    unless logging is configured.
    """
    plan = emails.lookalike_report()
    if plan.collisions:
        print(
            f"Warning: {len(plan.collisions)} group(s) of look-alike accounts share one "
            "normalised address; they were left unchanged. Sign-in reaches only an account "
            "stored in the normalised spelling: decide which is the person's and disable the "
            "others (admin tab).",
            file=sys.stderr,
        )
        for group in plan.collisions:
            print(f"  {group.describe()}", file=sys.stderr)
    if plan.unparseable:
        print(
            f"Warning: {len(plan.unparseable)} account(s) have an address that is not valid "
            "(nobody can sign in to them):",
            file=sys.stderr,
        )
        for user_id, stored in plan.unparseable:
            print(f"  user {user_id} {stored!a}", file=sys.stderr)


def _seed(_args: argparse.Namespace) -> None:
    result = catalog.seed()
    print(
        f"Seed catalog: {result.categories_added} categories and "
        f"{result.templates_added} templates added."
    )


def _setup(args: argparse.Namespace) -> None:
    _migrate(args)
    _seed(args)
    settings = get_settings()
    if settings.admin_email and settings.admin_password:
        created = auth.ensure_admin(settings.admin_email, settings.admin_password)
        action = "created" if created else "updated"
        print(f"Admin account {settings.admin_email} {action} (password: STUDIO_ADMIN_PASSWORD).")
    print(
        "Sign in: open http://localhost:3000, create an account at /signup "
        f"({settings.signup_grant_credits} free credits)"
        + (f", or sign in as the admin {settings.admin_email}." if settings.admin_email else ".")
    )
    if not settings.admin_email:
        print(
            "No admin configured: set STUDIO_ADMIN_EMAIL and STUDIO_ADMIN_PASSWORD, "
            "or run `.venv/bin/python -m studio_app.cli create-admin EMAIL`."
        )


def _create_admin(args: argparse.Namespace) -> None:
    password = get_settings().admin_password or getpass.getpass("Admin password: ")
    created = auth.ensure_admin(args.email, password)
    print(f"Admin {args.email} {'created' if created else 'updated'}.")


def _grant(args: argparse.Namespace) -> None:
    """The admin tab's grant, by an admin named on the command line (the audit log's actor)."""
    admin = auth.account_by_email(args.as_admin)
    if admin is None or not admin.is_admin:
        raise StudioError(f"{args.as_admin} is not an admin account.")
    user_id = admin_users.account_id(admin, args.email)
    result = admin_users.grant_credits(
        admin,
        user_id,
        str(args.credits),
        args.reason,
        idempotency_key=f"cli:{args.key or uuid.uuid4()}",
    )
    if result.credited:
        print(f"Granted {args.credits} credits to {args.email} ({result.available} available).")
    else:
        print(f"Key {args.key!r} was used before: nothing granted again.")


def _unlock(args: argparse.Namespace) -> None:
    done = signin_throttle.unlock_account(args.email)
    if not (done.failed_sign_ins or done.wrong_current_passwords):
        print(f"{done.email} had no failed sign-ins to clear; nothing changed.")
        return
    print(
        f"Unlocked {done.email}: cleared {done.failed_sign_ins} failed sign-in(s) from "
        f"{done.addresses} address(es) and {done.wrong_current_passwords} wrong current "
        "password(s). Failures counted against the addresses themselves stay."
    )


def _providers(args: argparse.Namespace) -> int:
    statuses = asyncio.run(provider_check.check_live()) if args.live else provider_check.describe()
    for status in statuses:
        state = "configured" if status.configured else "not configured"
        print(f"{status.label:<16} {status.model:<42} {state}")
        if status.gone:
            print(f"{'':<16} model gone {status.gone} — hidden from members; pick another")
        for tier, reason in status.unavailable_tiers.items():
            print(f"{'':<16} {tier}: unavailable — {reason}")
        if args.live and status.configured:
            print(f"{'':<16} live: {status.verdict} — {status.detail}")
    failed = [s for s in statuses if args.live and s.configured and not s.works]
    return 1 if failed else 0


def _worker(_args: argparse.Namespace) -> int:
    if not job_queue.is_enabled():
        print(
            "error: the job worker takes its jobs from Redis: set STUDIO_REDIS_URL "
            "(without it, the web process runs the generations itself).",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(job_worker.main())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m studio_app.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=_migrate)
    commands.add_parser("seed", help="seed the template catalog").set_defaults(func=_seed)
    commands.add_parser("setup", help="migrate, seed, admin").set_defaults(func=_setup)
    admin = commands.add_parser("create-admin", help="create or promote an admin")
    admin.add_argument("email")
    admin.set_defaults(func=_create_admin)
    grant = commands.add_parser("grant", help="give an account free credits")
    grant.add_argument("email")
    grant.add_argument("credits")
    grant.add_argument(
        "--as", dest="as_admin", required=True, metavar="ADMIN_EMAIL", help="the admin granting"
    )
    grant.add_argument("--reason", default="Granted by an admin")
    grant.add_argument("--key", help="idempotency key: the same key grants once")
    grant.set_defaults(func=_grant)
    unlock = commands.add_parser("unlock", help="clear an account's failed sign-ins")
    unlock.add_argument("email")
    unlock.set_defaults(func=_unlock)
    providers = commands.add_parser("providers", help="provider status; --live calls each")
    providers.add_argument("--live", action="store_true", help="make one real call each")
    providers.set_defaults(func=_providers)
    commands.add_parser("worker", help="run queued generations").set_defaults(func=_worker)
    args = parser.parse_args(argv)
    get_settings()  # fail early on a bad environment
    try:
        return args.func(args) or 0
    except StudioError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
