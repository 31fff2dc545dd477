"""The `chiso` command line. Each domain contributes a Typer app or commands in its cli.py;
this file only assembles them."""

from __future__ import annotations

import typer

from chiso.cli import core

app = typer.Typer(
    name="chiso",
    help="chiso — chỉ số chuyển đổi số: targets, data, status, DTI and reports for a "
    "provincial digital-transformation steering committee.\n\n"
    "Example: chiso demo --serve",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
core.register(app)


def _register_domains() -> None:
    """Domains register their commands here; one line each."""
    from chiso.cli import registry

    for register in registry.domain_registrars():
        register(app)


_register_domains()
