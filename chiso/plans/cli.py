"""`chiso plan …`: load a plan from YAML or XLSX, list and show plans, export to XLSX,
revise a target from a date on a document, and show targets as they stood on a day."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from chiso.cli.tables import print_table

console = Console()
plan_app = typer.Typer(help="Kế hoạch, nghị quyết, … và các mục tiêu.\n\nPlans (kế hoạch, nghị "
                            "quyết, …) and their targets.\n\nExample: chiso plan show 72-KH/BCĐ",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")


@plan_app.command("load")
def load(
    file: Path = typer.Argument(..., dir_okay=False, help="Tệp kế hoạch: .yaml hoặc .xlsx / Plan "
                                                          "file: .yaml or .xlsx."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Chỉ kiểm tra và báo cáo, không lưu / "
                                                          "Check and report, store nothing."),
) -> None:
    """Nạp kế hoạch và mục tiêu từ YAML hoặc Excel (docs/plan-format.md).

    Tất cả hoặc không: tệp có lỗi thì không lưu gì và ghi rõ tệp, trang, dòng, cột, quy tắc; nạp lại
    cùng tệp không đổi gì.

    Load a plan and its targets from YAML or Excel (docs/plan-format.md). All or nothing:
    a file with an error stores nothing and names file, sheet, row, column and rule;
    loading the same file again changes nothing.

    Example: chiso plan load chiso/plans/data/20-72-KH-BCD-2023.yaml
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.indicators.problems import InputRejected
    from chiso.ops.archives import check_input_file
    from chiso.plans.service import load_plan

    try:
        with session_scope() as session:
            summary = load_plan(session, check_input_file(file),
                                access=Access.system(session, "cli"),
                                dry_run=dry_run)
            if dry_run:
                session.rollback()
    except InputRejected as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    if dry_run:
        console.print("[yellow]Chạy thử, không lưu / dry run, nothing stored[/]")
    state = ("tạo mới / created" if summary.plan_created else
             "cập nhật / updated" if summary.plan_changes else "giữ nguyên / unchanged")
    console.print(
        f"[green]✓[/] {summary.plan_code} ({summary.file}): kế hoạch / plan {state}; chỉ tiêu / "
        f"targets: thêm {len(summary.inserted)} inserted, cập nhật {len(summary.updated)} "
        f"updated, giữ nguyên {len(summary.unchanged)} unchanged", highlight=False)
    for sign, labels in (("+", summary.inserted), ("~", summary.updated)):
        for label in labels:
            console.print(f"  {sign} {label}", highlight=False)
    if summary.kept:
        console.print(f"  {len(summary.kept)} chỉ tiêu không có trong tệp vẫn được giữ / targets "
                      "not in the file are kept: " + ", ".join(summary.kept), highlight=False)
    if summary.parents_changed:
        console.print("  căn cứ / implements: " + ", ".join(summary.parents_changed),
                      highlight=False)
    for label in summary.revised:
        console.print(f"  ↘ điều chỉnh / revised: {label}", highlight=False)


@plan_app.command("list")
def list_plans() -> None:
    """Liệt kê các kế hoạch đã nạp và số mục tiêu.

    List the loaded plans with their number of targets.

    Example: chiso plan list
    """
    from chiso.db import session_scope
    from chiso.plans.service import list_plans as plans
    from chiso.text import format_date

    table = Table("Số hiệu / code", "Ngày / date", "Năm / years", "Chỉ tiêu / targets",
                  "Trích yếu / title")
    with session_scope() as session:
        rows = plans(session)
        for plan, count in rows:
            years = (str(plan.year_from) if plan.year_from == plan.year_to
                     else f"{plan.year_from}–{plan.year_to}")
            table.add_row(plan.code, format_date(plan.issued_on), years, str(count), plan.title)
    if not rows:
        console.print("Chưa có kế hoạch nào / no plans yet: chiso plan load FILE")
        return
    print_table(console, table)


