"""The `chiso` command line. Each domain contributes a Typer app or commands in its cli.py;
this file only assembles them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from chiso.boot import boot
from chiso.cli import core
from chiso.errors import UserError

# ---- start-up (performance engineer, issue 18: `chiso status` ≤ 0.6 s) -------------------
# Commands whose registrar is known without importing every domain's CLI: the committee's
# first question must not wait for every domain's libraries to load. A quick command boots
# chiso itself when it needs the database (`main` does not), and its module imports only
# what it needs to print: the database layer alone costs ~0.5 s to load.
QUICK_COMMANDS = {"status": "chiso.analytics.cli"}


def _registered(register: Callable[[typer.Typer], None]) -> dict[str, Any]:
    """The commands a domain registrar adds, as the Click-style commands Typer builds."""
    cli = typer.Typer(rich_markup_mode="rich")  # as the root below
    register(cli)
    commands = dict(typer.main.get_group(cli).commands)
    for command in commands.values():
        _reflow_help(command)
    return commands


def _reflow_help(command: Any) -> None:
    """Join the lines of each paragraph of a command's help (and its sub-commands'). Typer's
    rich help keeps a docstring's line breaks, so a paragraph wrapped at 92 columns in the
    source printed at 80 as ragged lines ('… propose its' / 'targets,' / 'achieved …'). A
    paragraph written as lines — a list, an indented example, click's `\b` — stays."""
    if command.help:
        command.help = "\n\n".join(_reflowed(p) for p in command.help.split("\n\n"))
    for sub in getattr(command, "commands", {}).values():
        _reflow_help(sub)


def _reflowed(paragraph: str) -> str:
    lines = paragraph.split("\n")
    if any(line.startswith(("\b", " ", "-", "•", "*")) for line in lines[1:]) or \
            paragraph.startswith("\b"):
        return paragraph
    return " ".join(line.strip() for line in lines)


class DomainCommands(TyperGroup):
    """The root group. The domains' commands (`chiso.cli.registry`) are registered when a
    command is first looked up — a quick command by itself, any other with all of them —
    or when the list is read (help, the CLI reference)."""

    _domains_loaded = False

    @property  # type: ignore[override]
    def commands(self) -> dict[str, Any]:
        if not self._domains_loaded:
            self._load_domains()
        return self._commands

    @commands.setter
    def commands(self, given: Any) -> None:
        self._commands: dict[str, Any] = dict(given)
        for command in self._commands.values():
            _reflow_help(command)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self._commands and not self._domains_loaded:
            quick = QUICK_COMMANDS.get(cmd_name)
            if quick:
                self._commands.update(_registered(importlib.import_module(quick).register))
            else:
                self._load_domains()
        return self._commands.get(cmd_name)

    def _load_domains(self) -> None:
        from chiso.cli import registry

        self._domains_loaded = True
        quick = {name: self._commands.pop(name) for name in QUICK_COMMANDS
                 if name in self._commands}  # re-added below, in registration order
        for register in registry.domain_registrars():
            for name, command in _registered(register).items():
                self._commands.setdefault(name, quick.get(name, command))
# ---- end start-up -----------------------------------------------------------------------


def build_cli() -> typer.Typer:
    """The `chiso` command, with the installation's own commands (init, serve, db) and
    every domain's group, registered explicitly from `chiso.cli.registry` (STYLE §14) when
    first needed (`DomainCommands`)."""
    cli = typer.Typer(
        name="chiso",
        help="chiso — chỉ số chuyển đổi số cho Ban Chỉ đạo cấp tỉnh.\n\nMục tiêu, số liệu, tình "
             "trạng, DTI và báo cáo của Ban Chỉ đạo về khoa học, công nghệ, đổi mới sáng tạo và "
             "chuyển đổi số.\n\nchiso — chỉ số chuyển đổi số: targets, data, status, DTI and "
             "reports for a provincial digital-transformation steering committee.\n\nExample: "
             "chiso demo --serve",
        no_args_is_help=True,
        rich_markup_mode="rich",
        cls=DomainCommands,
    )
    core.register(cli)
    return cli


app = build_cli()


def main() -> None:
    """The `chiso` program. Errors meant for users — a `UserError`, or a database not yet
    migrated — are printed as one message with exit code 2 instead of a traceback;
    anything else is a bug and keeps its traceback. (Nothing is decided by reading a
    message: the "vi / en" ValueError convention is gone.)"""
    quick = sys.argv[1:2] in ([name] for name in QUICK_COMMANDS)
    if not quick:
        boot()  # a quick command boots when it needs to (QUICK_COMMANDS)
    try:
        try:
            app()
        except SystemExit as done:  # Click ends every command with SystemExit
            if done.code in (0, None) and not quick:
                _refresh_status_answers()
            raise
    except UserError as exc:
        _refuse(exc.message)
    except Exception as exc:
        if not _unmigrated(exc):
            raise
        from chiso.db.engine import DatabaseNotMigrated

        _refuse(str(DatabaseNotMigrated(_database())))


def _refresh_status_answers() -> None:
    """A command that succeeded may have changed the data: today's stored `chiso status`
    answers are computed again now, while the database layer is loaded, rather than by the
    next `chiso status` (`chiso.analytics.snapshot.refresh_stored_answers`). The command's own
    work is done and committed: a failure here is reported, never turned into its failure."""
    from chiso.analytics.snapshot import refresh_stored_answers

    try:
        refresh_stored_answers()
    except Exception as exc:  # a cache: the next `chiso status` computes instead
        Console(stderr=True).print(
            f"[yellow]![/] Không cập nhật được câu trả lời đã lưu của chiso status / the stored "
            f"answers of chiso status were not refreshed: {escape(str(exc))}")


def _unmigrated(exc: Exception) -> bool:
    """Whether `exc` is the database not being migrated (or a database error because of
    it). The database layer is imported here, not at the top, for QUICK_COMMANDS."""
    from sqlalchemy.exc import SQLAlchemyError

    from chiso.db.engine import DatabaseNotMigrated, get_engine, is_migrated

    if isinstance(exc, DatabaseNotMigrated):
        return True
    if not isinstance(exc, SQLAlchemyError):
        return False
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
