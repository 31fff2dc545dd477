"""`chiso plan …`: load a plan from YAML or XLSX, list and show plans, export to XLSX."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
plan_app = typer.Typer(help="Plans (kế hoạch, nghị quyết, …) and their targets.\n\n"
                       "Example: chiso plan show 72-KH/BCĐ",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")


@plan_app.command("load")
def load(
    file: Path = typer.Argument(..., dir_okay=False, help="Plan file: .yaml or .xlsx."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and report, store nothing."),
) -> None:
    """Load a plan and its targets from YAML or Excel (docs/plan-format.md). All or nothing:
    a file with an error stores nothing and names file, sheet, row, column and rule;
    loading the same file again changes nothing.

    Example: chiso plan load chiso/plans/data/20-72-KH-BCD-2023.yaml
    """
    from chiso.accounts.access import Access
    from chiso.db import session_scope
    from chiso.indicators.problems import InputRejected
    from chiso.plans.service import load_plan

    try:
        with session_scope() as session:
            summary = load_plan(session, file, access=Access.system(session, "cli"),
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


@plan_app.command("list")
def list_plans() -> None:
    """List the loaded plans with their number of targets.

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
    console.print(table)


@plan_app.command("show")
def show(code: str = typer.Argument(..., help="The plan's số hiệu, e.g. 72-KH/BCĐ.")) -> None:
    """Show a plan and its targets, grouped by pillar.

    Example: chiso plan show 72-KH/BCĐ
    """
    from chiso.db import session_scope
    from chiso.plans.service import PlanNotFound, get_plan, plan_targets, target_as_dict
    from chiso.text import format_date, format_number

    try:
        with session_scope() as session:
            plan = get_plan(session, code)
            table = Table("Trụ cột", "Chỉ số / indicator", "Đơn vị / unit", "Ngày đích / date",
                          "Chỉ tiêu / target", "Xuất phát / baseline", title=f"{plan.code} · "
                          f"{plan.title}")
            for target in plan_targets(session, plan):
                row = target_as_dict(session, target)
                table.add_row(row["pillar"] or "", f"{row['indicator_name_vi']}\n"
                              f"[dim]{row['indicator']}[/]", row["unit"],
                              format_date(row["target_date"]),
                              f"{row['comparator']} {format_number(row['value'], 2)} "
                              f"{row['unit_vi']}",
                              format_number(row["baseline_value"], 2))
    except PlanNotFound as exc:
        console.print(f"[red]✗[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    console.print(table)


@plan_app.command("export")
def export(
    code: str = typer.Argument(..., help="The plan's số hiệu, e.g. 72-KH/BCĐ."),
    output: Path = typer.Option(..., "-o", "--output", dir_okay=False, help="XLSX file."),
) -> None:
    """Export a plan to Excel in the layout `chiso plan load` reads back unchanged.

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
