"""`chiso units …`: load the official units and departments, list and show units."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chiso.cli.tables import print_table
from chiso.text import format_date, format_number, parse_date
from chiso.units.models import FAR_PAST

console = Console()
units_app = typer.Typer(help="Đơn vị: tỉnh, sở, ngành, xã và lịch sử sáp nhập, chia tách.\n\nOrg "
                             "units: provinces, departments, communes, and their "
                             "lineage.\n\nExample: chiso units list --parent 20 --kind xa",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(units_app, name="units")


def _day(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


@units_app.command("load")
def load(
    province: list[str] = typer.Option(None, help="Chỉ các tỉnh này (mã hiện nay) / Only these "
                                                  "provinces (today's codes)."),
) -> None:
    """Nạp danh mục đơn vị hành chính chính thức trước và sau 1/7/2025 cùng quan hệ cũ → mới.

    Chạy lại không đổi gì.

    Load the official units before and after 1/7/2025 and the old → new lineage.
    Running it again changes nothing.

    Example: chiso units load
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.units.service import load_official_units

    columns = (TextColumn("Đơn vị / units"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as bar, session_scope() as session:
        task = bar.add_task("load", total=None)
        summary = load_official_units(
            session, lambda done, total: bar.update(task, completed=done, total=total),
            access=Access.system(session, "cli"), provinces=province or None)
    console.print(
        f"[green]✓[/] Đơn vị / units: thêm {summary.units_inserted} inserted, "
        f"cập nhật {summary.units_updated} updated, giữ nguyên {summary.units_unchanged} "
        f"unchanged; liên kết / lineage: thêm {summary.lineage_inserted} inserted, "
        f"giữ nguyên {summary.lineage_unchanged} unchanged")


@units_app.command("load-departments")
def load_departments(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Tệp YAML / YAML file."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Chỉ kiểm tra và báo cáo, không lưu / "
                                                          "Check and report, store nothing."),
) -> None:
    """Nạp sở, ban, ngành từ tệp YAML sửa được.

    Tất cả hoặc không: tệp có lỗi thì không lưu gì và liệt kê mọi lỗi.

    Load departments and agencies (sở, ban, ngành) from an editable YAML file.
    All or nothing: a file with an error stores nothing and lists every problem.

    Example: chiso units load-departments chiso/units/data/departments-20.yaml
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.units.departments import DepartmentFileError
    from chiso.units.service import load_departments as load_file

    try:
        with session_scope() as session:
            summary = load_file(session, file, access=Access.system(session, "cli"),
                                dry_run=dry_run)
            if dry_run:
                session.rollback()
    except DepartmentFileError as exc:
        for problem in exc.problems:
            console.print(f"[red]✗[/] {problem}", soft_wrap=True)
        raise typer.Exit(1) from exc
    verb = "sẽ / would" if dry_run else "đã / did"
    console.print(f"[green]✓[/] {verb}: thêm {len(summary.inserted)} inserted "
                  f"{summary.inserted}, cập nhật {len(summary.updated)} updated "
                  f"{summary.updated}, giữ nguyên {len(summary.unchanged)} unchanged; "
                  f"liên kết / lineage +{summary.lineage_inserted}")


@units_app.command("list")
def list_units(
    parent: str = typer.Option(None, help="Mã đơn vị cấp trên (mặc định: các tỉnh) / Code of the "
                                          "parent unit (default: provinces)."),
    on: str = typer.Option(None, help="Ngày (dd/mm/yyyy); mặc định hôm nay / Date (dd/mm/yyyy or "
                                      "yyyy-mm-dd); default today."),
    kind: str = typer.Option(None, help="Chỉ loại đơn vị này (mã loại: xa, phuong, so_ban_nganh, "
                                        "…) / Only this kind (xa, phuong, so_ban_nganh, …)."),
    search: str = typer.Option(None, "--search", "-q", help="Tên có chứa (có dấu hoặc không dấu) "
                                                            "/ Name contains (any accents)."),
) -> None:
    """Liệt kê đơn vị có hiệu lực tại một ngày.

    Đơn vị trực thuộc của một đơn vị, hoặc các tỉnh.

    List units valid on a date: a unit's sub-units, or the provinces.

    Example: chiso units list --parent 20 --on 30/06/2025 --kind huyen
    """
    from sqlalchemy import select

    from chiso.db import session_scope
    from chiso.units import service
    from chiso.units.models import UnitKind

    day = _day(on) or service.today()
    with session_scope() as session:
        parent_id = service.get_unit(session, parent, day).id if parent else None
        if search:
            units = service.find_units(session, search, day, kind=kind, parent_id=parent_id)
        elif parent_id is not None:
            units = service.children(session, parent_id, day, kind=kind)
        else:
            units = service.top_units(session, day, kind=kind)
        table = Table(title=f"{len(units)} đơn vị / units · {format_date(day)}")
        for column in ("Mã / code", "Tên / name", "Loại / kind", "Diện tích / km²"):
            table.add_column(column)
        kinds = {k.code: k.name_vi for k in session.scalars(select(UnitKind))}
        for unit in units:
            table.add_row(unit.code, unit.name, kinds.get(unit.kind, unit.kind),
                          format_number(unit.area_km2, 2) if unit.area_km2 else "")
        print_table(console, table)


@units_app.command("show")
def show(
    code: str = typer.Argument(..., help="Mã đơn vị, ví dụ 20 hoặc 06184 / Unit code, e.g. 20 or "
                                         "06184."),
    on: str = typer.Option(None, help="Ngày (dd/mm/yyyy); mặc định hôm nay / Date (dd/mm/yyyy or "
                                      "yyyy-mm-dd); default today."),
) -> None:
    """Xem một đơn vị: loại, cấp trên, hiệu lực, đơn vị trực thuộc và lịch sử.

    Show one unit: kind, parent, validity, sub-units and lineage.

    Example: chiso units show 06184 --on 01/07/2025
    """
    from chiso.db import session_scope
    from chiso.units import service

    day = _day(on) or service.today()
    with session_scope() as session:
        try:
            unit = service.get_unit(session, code, day)
        except service.UnitNotFound as exc:
            console.print(f"[red]✗[/] {exc}")
            raise typer.Exit(1) from exc
        parent = service.get_unit_by_id(session, unit.parent_id) if unit.parent_id else None
        console.print(f"[bold]{unit.name}[/] ({unit.code}) · {unit.kind}")
        console.print(f"Cấp trên / parent: {parent.name if parent else '—'}")
        start = "" if unit.valid_from == FAR_PAST else format_date(unit.valid_from)
        console.print(f"Hiệu lực / valid: {start or '…'} – "
                      f"{format_date(unit.valid_to) if unit.valid_to else '…'}")
        console.print(f"Đơn vị trực thuộc / sub-units: "
                      f"{service.children_count(session, unit.id, day)}")
        for title, links in (("Từ / from", service.predecessors(session, unit.id)),
                             ("Thành / became", service.successors(session, unit.id))):
            for link in links:
                console.print(f"  {title} ({link.kind}{'' if link.is_primary else ', phụ'}) "
                              f"{link.unit.name} ({link.unit.code}) "
                              f"{format_date(link.event_date)}")


@units_app.command("committee")
def committee(
    on: str = typer.Option(None, "--on", help="Ngày (dd/mm/yyyy); mặc định hôm nay / The day "
                                              "(dd/mm/yyyy); default today."),
    load: Path = typer.Option(None, "--load", dir_okay=False,
                              help="Nạp tệp YAML tên Ban Chỉ đạo này trước / Load this "
                                   "committee-names YAML first."),
) -> None:
    """Tên Ban Chỉ đạo và cơ quan thường trực tại một ngày (đã đổi từ 3/2025 theo NQ 57-NQ/TW).

    Nạp tên riêng của tỉnh, có ngày hiệu lực, bằng --load.

    The steering committee's and its standing agency's names on a day (they changed in
    3/2025 under NQ 57-NQ/TW); load the province's own dated names with --load.

    Example: chiso units committee --on 31/12/2024
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.errors import UserError
    from chiso.units.committee import committee_names, load_committee_names

    try:
        with session_scope() as session:
            if load:
                changed = load_committee_names(session, load,
                                               access=Access.system(session, "cli"))
                console.print(f"[green]✓[/] {load.name}: {len(changed)} giai đoạn thêm hoặc "
                              f"sửa / periods added or changed", highlight=False)
            names = committee_names(session, _day(on))
    except UserError as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    since = format_date(names.valid_from) if names.valid_from else "–"
    until = format_date(names.valid_to) if names.valid_to else "–"
    console.print(f"{names.committee_vi}\n[dim]{names.committee_en}[/]\n"
                  f"Cơ quan thường trực / standing agency: {names.agency_vi} "
                  f"({names.agency_unit_code})\nHiệu lực / in force: {since} → {until}\n"
                  f"Căn cứ / basis: {names.basis}", highlight=False)
