"""`chiso status`: the committee's first question, answered in a terminal table."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from itertools import groupby

import typer
from rich.console import Console
from rich.table import Table

from chiso.analytics.status import Status

console = Console()

STATUS_STYLE = {
    Status.ACHIEVED: "bold green",
    Status.ON_TRACK: "green",
    Status.AT_RISK: "yellow",
    Status.OFF_TRACK: "bold red",
    Status.NO_DATA: "dim",
}


def register(app: typer.Typer) -> None:
    app.command("status")(status)


def status(
    unit: str = typer.Option(None, help="Unit code (default: CHISO_DEFAULT_UNIT, e.g. 20)."),
    year: int = typer.Option(None, help="Target year (default: the current year)."),
    as_of: str = typer.Option(None, "--as-of", help="Evaluate at this date (dd/mm/yyyy)."),
    lang: str = typer.Option("vi", help="vi or en."),
) -> None:
    """Show a unit's targets for a year with actual, expected on path, projection and a
    coloured status (achieved, on track, at risk, off track, no data).

    Example: chiso status --unit 20 --year 2025 --as-of 30/09/2025
    """
    from chiso.analytics.service import UnknownUnit, target_statuses
    from chiso.db import session_scope
    from chiso.settings import get_settings
    from chiso.text import parse_date
    from chiso.text.dates import DateError

    settings = get_settings()
    unit = unit or settings.default_unit
    try:
        day = parse_date(as_of) if as_of else None
    except DateError as exc:
        console.print(f"[red]✗[/] --as-of: {exc}")
        raise typer.Exit(2) from exc
    year = year or (day or settings.current_date()).year
    try:
        with session_scope() as session:
            rows = target_statuses(session, unit_code=unit, year=year, as_of=day)
            pillars = _pillar_names(session, lang)
    except UnknownUnit as exc:
        console.print(f"[red]✗[/] {exc}")
        raise typer.Exit(1) from exc
    _print(rows, pillars, unit, year, lang)


def _pillar_names(session, lang: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from chiso.indicators.models import Pillar

    found = session.execute(select(Pillar.code, Pillar.name_vi, Pillar.name_en)).all()
    return {code: (en if lang == "en" and en else vi) for code, vi, en in found}


def _print(rows: list, pillars: dict[str, str], unit: str, year: int, lang: str  # type: ignore[type-arg]
           ) -> None:
    from chiso.text import format_date, format_number
    from chiso.web.i18n import gettext_for

    _ = gettext_for(lang)
    if not rows:
        console.print(_("No targets for unit {unit} in {year}.", unit=unit, year=year))
        return
    as_of: dt.date | None = rows[0].as_of
    title = _("Targets of unit {unit}, {year} — as of {day}", unit=unit, year=year,
              day=format_date(as_of, lang))
    table = Table(title=title, show_lines=False, header_style="bold")
    for header, justify in ((_("Indicator"), "left"), (_("Target"), "right"),
                            (_("Actual"), "right"), (_("Expected on path"), "right"),
                            (_("Projected"), "right"), (_("Status"), "left")):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]

    def show(value: float | None, row) -> str:  # type: ignore[no-untyped-def]
        text = format_number(value, row.decimals, lang)
        return f"{text}%" if value is not None and row.unit_vi == "%" else text

    for pillar, group in groupby(rows, key=lambda r: r.pillar_code):
        table.add_row(f"[bold cyan]{pillars.get(pillar or '', pillar or _('Other'))}[/]")
        for row in group:
            name = row.indicator_name_en if lang == "en" and row.indicator_name_en \
                else row.indicator_name_vi
            target = f"{row.comparator} {show(row.target_value, row)}"
            style = STATUS_STYLE[row.status]
            table.add_row(f"  {name}", target, show(row.actual, row), show(row.expected, row),
                          show(row.projected, row), f"[{style}]● {row.status.label(lang)}[/]")
    console.print(table)
    counts = Counter(row.status for row in rows)
    console.print("  ".join(f"[{STATUS_STYLE[s]}]{s.label(lang)}: {counts.get(s, 0)}[/]"
                            for s in Status))
