"""`chiso report quarterly|half-year|annual`: write the committee report.

Run by the operator as the system job "cli". What a signer must know (no signer's name, no
plan, illustrative figures, a provisional report) is printed in yellow after the files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from chiso.accounts.access import Access
from chiso.db import session_scope
from chiso.tasks.common import date_option

console = Console()
report_app = typer.Typer(help="Báo cáo của Ban Chỉ đạo (DOCX, phụ lục XLSX, PDF).\n\nThe "
                              "committee's report (DOCX, XLSX annex, PDF).\n\nExample: chiso "
                              "report quarterly --unit 20 --period 2026Q3",
                         no_args_is_help=True)

UNIT = typer.Option("20", "--unit", help="Mã đơn vị (tỉnh: 20 = Lạng Sơn) / Unit code (the "
                                         "province: 20 = Lạng Sơn).")
OUT = typer.Option(None, "--out", help="Thư mục ghi ra (mặc định: thư mục mới trong thư mục dữ "
                                       "liệu) / Folder to write to (default: a new folder under "
                                       "data dir/reports/<unit>/<period>/).")
NO_PDF = typer.Option(False, "--no-pdf", help="Không chuyển sang PDF / Do not convert to PDF.")
CLOSING = typer.Option(None, "--closing-date",
                       help="Ngày chốt số liệu dd/mm/yyyy: dùng số liệu ghi đến hết ngày này "
                            "(mặc định: ngày chốt đã ghi của báo cáo, không có thì ngày cuối kỳ) "
                            "/ Ngày chốt số liệu dd/mm/yyyy: use what was recorded by the end of "
                            "this day (default: the report's closing-date text, else the last "
                            "day of the period).")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


def _generate(kind: str, unit: str, period: str, out: Path | None, no_pdf: bool,
              closing: str | None) -> None:
    from chiso.reports.service import generate_report  # python-docx, openpyxl, matplotlib

    closing_date: dt.date | None = date_option(closing)
    # Inline, not `start_job`'s thread: this process is the worker and waits for its files,
    # so nothing of the command runs on after it exits, and a failure is its exit status.
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar, session_scope() as session:
        task = bar.add_task("Báo cáo / report", total=100)
        files = generate_report(
            session, unit_code=unit, kind=kind, period=period, out_dir=out, pdf=not no_pdf,
            access=Access.system(session, "cli"), closing_date=closing_date,
            progress=lambda p, step: bar.update(task, completed=p, description=step[:40]))
    for path in files.paths():
        console.print(f"[green]✓[/] {path}")
    if files.pdf is None and not no_pdf:
        console.print(f"[yellow]![/] {escape(files.pdf_skipped_reason)}")
    for warning in files.warnings:
        console.print(f"[bold yellow]! CẦN XỬ LÝ TRƯỚC KHI KÝ / BEFORE SIGNING:[/] "
                      f"{escape(warning)}")


@report_app.command("quarterly")
def quarterly(period: str = typer.Option(..., help="Quý, ví dụ \"Quý III/2025\" hoặc 2025Q3 / "
                                                   "Quarter, e.g. 2025Q3."),
              unit: str = UNIT, out: Path = OUT, no_pdf: bool = NO_PDF,
              closing_date: str = CLOSING) -> None:
    """Lập báo cáo quý: DOCX, phụ lục XLSX và PDF.

    Write the quarterly report (báo cáo quý) as DOCX, an XLSX annex and a PDF.

    Example: chiso report quarterly --unit 20 --period 2025Q3
    """
    _generate("quarterly", unit, period, out, no_pdf, closing_date)


@report_app.command("half-year")
def half_year(period: str = typer.Option(..., help="Kỳ 6 tháng, ví dụ \"6 tháng đầu năm 2025\" "
                                                   "hoặc 2025S1 / Half-year, e.g. 2025S1."),
              unit: str = UNIT, out: Path = OUT, no_pdf: bool = NO_PDF,
              closing_date: str = CLOSING) -> None:
    """Lập báo cáo 6 tháng.

    Write the six-month report (báo cáo 6 tháng).

    Example: chiso report half-year --unit 20 --period 2025S1
    """
    _generate("half_year", unit, period, out, no_pdf, closing_date)


@report_app.command("annual")
def annual(period: str = typer.Option(..., help="Năm, ví dụ 2025 / Year, e.g. 2025."),
           unit: str = UNIT, out: Path = OUT, no_pdf: bool = NO_PDF,
           closing_date: str = CLOSING) -> None:
    """Lập báo cáo năm.

    Write the annual report (báo cáo năm).

    Example: chiso report annual --unit 20 --period 2025 --closing-date 15/01/2026
    """
    _generate("annual", unit, period, out, no_pdf, closing_date)
