"""`chiso exchange …`: write the feed for the systems above, import centrally assigned tasks."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()
exchange_app = typer.Typer(help="Số liệu gửi lên hệ thống cấp trên và nhiệm vụ Trung ương "
                                "giao.\n\nThe feed for the systems above the province, and "
                                "centrally assigned tasks.\n\nExample: chiso exchange feed -o "
                                "feed.json",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(exchange_app, name="exchange")


@exchange_app.command("feed")
def feed(
    output: Path = typer.Option(..., "-o", "--output", dir_okay=False,
                                help="Tệp ghi ra: JSON, XLSX hoặc CSV / feed.json, feed.xlsx, or "
                                     "kpis.csv / tasks.csv."),
    unit: str = typer.Option("", "--unit", help="Mã đơn vị (mặc định: đơn vị của hệ thống) / "
                                                "Unit code (default: the installation's)."),
    year: int = typer.Option(0, "--year", help="Năm của mục tiêu (mặc định: năm của ngày tính) / "
                                               "Year of the targets (default: the as-of's)."),
    as_of: str = typer.Option("", "--as-of", help="Tính đến ngày dd/mm/yyyy (mặc định: hôm nay) "
                                                  "/ dd/mm/yyyy (default: today)."),
    section: str = typer.Option("kpis", "--section", help="Với CSV: chỉ tiêu (kpis) hoặc nhiệm "
                                                          "vụ (tasks) / For CSV: kpis or tasks."),
) -> None:
    """Ghi chỉ tiêu và tiến độ nhiệm vụ của đơn vị tại một ngày (docs/exchange.md).

    JSON, XLSX hoặc một phần CSV.

    Write the unit's KPIs and task progress as of a date (docs/exchange.md): JSON, XLSX,
    or one CSV section.

    Example: chiso exchange feed --unit 20 --as-of 30/09/2026 -o lang-son-q3.json
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.errors import UserError
    from chiso.exchange import formats
    from chiso.exchange.feed import build_feed
    from chiso.settings import get_settings
    from chiso.text import parse_date

    suffix = output.suffix.lower()
    if suffix not in (".json", ".xlsx", ".csv"):
        console.print("[red]✗[/] Chỉ .json, .xlsx, .csv / only .json, .xlsx or .csv")
        raise typer.Exit(1)
    try:
        with session_scope() as session:
            built = build_feed(session, unit_code=unit or get_settings().default_unit,
                               access=Access.system(session, "cli"),
                               as_of=parse_date(as_of) if as_of else None, year=year or None)
            if suffix == ".xlsx":
                formats.write_xlsx(built, output)
            else:
                output.parent.mkdir(parents=True, exist_ok=True)
                output.write_bytes(formats.to_json(built) if suffix == ".json"
                                   else formats.to_csv(built, section))
    except UserError as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    console.print(f"[green]✓[/] {output}: {len(built.kpis)} chỉ tiêu / targets, "
                  f"{len(built.tasks)} nhiệm vụ / tasks, tính đến / as of "
                  f"{built.as_of:%d/%m/%Y}", highlight=False)


@exchange_app.command("import-tasks")
def import_tasks_cmd(
    file: Path = typer.Argument(..., dir_okay=False, help="Danh sách nhiệm vụ Trung ương giao "
                                                          "(.xlsx) / The central task list "
                                                          "(.xlsx)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Chỉ kiểm tra và báo cáo, không lưu / "
                                                          "Check and report, store nothing."),
) -> None:
    """Nhập nhiệm vụ Trung ương giao từ bảng tính.

    Tất cả hoặc không, nhập lại không đổi gì; đơn vị chủ trì theo tên hoặc mã, thời hạn là ngày hoặc
    kỳ.

    Import centrally assigned tasks (Trung ương giao) from a spreadsheet: all or nothing,
    idempotent; the lead unit by name or code, the deadline as a date or a period.

    Example: chiso exchange import-tasks nhiem-vu-trung-uong.xlsx --dry-run
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.errors import UserError
    from chiso.exchange.central_tasks import import_central_tasks

    try:
        with session_scope() as session:
            summary = import_central_tasks(session, file, dry_run=dry_run,
                                           access=Access.system(session, "cli"))
    except UserError as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        for issue in exc.issues[:30]:
            console.print(f"  · {issue}", highlight=False)
        raise typer.Exit(1) from exc
    mode = "[yellow]Chạy thử, không lưu / dry run[/] " if dry_run else ""
    console.print(f"{mode}[green]✓[/] {file.name}: thêm / new {len(summary.created)}, sửa / "
                  f"changed {len(summary.updated)}, giữ nguyên / unchanged "
                  f"{len(summary.unchanged)}", highlight=False)
