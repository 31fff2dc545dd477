"""`chiso status`: the committee's first question, answered in a terminal table.

This module is imported on its own for `chiso status` (`chiso.cli.main.QUICK_COMMANDS`) and
loads only what printing needs: an answer stored by an earlier run is printed while the data
behind it is unchanged (`analytics.snapshot`), else a running server's answer
(`analytics.resident`); only when neither is there does it load the database layer and the
engine (`snapshot.compute`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from itertools import groupby

import typer
from rich.console import Console
from rich.table import Table

from chiso.analytics import resident, snapshot
from chiso.analytics.answers import Status, TargetStatus, vocabulary
from chiso.analytics.snapshot import Answer, Question
from chiso.cli.tables import print_table
from chiso.errors import NotFound
from chiso.settings import Settings, get_settings
from chiso.text import format_date, format_measure, parse_date
from chiso.text.dates import DateError
from chiso.web.i18n import gettext_for

console = Console()

STATUS_STYLE = {
    Status.ACHIEVED: "bold green",
    Status.ON_TRACK: "green",
    Status.AT_RISK: "yellow",
    Status.OFF_TRACK: "bold red",
    Status.NO_DATA: "dim",
    Status.MET: "bold green",
    Status.MISSED: "bold red",
    Status.NOT_IMPLEMENTED: "magenta",
}
COMPARATOR_SIGNS = {">=": "≥", "<=": "≤", "=": "=", "between": "∈"}
ILLUSTRATIVE_MARK = "*"  # after an actual that rests on figures the demo invented
LEFT_OUT_MARK = "†"  # after an actual that some sub-unit figures could not enter


def register(app: typer.Typer) -> None:
    app.command("status")(status)


def status(
    unit: str = typer.Option(None, help="Mã đơn vị (mặc định: CHISO_DEFAULT_UNIT, ví dụ 20) / "
                                        "Unit code (default: CHISO_DEFAULT_UNIT, e.g. 20)."),
    year: int = typer.Option(None, help="Năm của mục tiêu (mặc định: năm nay) / Target year "
                                        "(default: the current year)."),
    as_of: str = typer.Option(None, "--as-of", help="Tính tại ngày này (dd/mm/yyyy) / Evaluate "
                                                    "at this date (dd/mm/yyyy)."),
    lang: str = typer.Option("vi", help="Ngôn ngữ: vi hoặc en / vi or en."),
) -> None:
    """Tình trạng các mục tiêu của một đơn vị trong năm.

    Thực hiện, kỳ vọng theo lộ trình, dự báo và tình trạng có màu — đã đạt, đúng tiến độ, có nguy cơ
    chậm, chậm tiến độ, chưa có số liệu khi năm chưa hết; đạt, không đạt, chưa triển khai, chưa có
    số liệu khi năm đã kết thúc. Số liệu minh họa có dấu *.

    Show a unit's targets for a year with actual, expected on path, projection and a
    coloured status: achieved, on track, at risk, off track or no data while the year runs;
    met, missed, not implemented or no data once it is over. Figures the demo invented are
    marked *.

    Example: chiso status --unit 20 --year 2025 --as-of 30/09/2025
    """
    settings = get_settings()
    unit = unit or settings.default_unit
    try:
        day = parse_date(as_of) if as_of else None
    except DateError as exc:
        console.print(f"[red]✗[/] --as-of: {exc}")
        raise typer.Exit(2) from exc
    year = year or (day or settings.current_date()).year
    question = Question(unit, year, day or settings.current_date())
    try:
        answer = _answer(question, settings)
    except NotFound as exc:  # an unknown unit
        console.print(f"[red]✗[/] {exc}")
        raise typer.Exit(2) from exc
    pillars = {code: (en if lang == "en" and en else vi)
               for code, (vi, en) in answer.pillars.items()}
    name = unit
    if answer.unit_names:  # a name, not a code, in front of people
        vi_name, en_name = answer.unit_names
        name = en_name if lang == "en" and en_name else vi_name
    _print(answer.rows, pillars, name, year, lang)


def _answer(question: Question, settings: Settings) -> Answer:
    """The cheapest fresh answer: the one stored by an earlier run while the data is
    unchanged, else a running server's (it has everything loaded: ~0.1 s), else
    computed here (~1 s of it loading the database layer and the engine)."""
    database = snapshot.stamped_database(settings.sqlalchemy_url)
    answer = snapshot.load(settings.data_dir, database, question) if database else None
    if answer is None:
        answer = resident.ask(settings.data_dir, settings.sqlalchemy_url, question)
    if answer is None:
        answer = snapshot.compute(question, settings, database)
    return answer


def _print(rows: list[TargetStatus], pillars: dict[str, str], name: str, year: int,
           lang: str) -> None:
    _ = gettext_for(lang)
    if not rows:
        console.print(_("{unit} has no targets in {year}.", unit=name, year=year))
        return
    as_of: dt.date | None = rows[0].as_of
    title = _("{unit}: targets for {year} — as of {day}", unit=name, year=year,
              day=format_date(as_of, lang))
    if all(row.closed for row in rows):
        title += " — " + _("the year is over: year-end results")
    table = Table(title=title, show_lines=False, header_style="bold")
    for header, justify in ((_("Indicator"), "left"), (_("Target"), "right"),
                            (_("Actual"), "right"), (_("Expected on path"), "right"),
                            (_("Projected"), "right"), (_("Status"), "left")):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for pillar, group in groupby(rows, key=lambda r: r.pillar_code):
        table.add_row(f"[bold cyan]{pillars.get(pillar or '', pillar or _('Other'))}[/]")
        for row in group:
            table.add_row(*_cells(row, lang))
    print_table(console, table)
    counts = Counter(row.status for row in rows)
    console.print("  ".join(f"[{STATUS_STYLE[s]}]{s.label(lang)}: {counts.get(s, 0)}[/]"
                            for s in vocabulary(row.closed for row in rows)))
    for note in _footnotes(rows, _):
        console.print(note)


def _cells(row: TargetStatus, lang: str) -> list[str]:
    def show(value: float | None) -> str:
        unit = row.unit_en if lang == "en" and row.unit_en else row.unit_vi
        return format_measure(value, row.decimals, unit, lang)

    name = row.indicator_name_en if lang == "en" and row.indicator_name_en \
        else row.indicator_name_vi
    marks = (ILLUSTRATIVE_MARK if row.illustrative else "") + (
        LEFT_OUT_MARK if row.not_aggregatable else "")
    target = show(row.target_value)
    if row.comparator == "between":
        target = f"{target}–{show(row.value_high)}"
    expected = show(row.expected)
    if row.year_to_date and not row.closed:  # a flow: the share of the target by then
        expected += " " + gettext_for(lang)("(to {day})",
                                            day=format_date(row.year_to_date, lang))
    style = STATUS_STYLE[row.status]
    return [f"  {name}", f"{COMPARATOR_SIGNS.get(row.comparator, row.comparator)} {target}",
            show(row.actual) + marks, expected, show(row.projected),
            f"[{style}]● {row.status.label(lang)}[/]"]


def _footnotes(rows: list[TargetStatus], _: Callable[..., str]) -> list[str]:
    notes = []
    if any(row.year_to_date and not row.closed for row in rows):
        notes.append(_("Yearly totals (counts, amounts) are compared year to date with the "
                       "share of the target expected by the date shown."))
    if any(row.illustrative for row in rows):
        notes.append(f"[bold yellow]{ILLUSTRATIVE_MARK} "
                     + _("Illustrative figures: invented by the demo, not reported data.")
                     + "[/]")
    left_out = sum(row.not_aggregatable for row in rows)
    if left_out:
        notes.append(f"{LEFT_OUT_MARK} " + _(
            "{n} sub-unit figures were given only as a percentage, without numerator and "
            "denominator, and could not enter the total.", n=left_out))
    return notes
