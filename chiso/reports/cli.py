"""`chiso report quarterly|half-year|annual`: write the committee report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
report_app = typer.Typer(help="The committee's report (DOCX, XLSX annex, PDF).\n\n"
                         "Example: chiso report quarterly --unit 20 --period 2026Q3",
                         no_args_is_help=True)

UNIT = typer.Option("20", "--unit", help="Unit code (the province: 20 = Lạng Sơn).")
OUT = typer.Option(None, "--out", help="Folder to write to (default: data dir/reports).")
NO_PDF = typer.Option(False, "--no-pdf", help="Do not convert to PDF.")


def _generate(kind: str, unit: str, period: str, out: Path | None, no_pdf: bool) -> None:
    import chiso.db.models  # noqa: F401
    from chiso.db import session_scope
    from chiso.reports.data import ReportError
    from chiso.reports.service import generate_report

    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as bar, session_scope() as session:
            task = bar.add_task("Báo cáo / report", total=100)
            files = generate_report(
                session, unit_code=unit, kind=kind, period=period, out_dir=out, pdf=not no_pdf,
                progress=lambda p, step: bar.update(task, completed=p, description=step[:40]))
    except ReportError as exc:
        console.print(f"[red]✗[/] {exc}")
        raise typer.Exit(1) from exc
    for path in (files.docx, files.xlsx, files.pdf):
        if path:
            console.print(f"[green]✓[/] {path}")
    if files.pdf is None and not no_pdf:
        console.print(f"[yellow]![/] {files.pdf_skipped_reason}")


@report_app.command("quarterly")
def quarterly(period: str = typer.Option(..., help="Quarter, e.g. 2025Q3."),
              unit: str = UNIT, out: Path = OUT, no_pdf: bool = NO_PDF) -> None:
    """Write the quarterly report (báo cáo quý) as DOCX, an XLSX annex and a PDF.

    Example: chiso report quarterly --unit 20 --period 2025Q3
    """
    _generate("quarterly", unit, period, out, no_pdf)


@report_app.command("half-year")
def half_year(period: str = typer.Option(..., help="Half-year, e.g. 2025S1."),
              unit: str = UNIT, out: Path = OUT, no_pdf: bool = NO_PDF) -> None:
    """Write the six-month report (báo cáo 6 tháng).

    Example: chiso report half-year --unit 20 --period 2025S1
    """
    _generate("half_year", unit, period, out, no_pdf)


@report_app.command("annual")
def annual(period: str = typer.Option(..., help="Year, e.g. 2025."),
           unit: str = UNIT, out: Path = OUT, no_pdf: bool = NO_PDF) -> None:
    """Write the annual report (báo cáo năm).

    Example: chiso report annual --unit 20 --period 2025
    """
    _generate("annual", unit, period, out, no_pdf)
