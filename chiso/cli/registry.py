"""The list of domain CLI registrars. A domain with commands adds one line."""

from __future__ import annotations

from collections.abc import Callable

import typer


def domain_registrars() -> list[Callable[[typer.Typer], None]]:
    from chiso.accounts.cli import register as accounts
    from chiso.dti.cli import register as dti
    from chiso.ops.cli import register as ops
    from chiso.units.cli import register as units

    return [accounts, ops, units, dti]