@plan_app.command("show")
def show(code: str = typer.Argument(..., help="Số hiệu kế hoạch, ví dụ 72-KH/BCĐ / The plan's số "
                                              "hiệu, e.g. 72-KH/BCĐ.")) -> None:
    """Xem một kế hoạch và các mục tiêu, theo trụ cột.

    Show a plan and its targets, grouped by pillar.

    Example: chiso plan show 72-KH/BCĐ
    """
    from chiso.db import session_scope
    from chiso.plans.revisions import revision_badge, target_versions
    from chiso.plans.service import PlanNotFound, get_plan, plan_targets, target_as_dict
    from chiso.text import format_date, format_number

    try:
        with session_scope() as session:
            plan = get_plan(session, code)
            table = Table("Số / id", "Trụ cột", "Chỉ số / indicator", "Đơn vị / unit",
                          "Ngày đích / date", "Chỉ tiêu / target", "Xuất phát / baseline",
                          title=f"{plan.code} · {plan.title}")
            for target in plan_targets(session, plan):
                row = target_as_dict(session, target)
                badge = revision_badge(target_versions(session, target.id))
                revised = (f"\n[dim]điều chỉnh từ / revised from "
                           f"{format_date(badge['effective_from'])}[/]" if badge else "")
                table.add_row(str(target.id), row["pillar"] or "",
                              f"{row['indicator_name_vi']}\n[dim]{row['indicator']}[/]",
                              row["unit"], format_date(row["target_date"]),
                              f"{row['comparator']} {format_number(row['value'], 2)} "
                              f"{row['unit_vi']}{revised}",
                              format_number(row["baseline_value"], 2))
    except PlanNotFound as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    print_table(console, table)


@plan_app.command("export")
def export(
    code: str = typer.Argument(..., help="Số hiệu kế hoạch, ví dụ 72-KH/BCĐ / The plan's số "
                                         "hiệu, e.g. 72-KH/BCĐ."),
    output: Path = typer.Option(..., "-o", "--output", dir_okay=False, help="Tệp XLSX / XLSX "
                                                                            "file."),
) -> None:
    """Xuất kế hoạch ra Excel theo mẫu mà `chiso plan load` đọc lại không đổi.

    Export a plan to Excel in the layout `chiso plan load` reads back unchanged.

    Example: chiso plan export 72-KH/BCĐ -o 72-KH-BCD.xlsx
    """
    from chiso.db import session_scope
    from chiso.plans.service import PlanNotFound, export_plan_xlsx

    try:
        with session_scope() as session:
            path = export_plan_xlsx(session, code, output)
    except PlanNotFound as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    console.print(f"[green]✓[/] {path}", highlight=False)


