"""`chiso records …`: ingest one-stop dossier feeds, generate a synthetic feed, recompute.

The operator's commands act as the system job "records-feed" (`Access.system`, audited as
`system:records-feed`). A refused file or unit is a `UserError`, which `chiso` prints with
exit code 2. Services are imported inside the commands so that `chiso` itself starts
without loading DuckDB and Polars."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from chiso.cli.tables import print_table
from chiso.text import format_moment, format_number

console = Console()
records_app = typer.Typer(
    help="Hồ sơ thủ tục hành chính một cửa và các chỉ tiêu tính từ hồ sơ.\n\nOne-stop dossier "
         "records (hồ sơ TTHC) and the indicators computed from them.\n\nExample: chiso records "
         "ingest mot-cua-2025-08.csv",
    no_args_is_help=True)

JOB = "records-feed"
STEP_LABELS = {"check": "Kiểm tra / checking", "store": "Ghi kho / storing",
               "compute": "Tính chỉ tiêu / computing indicators",
               "save": "Lưu số liệu / saving values"}


def register(app: typer.Typer) -> None:
    app.add_typer(records_app, name="records")


def _month(text: str | None) -> int | None:
    """A period month in any spelling `chiso.periods` reads (2025-08, 08/2025, Tháng 8/2025)."""
    from chiso.periods import PeriodType, parse_period

    if not text:
        return None
    period = parse_period(text)
    if period.type is not PeriodType.MONTH:
        raise typer.BadParameter(f"'{text}': cần một tháng, ví dụ 2025-08 / a month, e.g. "
                                 "2025-08")
    return int(period.id)


@records_app.command("procedures")
def procedures(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                           help="Tệp CSV danh mục thủ tục (các cột ghi bên phải) "
                                                "/ CSV: code, name, level, service_level, field")
               ) -> None:
    """Nạp hoặc cập nhật danh mục thủ tục hành chính từ tệp CSV.

    Load or update the procedure catalogue (thủ tục hành chính) from a CSV file.

    Example: chiso records procedures data/feed.procedures.csv
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.ops.archives import check_input_file
    from chiso.records.service import load_procedures

    with session_scope() as session:
        counts = load_procedures(session, check_input_file(file),
                                 access=Access.system(session, JOB))
    console.print(f"[green]✓[/] Thủ tục / procedures: thêm {counts['inserted']} inserted, "
                  f"cập nhật {counts['updated']} updated, giữ nguyên {counts['unchanged']} "
                  "unchanged")


