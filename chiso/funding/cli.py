"""`chiso funding …`: import a budget table, approve figures, register programmes, set the
funding targets of a plan, compute the funding indicators, write the roadmap appendix.
The operator runs these commands: changes are audited as system:cli."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from chiso.accounts.access import Access
from chiso.cli.tables import print_table
from chiso.db import session_scope
from chiso.funding import roadmap, service
from chiso.funding.importer import FundingImportResult, import_budget_file
from chiso.funding.indicators import derived_access, refresh_indicators
from chiso.funding.service import ProgrammeInput
from chiso.funding.summary import province_of
from chiso.ops.archives import check_input_file
from chiso.periods import parse_period
from chiso.plans.service import get_plan
from chiso.text import parse_date
from chiso.units.service import get_unit

console = Console()
funding_app = typer.Typer(
    help="Kinh phí KH&CN, ĐMST và CĐS / funding: budget tables, approvals, roadmap.\n\n"
    "Example: chiso funding import du-toan-2026.xlsx --dry-run", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(funding_app, name="funding")


@funding_app.command("import")
def import_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="Bảng của Sở Tài chính (.xlsx, .xls, .ods, .csv) / The "
                                     "finance department's table (.xlsx, .xls, .ods, .csv)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Kiểm tra và cho xem thay đổi, không "
                                                          "lưu / Check and show the changes; "
                                                          "store nothing."),
    year: int | None = typer.Option(None, help="Năm ngân sách, khi tiêu đề bảng không ghi / The "
                                               "budget year, when the title does not say."),
    amount_unit: str = typer.Option("", help="Đơn vị tiền khi bảng không ghi: 'triệu đồng' (mặc "
                                             "định), 'tỷ đồng', 'nghìn đồng', 'đồng' / Unit of "
                                             "amounts when the table does not say: 'triệu đồng' "
                                             "(default), 'tỷ đồng', 'nghìn đồng', 'đồng'."),
    encoding: str = typer.Option("auto", help="Bảng mã chữ: tự nhận (auto), Unicode, TCVN3, VNI "
                                              "/ Text encoding: auto, unicode, tcvn3, vni."),
) -> None:
    """Nhập bảng kinh phí.

    Kiểm tra từng dòng trước, bảng có lỗi thì không lưu gì (lỗi ghi rõ trang, dòng, cột và quy tắc),
    số liệu đã lưu chờ duyệt, nhập lại cùng bảng không đổi gì.

    Import a budget table: every row is checked first, a table with any error stores
    nothing (errors name sheet, row, column and rule), stored figures wait for approval,
    and importing the same table again changes nothing.

    Example: chiso funding import du-toan-2026.xlsx --dry-run
    """
    with session_scope() as session:
        result = import_budget_file(session, check_input_file(file),
                                    access=Access.system(session, "cli"),
                                    dry_run=dry_run, year=year,
                                    amount_unit=amount_unit or None, encoding=encoding)
        if dry_run or not result.ok:
            session.rollback()
    if not result.ok:
        _print_errors(result)
        raise typer.Exit(1)
    counts = result.counts()
    mode = ("[yellow]Chạy thử, không lưu / dry run, nothing stored[/]" if dry_run
            else "[green]✓ Đã lưu, chờ phê duyệt / stored, awaiting approval[/]")
    console.print(f"{mode} — {result.file_name}: {counts['rows']} dòng / rows, "
                  f"{counts['lines']} dòng kinh phí / lines; mới / new {counts['inserted']}, "
                  f"thay đổi / changed {counts['updated']}, không đổi / unchanged "
                  f"{counts['unchanged']}", highlight=False)
    for vi, en in result.notes:
        console.print(f"[yellow]{vi} / {en}[/]", highlight=False)


def _print_errors(result: FundingImportResult) -> None:
    table = Table(title=f"Lỗi / errors: {len(result.errors)} — không lưu gì / nothing stored",
                  title_style="bold red")
    for header in ("Trang / sheet", "Dòng / row", "Cột / column", "Quy tắc / rule",
                   "Lỗi / problem"):
        table.add_column(header, overflow="fold")
    for issue in result.errors[:200]:
        table.add_row(issue.sheet or "–", str(issue.row) if issue.row is not None else "–",
                      issue.column_label or issue.column or "–", issue.rule,
                      f"{issue.message_vi} / {issue.message_en}")
    print_table(console, table)


@funding_app.command("approve")
def approve_command(
    unit: str = typer.Option(..., help="Mã tỉnh / The province's code."),
    year: int | None = typer.Option(None, help="Chỉ số liệu của năm này / Only this year's "
                                               "figures."),
    comment: str = typer.Option("", help="Ghi chú kèm lần duyệt / A note kept with the approval."),
) -> None:
    """Duyệt mọi số liệu kinh phí đang chờ duyệt của một năm.

    Sau đó tính lại các chỉ tiêu kinh phí.

    Approve every figure awaiting approval (of a year), then compute the funding
    indicators again.

    Example: chiso funding approve --unit 20 --year 2026
    """
    with session_scope() as session:
        province = get_unit(session, unit)
        result = service.approve_figures(session, access=Access.system(session, "cli"),
                                         scope_unit_id=province.id, year=year, comment=comment)
    console.print(f"[green]✓[/] Đã phê duyệt / approved: {result.approved}")


@funding_app.command("programmes")
def programmes_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="Tệp YAML danh sách chương trình, dự án / A YAML list of "
                                     "programmes and projects."),
) -> None:
    """Đăng ký chương trình, dự án (tạo mới, hoặc cập nhật cái cùng mã).

    Register programmes and projects (create, or update the one with the same code).
    Each entry: code, name, owner_unit, year_from, year_to, and optionally kind
    (programme | project), decision_number, decision_date (dd/mm/yyyy),
    total_investment (tỷ đồng), plan (its số hiệu), note.

    Example: chiso funding programmes du-an.yaml
    """
    entries = yaml.safe_load(file.read_text(encoding="utf-8-sig")) or []
    with session_scope() as session:
        access = Access.system(session, "cli")
        for entry in entries:
            programme = service.save_programme(session, _programme(session, entry),
                                               access=access)
            console.print(f"[green]✓[/] {programme.code}: {programme.name}", highlight=False)


def _programme(session: Any, entry: dict[str, Any]) -> ProgrammeInput:
    owner = get_unit(session, str(entry["owner_unit"]))
    total = entry.get("total_investment")
    return ProgrammeInput(
        code=str(entry["code"]), name=str(entry["name"]), owner_unit_id=owner.id,
        scope_unit_id=province_of(session, owner.id).id, year_from=int(entry["year_from"]),
        year_to=int(entry["year_to"]), kind=entry.get("kind", "project"),
        name_en=entry.get("name_en", ""), decision_number=str(entry.get("decision_number", "")),
        decision_date=parse_date(entry["decision_date"]) if entry.get("decision_date") else None,
        total_investment=service.to_dong(total, 10**9) if total is not None else None,
        plan_id=get_plan(session, entry["plan"]).id if entry.get("plan") else None,
        note=entry.get("note", ""))


@funding_app.command("targets")
def targets_command(
    plan: str = typer.Option(..., help="Số hiệu kế hoạch, ví dụ 72-KH/BCĐ / The plan's số hiệu, "
                                       "e.g. 72-KH/BCĐ."),
    unit: str = typer.Option(..., help="Đơn vị của mục tiêu (tỉnh) / The unit the targets are "
                                       "for (the province)."),
    year: int = typer.Option(..., help="Năm của mục tiêu / The target year."),
    share: float = typer.Option(3.0, help="Tỷ lệ chi ngân sách, % (Nghị quyết 57: ≥ 3) / Share "
                                          "of budget spending, % (Nghị quyết 57: ≥ 3)."),
    disbursement: float = typer.Option(100.0, help="Giải ngân đến 31/12, % kế hoạch vốn / "
                                                   "Disbursement by 31/12, % of the plan."),
) -> None:
    """Đặt mục tiêu kinh phí của một năm vào kế hoạch.

    Tỷ lệ chi ngân sách và giải ngân theo lộ trình quý mặc định (sửa sau như mọi mục tiêu).

    Put the funding targets of a year in a plan: the share of budget spending and
    disbursement along the default quarterly path (edit them later like any target).

    Example: chiso funding targets --plan 72-KH/BCĐ --unit 20 --year 2026
    """
    with session_scope() as session:
        ids = service.set_funding_targets(session, plan_code=plan, unit_code=unit, year=year,
                                          access=Access.system(session, "cli"), share=share,
                                          disbursement=disbursement)
    console.print(f"[green]✓[/] Chỉ tiêu / targets: {', '.join(map(str, ids))}")


@funding_app.command("refresh")
def refresh_command(
    unit: str = typer.Option(..., help="Mã tỉnh / The province's code."),
    year: int = typer.Option(..., help="Năm cần tính / The year to compute."),
) -> None:
    """Tính lại các chỉ tiêu kinh phí của một năm từ số liệu đã duyệt.

    Compute the funding indicators of a year again from the approved figures.

    Example: chiso funding refresh --unit 20 --year 2026
    """
    with session_scope() as session:
        province = get_unit(session, unit)
        summary = refresh_indicators(session, scope_unit_id=province.id, year=year,
                                     access=derived_access(session))
    console.print(f"[green]✓[/] Chỉ tiêu kinh phí / funding indicators: mới / new "
                  f"{summary.inserted}, thay đổi / changed {summary.updated}, không đổi / "
                  f"unchanged {summary.unchanged}")


@funding_app.command("roadmap")
def roadmap_command(
    unit: str = typer.Option(..., help="Đơn vị (tỉnh, cho phụ lục kế hoạch) / The unit (the "
                                       "province for the plan's appendix)."),
    year_from: int = typer.Option(..., "--from", help="Năm đầu / First year."),
    year_to: int = typer.Option(..., "--to", help="Năm cuối / Last year."),
    output: Path = typer.Option(Path("lo-trinh-kinh-phi.xlsx"), "--output", "-o",
                                help="Tệp XLSX ghi ra / The XLSX file to write."),
) -> None:
    """Ghi lộ trình kinh phí theo nguồn và loại, từng năm, làm phụ lục của kế hoạch.

    Write the funding roadmap by source and type, year by year, as the plan's appendix.

    Example: chiso funding roadmap --unit 20 --from 2026 --to 2030 -o phu-luc.xlsx
    """
    with session_scope() as session:
        path = roadmap.write_roadmap(session, output, unit_code=unit, year_from=year_from,
                                     year_to=year_to)
    console.print(f"[green]✓[/] {path}")


@funding_app.command("section")
def section_command(
    unit: str = typer.Option(..., help="Đơn vị của báo cáo / The unit of the report."),
    period: str = typer.Option(..., help="Kỳ báo cáo, ví dụ Quý III/2026, 6 tháng đầu năm 2026, "
                                         "Năm 2026 / The report's period: 2026Q3, 2026S1, 2026."),
    known_at: str = typer.Option("", help="Số liệu đã duyệt đến ngày này (dd/mm/yyyy); mặc định: "
                                          "bây giờ / Figures as approved by this day "
                                          "(dd/mm/yyyy); default: now."),
) -> None:
    """In đoạn về kinh phí mà báo cáo của kỳ sẽ có.

    Print the budget paragraph a report of the period carries.

    Example: chiso funding section --unit 20 --period 2026Q3
    """
    parsed = parse_period(period)
    cut_off: dt.date | None = parse_date(known_at) if known_at else None
    with session_scope() as session:
        section = service.report_section(session, unit_code=unit,
                                         period_start=parsed.start(), period_end=parsed.end(),
                                         known_at=cut_off)
    console.print(section["paragraph_vi"], highlight=False)
    console.print(section["paragraph_en"], style="dim", highlight=False)
