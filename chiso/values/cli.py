"""`chiso import` and `chiso export`: data values in the long format (docs/data-format.md)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from chiso.cli.tables import print_table

console = Console()
STAGES = {"read": "Đọc tệp / reading", "validate": "Kiểm tra / validating",
          "compare": "So sánh với dữ liệu đã lưu / comparing", "store": "Lưu / storing"}


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.command("export")(export_command)


def import_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="Tệp .csv, .xlsx hoặc .xls dạng dài / A .csv, .xlsx or .xls "
                                     "file in the long format."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Kiểm tra và cho xem thay đổi, không "
                                                          "lưu / Check and show the changes; "
                                                          "store nothing."),
) -> None:
    """Nhập số liệu.

    Kiểm tra từng dòng trước: tệp có lỗi thì không lưu gì và liệt kê lỗi theo tệp, trang, dòng, cột
    và quy tắc; nhập lại cùng tệp không đổi gì.

    Import data values. Every row is checked first: a file with any error stores nothing
    and the errors are listed with file, sheet, row, column and rule; importing the same
    file again changes nothing.

    Example: chiso import so-lieu-quy-3.xlsx --dry-run
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.ops.archives import check_input_file
    from chiso.values.importer import import_values

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(STAGES["read"], total=len(STAGES))

        def on_stage(name: str) -> None:
            progress.update(task, description=STAGES[name], advance=1)

        with session_scope() as session:
            # The operator runs the command: the import is theirs, audited as system:cli.
            result = import_values(session, check_input_file(file),
                                   access=Access.system(session, "cli"),
                                   dry_run=dry_run, on_stage=on_stage)
            if dry_run or not result.ok:
                session.rollback()
    if not result.ok:
        _print_errors(result)
        raise typer.Exit(1)
    _print_summary(result)


def _print_errors(result) -> None:  # type: ignore[no-untyped-def]
    table = Table(title=f"Lỗi / errors: {len(result.errors)} — không lưu gì / nothing stored",
                  title_style="bold red", show_lines=False)
    for header in ("Tệp / file", "Trang / sheet", "Dòng / row", "Cột / column",
                   "Quy tắc / rule", "Lỗi / problem"):
        table.add_column(header, overflow="fold")
    for issue in result.errors[:200]:
        table.add_row(issue.file, issue.sheet or "–",
                      str(issue.row) if issue.row is not None else "–",
                      issue.column_shown if issue.column else "–",
                      issue.rule, f"{issue.message_vi} / {issue.message_en}")
    print_table(console, table)
    if len(result.errors) > 200:
        console.print(f"… và {len(result.errors) - 200} lỗi khác / more errors")


def _print_summary(result) -> None:  # type: ignore[no-untyped-def]
    counts = result.counts
    mode = ("[yellow]Chạy thử, không lưu / dry run, nothing stored[/]" if result.dry_run
            else "[green]✓ Đã lưu / stored[/]")
    console.print(f"{mode} — {result.file_name}: {counts['rows']} dòng / rows; "
                  f"thêm / inserted {counts['inserted']}, cập nhật / updated "
                  f"{counts['updated']}, không đổi / unchanged {counts['unchanged']}",
                  highlight=False)
    if result.updates.height:
        table = Table(title="Thay đổi / updates (tối đa 30 / first 30)")
        for header in ("Dòng / row", "Đơn vị / unit", "Chỉ tiêu / indicator", "Kỳ / period",
                       "Cũ / old", "Mới / new"):
            table.add_column(header)
        for row in result.updates.head(30).iter_rows(named=True):
            table.add_row(str(row["row"]), row["unit_code"], row["indicator_code"],
                          row["period"], _number(row["value_old"]), _number(row["value"]))
        print_table(console, table)


def _number(value: float | None) -> str:
    from chiso.text import format_number

    if value is None:
        return "–"
    return format_number(value, 0 if value == round(value) else 2)


def export_command(
    output: Path = typer.Option(..., "-o", "--output", dir_okay=False,
                                help="Tệp ghi ra: .csv hoặc .xlsx / Output file: .csv or .xlsx."),
    unit: str = typer.Option(None, "--unit", help="Mã đơn vị: đơn vị đó và mọi đơn vị trực thuộc "
                                                  "/ Unit code: that unit and all under it."),
    year: int = typer.Option(None, "--year", help="Chỉ các kỳ trong năm này / Only periods "
                                                  "within this year."),
    indicator: str = typer.Option(None, "--indicator", help="Chỉ chỉ tiêu có mã này / Only this "
                                                            "indicator code."),
) -> None:
    """Xuất số liệu hiện hành dạng dài; nhập lại tệp này không đổi gì.

    Export current data values in the long format; the file re-imports with no change.

    Example: chiso export --unit 20 --year 2025 -o so-lieu-2025.xlsx
    """
    from chiso.db import session_scope
    from chiso.values.exporter import ExportError, export_frame, write_export

    try:
        with session_scope() as session, console.status("Đang xuất / exporting…"):
            frame = export_frame(session, unit=unit, year=year, indicator=indicator)
            write_export(frame, output)
    except ExportError as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    console.print(f"[green]✓[/] {frame.height} dòng / rows → {output}", highlight=False)
