"""The `chiso` command line. Each domain contributes a Typer app or commands in its cli.py;
this file only assembles them."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from chiso.boot import boot
from chiso.cli import core
from chiso.db.engine import DatabaseNotMigrated
from chiso.errors import UserError


def build_cli() -> typer.Typer:
    """The `chiso` command, with the installation's own commands (init, serve, db) and
    every domain's group, registered explicitly from `chiso.cli.registry` (STYLE §14)."""
    from chiso.cli import registry

    cli = typer.Typer(
        name="chiso",
        help="chiso — chỉ số chuyển đổi số: targets, data, status, DTI and reports for a "
        "provincial digital-transformation steering committee.\n\n"
        "Example: chiso demo --serve",
        no_args_is_help=True,
        rich_markup_mode="rich",
    )
    core.register(cli)
    for register in registry.domain_registrars():
        register(cli)
    return cli


app = build_cli()


def main() -> None:
    """The `chiso` program. Errors meant for users — a `UserError`, or a database not yet
    migrated — are printed as one message with exit code 2 instead of a traceback;
    anything else is a bug and keeps its traceback. (Nothing is decided by reading a
    message: the "vi / en" ValueError convention is gone.)"""
    boot()
    try:
        app()
    except UserError as exc:
        _refuse(exc.message)
    except (SQLAlchemyError, DatabaseNotMigrated) as exc:
        if not _unmigrated(exc):
            raise
        _refuse(str(DatabaseNotMigrated(_database())))


def _unmigrated(exc: Exception) -> bool:
    from chiso.db.engine import get_engine, is_migrated

    if isinstance(exc, DatabaseNotMigrated):
        return True
    try:
        return not is_migrated(get_engine())
    except SQLAlchemyError:
        return False


def _database() -> str:
    from chiso.db.engine import get_engine

    return get_engine().url.render_as_string(hide_password=True)


def _refuse(message: str) -> None:
    Console(stderr=True).print(f"[red]✗[/] {escape(message)}")
    raise SystemExit(2)