@plan_app.command("revise")
def revise(
    target_id: int = typer.Argument(..., help="Số thứ tự của mục tiêu (xem bằng chiso plan show) "
                                              "/ The target's id (chiso plan show CODE)."),
    value: str = typer.Option(..., "--value", help="Giá trị mục tiêu mới, ví dụ 1 hoặc 1,5 / The "
                                                   "new target value, e.g. 1 or 1,5."),
    effective: str = typer.Option(..., "--from", help="Có hiệu lực từ ngày (dd/mm/yyyy) / In "
                                                      "force from this day (dd/mm/yyyy)."),
    basis: str = typer.Option(..., "--basis",
                              help="Số hiệu văn bản làm căn cứ điều chỉnh / Số hiệu of the "
                                   "document the revision rests on."),
    basis_date: str = typer.Option("", "--basis-date", help="Ngày của văn bản đó / That "
                                                            "document's date."),
    note: str = typer.Option("", "--note", help="Lý do, vài chữ / Why, in a few words."),
) -> None:
    """Điều chỉnh mục tiêu từ một ngày theo một văn bản.

    Giá trị cũ vẫn có hiệu lực trước ngày đó (báo cáo các kỳ trước giữ nguyên) và còn trong lịch sử.

    Revise a target from a date on a document: the earlier value stays in force before
    that date (reports for earlier periods keep it) and stays in the history.

    Example: chiso plan revise 12 --value 1 --from 15/06/2025 --basis 123/BCĐTW-VP
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.errors import UserError
    from chiso.plans.revisions import revise_target, target_versions
    from chiso.text import parse_date

    try:
        with session_scope() as session:
            revise_target(session, target_id, value=value, effective_from=parse_date(effective),
                          basis_code=basis, basis_date=parse_date(basis_date) if basis_date
                          else None, note=note, access=Access.system(session, "cli"))
            versions = target_versions(session, target_id)
    except UserError as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    _print_versions(target_id, versions)


@plan_app.command("history")
def history(target_id: int = typer.Argument(
        ..., help="Số thứ tự của mục tiêu / The target's id.")) -> None:
    """Mọi giá trị một mục tiêu đã có.

    Giá trị ban đầu của kế hoạch, rồi từng lần điều chỉnh kèm ngày và căn cứ; sau đó từng lần
    đính chính chỉ tiêu, đơn vị, năm, ngày đích, giá trị xuất phát, lộ trình hoặc trụ cột.

    Every value a target had: the plan's own, then each revision with its date and basis;
    then each correction of its indicator, unit, year, date, baseline, path or pillar.

    Example: chiso plan history 12
    """
    from chiso.db import session_scope
    from chiso.plans.details import corrections
    from chiso.plans.revisions import target_versions
    from chiso.text import format_moment

    with session_scope() as session:
        versions = target_versions(session, target_id)
        fixes = corrections(session, [target_id]).get(target_id, [])
    if not versions:
        console.print(f"[red]✗[/] Không có chỉ tiêu số {target_id} / no target {target_id}")
        raise typer.Exit(1)
    _print_versions(target_id, versions)
    for fix in fixes:
        console.print(f"đính chính {fix.told('vi')} / corrected {fix.told('en')}, "
                      f"{format_moment(fix.recorded_at)}")


def _print_versions(target_id: int, versions: list[dict[str, Any]]) -> None:
    from chiso.text import format_date, format_moment, format_number

    table = Table("Lần / version", "Hiệu lực từ / in force from", "Chỉ tiêu / target",
                  "Căn cứ / basis", "Ghi chú / note", title=f"Chỉ tiêu / target {target_id}")
    for v in versions:
        start = v["effective_from"]
        when = format_date(start) if start else "theo kế hoạch / as planned"
        if v["corrects"]:
            when = (f"đính chính lần {v['corrects']} / correction of {v['corrects']}, "
                    f"{format_moment(v['recorded_at'])} ({when})")
        table.add_row(str(v["version"]), when,
                      f"{v['comparator']} {format_number(v['value'], 2)}",
                      f"{v['basis_code']} {format_date(v['basis_date'])}".strip(),
                      str(v["note"] or ""))
    print_table(console, table)


@plan_app.command("in-force")
def in_force(
    on: str = typer.Option("", "--on", help="Ngày (dd/mm/yyyy); mặc định hôm nay / The day "
                                            "(dd/mm/yyyy); default today."),
    unit: str = typer.Option("", "--unit", help="Chỉ mục tiêu của đơn vị này (mã) / Only this "
                                                "unit's targets (code)."),
    year: int = typer.Option(0, "--year", help="Chỉ mục tiêu của năm này / Only targets of this "
                                               "year."),
) -> None:
    """Mục tiêu như tại một ngày: phiên bản có hiệu lực và từ khi nào.

    Targets as they stood on a day: the version in force, and since when.

    Example: chiso plan in-force --on 31/03/2025 --unit 20 --year 2025
    """
    from sqlalchemy import select

    from chiso.db import session_scope
    from chiso.plans.revisions import targets_in_force
    from chiso.settings import get_settings
    from chiso.text import format_date, format_number, parse_date
    from chiso.units.models import OrgUnit

    day = parse_date(on) if on else get_settings().current_date()
    table = Table("Số / id", "Kế hoạch / plan", "Chỉ số / indicator", "Đơn vị / unit",
                  "Chỉ tiêu / target", "Từ / since", "Căn cứ / basis",
                  title=f"Chỉ tiêu áp dụng ngày {format_date(day)} / targets in force")
    with session_scope() as session:
        unit_ids = (list(session.scalars(select(OrgUnit.id).where(OrgUnit.code == unit)))
                    if unit else None)
        for row in targets_in_force(session, on=day, unit_ids=unit_ids, year=year or None):
            table.add_row(str(row.target_id), row.plan_code, row.indicator_code, row.unit_code,
                          f"{row.comparator} {format_number(row.value, 2)}",
                          format_date(row.effective_from) if row.effective_from else "–",
                          f"{row.basis_code} {format_date(row.basis_date)}".strip())
    print_table(console, table)