@records_app.command("ingest")
def ingest(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False,
                                       help="Tệp hồ sơ CSV, JSON Lines hoặc Parquet / CSV, JSON "
                                            "Lines or Parquet feed files"),
    procedures_file: Path = typer.Option(None, "--procedures", exists=True, dir_okay=False,
                                         help="Nạp danh mục thủ tục này trước / Load this "
                                              "procedure catalogue first."),
    memory_mb: int = typer.Option(0, min=0, help="Giới hạn bộ nhớ (MB); 0: một phần tư bộ nhớ "
                                                 "máy, từ 1.024 đến 4.096 / Memory cap of the "
                                                 "engine (MB); 0: a quarter of this machine's "
                                                 "memory, 1,024 to 4,096."),
) -> None:
    """Nạp tệp hồ sơ, mỗi tệp một lô.

    Tất cả hoặc không, hồ sơ gửi lại được cập nhật, cùng một tệp hai lần không đổi gì; chỉ tiêu của
    các tháng liên quan được tính lại.

    Ingest dossier files, one batch each: all-or-nothing, re-sent dossiers update,
    the same file twice changes nothing; indicators of the touched months are recomputed.

    Example: chiso records ingest data/feed.parquet --procedures data/feed.procedures.csv
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.ops.archives import check_input_file
    from chiso.records.engine import DEFAULT_MEMORY_MB
    from chiso.records.service import ingest_file

    memory_mb = memory_mb or DEFAULT_MEMORY_MB
    for path in files:  # every file bounded before the first batch is stored
        check_input_file(path)
    if procedures_file:
        procedures(procedures_file)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        files_task = bar.add_task("Tệp / files", total=len(files))
        for path in files:
            step_task = bar.add_task(path.name, total=4)

            def step(name: str, task: TaskID = step_task, file: str = path.name) -> None:
                bar.update(task, advance=0 if name == "check" else 1,
                           description=f"{file}: {STEP_LABELS[name]}")
            with session_scope() as session:
                result = ingest_file(session, path, access=Access.system(session, JOB),
                                     step=step, memory_mb=memory_mb)
            bar.update(step_task, completed=4, description=f"{path.name}: xong / done")
            bar.advance(files_task)
            _print_result(result)


def _print_result(result) -> None:  # type: ignore[no-untyped-def]
    if result.already_ingested:
        console.print(f"[yellow]=[/] {result.file_name}: đã nạp trước đây, không đổi gì / "
                      "already ingested, nothing changed")
        return
    console.print(
        f"[green]✓[/] {result.file_name}: lô / batch {result.batch_id}: đọc "
        f"{format_number(result.rows_read, 0)} read, lưu {format_number(result.rows_stored, 0)} "
        f"stored, bỏ qua {format_number(result.rows_ignored, 0)} ignored (cũ hoặc trùng / "
        f"older or same); {len(result.months)} tháng / months; số liệu / values: thêm "
        f"{result.values_inserted} inserted, cập nhật {result.values_updated} updated "
        f"({result.seconds:.1f} s)")


@records_app.command("generate")
def generate(
    out: Path = typer.Option(..., "-o", "--output", help="Tệp nguồn: .parquet, .csv hoặc .jsonl "
                                                         "/ Feed file: .parquet, .csv or .jsonl"),
    province: str = typer.Option(None, help="Mã tỉnh (hiện nay), ví dụ 20 / Province code "
                                            "(today's), e.g. 20."),
    country: bool = typer.Option(False, "--country", help="Mọi tỉnh / Every province."),
    months: int = typer.Option(36, help="Số tháng tính đến tháng này / Number of months up to "
                                        "this month."),
    seed: int = typer.Option(1, help="Cùng hạt giống, cùng số liệu / Same seed, same feed."),
    rows: int = typer.Option(None, help="Số hồ sơ (mặc định: theo dân số) / Number of dossiers "
                                        "(default: by population)."),
) -> None:
    """Sinh nguồn hồ sơ giả lập sát thực tế (kèm danh mục thủ tục bên cạnh).

    Write a realistic synthetic feed (and its procedure catalogue next to it).

    Example: chiso records generate --province 20 --months 36 --seed 1 -o data/feed.parquet
    """
    from chiso.db import session_scope
    from chiso.records.generator import generate as write_feed
    from chiso.settings import get_settings

    if bool(province) == country:
        raise typer.BadParameter("--province CODE hoặc / or --country")
    columns = (TextColumn("Sinh hồ sơ / generating"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as bar, session_scope() as session:
        task = bar.add_task("gen", total=rows)
        result = write_feed(session, out, province=None if country else province,
                            months=months, seed=seed, rows=rows,
                            end=get_settings().current_date(),
                            progress=lambda n: bar.advance(task, n))
    console.print(f"[green]✓[/] {format_number(result.rows, 0)} bản ghi / records, "
                  f"{result.units} đơn vị / units, {result.months[0]}–{result.months[-1]} → "
                  f"{result.path}; danh mục thủ tục / procedures → {result.procedures_path}")


@records_app.command("recompute")
def recompute(
    unit: str = typer.Option(None, help="Chỉ đơn vị này và các đơn vị trực thuộc / Only this "
                                        "unit and the units below it."),
    month_from: str = typer.Option(None, "--from", help="Tháng đầu, YYYY-MM / First month, "
                                                        "YYYY-MM."),
    month_to: str = typer.Option(None, "--to", help="Tháng cuối, YYYY-MM / Last month, YYYY-MM."),
) -> None:
    """Tính lại các chỉ tiêu từ toàn bộ hồ sơ đã lưu (sửa chữa).

    Giá trị không đổi được giữ nguyên.

    Recompute the indicators from all stored records (repairs); unchanged values are
    left alone.

    Example: chiso records recompute --unit 20 --from 2025-01 --to 2025-12
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.records.service import recompute as run

    columns = (SpinnerColumn(), TextColumn("Tính lại / recomputing"), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar, session_scope() as session:
        bar.add_task("recompute", total=None)
        result = run(session, access=Access.system(session, JOB), unit_code=unit,
                     month_from=_month(month_from), month_to=_month(month_to))
    console.print(f"[green]✓[/] {len(result.months)} tháng / months; thêm {result.inserted} "
                  f"inserted, cập nhật {result.updated} updated, giữ nguyên {result.unchanged} "
                  f"unchanged ({result.seconds:.1f} s)")


@records_app.command("batches")
def batches(limit: int = typer.Option(20, help="Bao nhiêu lô, mới nhất trước / How many, newest "
                                               "first.")) -> None:
    """Liệt kê các lô hồ sơ nạp gần nhất.

    List the latest ingested batches.

    Example: chiso records batches --limit 10
    """
    from chiso.db import session_scope
    from chiso.records.service import batches as latest

    table = Table("#", "Nguồn / source", "Tệp / file", "Trạng thái / status", "Đọc / read",
                  "Lưu / stored", "Tháng / months", "Lúc / at")
    with session_scope() as session:
        for batch in latest(session, limit):
            months = batch.months.split(",") if batch.months else []
            table.add_row(str(batch.id), batch.source, batch.file_name, batch.status,
                          format_number(batch.rows_read, 0), format_number(batch.rows_stored, 0),
                          f"{months[0]}–{months[-1]}" if months else "",
                          # Vietnam time: stored in UTC, 7 hours behind the officers' clock.
                          format_moment(batch.started_at)
                          if batch.started_at else "")
    print_table(console, table)


def today() -> dt.date:
    from chiso.settings import get_settings

    return get_settings().current_date()
