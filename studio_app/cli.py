"""Command line: `python -m studio_app.cli <command>`.

migrate   apply the Alembic migrations
seed      add the seed catalog's missing categories and templates
setup     migrate, then seed (what `make run` does before serving)
"""

from __future__ import annotations

import argparse
import sys

from studio_app.services import catalog, migrations
from studio_app.services.db import write_session
from studio_app.settings import get_settings


def _migrate(_args: argparse.Namespace) -> None:
    before = migrations.current_revision()
    migrations.upgrade_to_head()
    after = migrations.current_revision()
    if before == after:
        print(f"Database is up to date (revision {after}).")
    else:
        print(f"Database migrated from {before or 'empty'} to {after}.")


def _seed(_args: argparse.Namespace) -> None:
    with write_session() as db:
        result = catalog.seed_catalog(db)
    print(
        f"Seed catalog: {result.categories_added} categories and "
        f"{result.templates_added} templates added."
    )


def _setup(args: argparse.Namespace) -> None:
    _migrate(args)
    _seed(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studio_app.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=_migrate)
    commands.add_parser("seed", help="seed the template catalog").set_defaults(func=_seed)
    commands.add_parser("setup", help="migrate and seed").set_defaults(func=_setup)
    args = parser.parse_args(argv)
    get_settings()  # fail early on a bad environment
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
