"""The list of domain CLI registrars. A domain with commands adds one line."""

from __future__ import annotations

from collections.abc import Callable

import typer


def domain_registrars() -> list[Callable[[typer.Typer], None]]:
    from chiso.accounts.cli import register as accounts
    from chiso.analytics.cli import register as analytics
    from chiso.bench.cli import register as bench
    from chiso.collection.cli import register as collection
    from chiso.demo.cli import register as demo
    from chiso.dti.cli import register as dti
    from chiso.exchange.cli import register as exchange
    from chiso.extract.cli import register as extract
    from chiso.funding.cli import register as funding
    from chiso.indicators.cli import register as catalog
    from chiso.meetings.cli import register as meetings
    from chiso.ops.cli import register as ops
    from chiso.plans.cli import register as plan
    from chiso.records.cli import register as records
    from chiso.reports.cli import register as report
    from chiso.scoring.cli import register as scoring
    from chiso.storage.cli import register as storage
    from chiso.tasks.cli import register as tasks
    from chiso.units.cli import register as units
    from chiso.values.cli import register as values

    return [demo, accounts, ops, units, dti, analytics, bench, catalog, plan, values, records,
            tasks, meetings, report, collection, funding, extract, scoring,
            exchange, storage]
