"""`chiso tasks …`: assign, update, import/export, remind, scorecard.

Commands are run by the operator of the installation: they act as the system job "cli"
(`Access.system`), audited as `system:cli`. Refusals are `UserError`s, printed by the
`chiso` program with exit code 2.
"""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from chiso.accounts.access import Access
from chiso.accounts.models import User
from chiso.cli.tables import print_table
from chiso.db import session_scope
from chiso.errors import NotFound
from chiso.ops.archives import check_input_file
from chiso.plans.models import Plan
from chiso.settings import get_settings
from chiso.tasks.common import date_option, unit_option
from chiso.tasks.models import Task
from chiso.text import format_date, format_number, format_percent, nfc

console = Console()
tasks_app = typer.Typer(help="Nhiệm vụ: giao việc, theo dõi, nhắc việc.\n\nTasks (nhiệm vụ): "
                             "assign, follow up, remind.\n\nExample: chiso tasks list --status "
                             "overdue",
                        no_args_is_help=True)
CLI_JOB = "cli"


def register(app: typer.Typer) -> None:
    app.add_typer(tasks_app, name="tasks")


@tasks_app.command("list")
def list_cmd(
    unit: str = typer.Option(None, help="Mã đơn vị chủ trì hoặc phối hợp / Lead or partner unit "
                                        "code."),
    status: str = typer.Option(None, help="Tình trạng: chưa thực hiện, đang thực hiện, hoàn "
                                          "thành, hoàn thành muộn, quá hạn hoặc đã hủy / "
                                          "not_started, in_progress, done, done_late, overdue or "
                                          "cancelled."),
    due_before: str = typer.Option(None, help="Hạn đến ngày dd/mm/yyyy / Due on or before "
                                              "dd/mm/yyyy."),
    origin: str = typer.Option(None, help="Cấp giao: Trung ương, tỉnh hoặc xã / central, "
                                          "province or commune (who assigned)."),
) -> None:
    """Liệt kê nhiệm vụ với tình trạng tính theo ngày hôm nay.

    List tasks with their status derived from today's date.

    Example: chiso tasks list --unit 20.SNV --status overdue
    """
    from chiso.tasks.service import TaskFilter, check_origin, list_tasks
    from chiso.tasks.status import status_label

    with session_scope() as session:
        rows = list_tasks(session, TaskFilter(unit_id=unit_option(session, unit), status=status,
                                              due_to=date_option(due_before),
                                              origin=check_origin(origin) if origin else None))
        # The task's wording gets the room: codes, dates, percentages and statuses stay on
        # one line (evenly shared columns wrapped a task over eight lines at 130 columns).
        table = Table(expand=True)
        table.add_column("Mã", no_wrap=True)
        table.add_column("Nhiệm vụ", ratio=3)
        table.add_column("Chủ trì", ratio=2)
        table.add_column("Hạn", no_wrap=True)
        table.add_column("Tiến độ", no_wrap=True, justify="right")
        table.add_column("Trạng thái", no_wrap=True)
        table.add_column("Phụ trách", ratio=2)
        for r in rows:
            table.add_row(r.task.code, r.task.title, r.lead_unit_name,
                          format_date(r.task.due_date), format_percent(r.task.progress_pct, 0),
                          status_label(r.status), r.owner_name or "[red]chưa có / none[/]")
    print_table(console, table)


@tasks_app.command("add")
def add(
    title: str = typer.Argument(..., help="Nội dung nhiệm vụ / What is to be done."),
    lead: str = typer.Option(..., help="Mã đơn vị chủ trì / Lead unit code (đơn vị chủ trì)."),
    due: str = typer.Option(..., help="Hạn hoàn thành dd/mm/yyyy / Due date dd/mm/yyyy."),
    partner: list[str] = typer.Option(None, help="Mã đơn vị phối hợp (lặp lại được) / Partner "
                                                 "unit codes (repeat)."),
    start: str = typer.Option(None, help="Ngày bắt đầu dd/mm/yyyy / Start date dd/mm/yyyy."),
    owner: str = typer.Option(None, help="Tên đăng nhập của người theo dõi / User name of the "
                                         "owner."),
    recurrence: str = typer.Option("", help="Lặp lại: tháng (M), quý (Q), 6 tháng (S) hoặc năm "
                                            "(Y) / M, Q, S or Y for a recurring task."),
    origin: str = typer.Option("province", help="Cấp giao: Trung ương (central), tỉnh (province) "
                                                "hoặc xã (commune) / Who assigned it: central "
                                                "(Trung ương), province (tỉnh) or commune (xã)."),
    doc: str = typer.Option("", help="Số hiệu văn bản giao, ví dụ 145/KH-UBND / Số hiệu of the "
                                     "assigning document, e.g. 145/KH-UBND."),
    doc_date: str = typer.Option(None, help="Ngày văn bản giao dd/mm/yyyy / Date of the "
                                            "assigning document dd/mm/yyyy."),
    product: str = typer.Option("", help="Sản phẩm dự kiến / Expected product (sản phẩm dự kiến)."),
) -> None:
    """Giao một nhiệm vụ cho đơn vị chủ trì.

    Assign a task to a lead unit.

    Example: chiso tasks add "Báo cáo quý" --lead 20.SKHCN --due 20/12/2025 --recurrence Q
    """
    from chiso.tasks.service import create_task

    due_date = date_option(due)
    with session_scope() as session:
        task = create_task(session, title=title, lead_unit_id=unit_option(session, lead) or 0,
                           due_date=due_date or get_settings().current_date(),
                           start_date=date_option(start), owner_id=_user_id(session, owner),
                           partner_unit_ids=[unit_option(session, p) or 0
                                             for p in partner or []],
                           recurrence=recurrence.upper(),
                           access=Access.system(session, CLI_JOB), origin=origin,
                           assigned_doc_number=doc, assigned_doc_date=date_option(doc_date),
                           expected_product=product)
        console.print(f"[green]✓[/] {task.code}: {task.title}")


def _user_id(session, username: str | None) -> int | None:  # type: ignore[no-untyped-def]
    if not username:
        return None
    found = session.scalar(select(User.id).where(User.username == username))
    if found is None:
        raise NotFound(f"Không có người dùng '{username}'", f"no user '{username}'")
    return int(found)


@tasks_app.command("progress")
def progress(
    code: str = typer.Argument(..., help="Mã nhiệm vụ, ví dụ NV-0001 / Task code, e.g. NV-0001."),
    percent: float = typer.Option(..., help="Tiến độ 0–100 / Progress 0–100."),
    note: str = typer.Option("", help="Việc đã làm / What was done."),
    evidence: list[Path] = typer.Option(None, help="Tệp minh chứng (lặp lại được) / Evidence "
                                                   "files (repeat).", exists=True),
    done: bool = typer.Option(False, help="Đánh dấu hoàn thành / Mark the task done."),
) -> None:
    """Ghi tiến độ một nhiệm vụ, kèm tệp minh chứng.

    Record progress on a task, with evidence files.

    Example: chiso tasks progress NV-0002 --percent 60 --note "Đã số hóa 60%" --evidence bb.pdf
    """
    from chiso.tasks.service import EvidenceFile, update_progress

    for path in evidence or []:
        check_input_file(path)
    with session_scope() as session:
        task_id = session.scalar(select(Task.id).where(Task.code == code))
        if task_id is None:
            raise NotFound(f"Không có nhiệm vụ '{code}'", f"no task '{code}'")
        files = [EvidenceFile(p.name, p.read_bytes()) for p in evidence or []]
        task = update_progress(session, task_id=task_id, progress_pct=percent, note=note,
                               done=done, files=files, access=Access.system(session, CLI_JOB))
        console.print(f"[green]✓[/] {task.code}: {format_percent(task.progress_pct, 0)}")


@tasks_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="Tệp XLSX / XLSX file."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Cho xem những gì sẽ thay đổi, không "
                                                          "lưu / Show what would change; store "
                                                          "nothing."),
) -> None:
    """Nhập nhiệm vụ từ XLSX (tất cả hoặc không; đối chiếu theo cột mã).

    Import tasks from XLSX (all or nothing; matched on the code column).

    Example: chiso tasks import nhiem-vu.xlsx --dry-run
    """
    from chiso.tasks.xlsx import TaskImportRejected, import_tasks

    try:
        with session_scope() as session:
            summary = import_tasks(session, check_input_file(file), dry_run=dry_run,
                                   access=Access.system(session, CLI_JOB))
    except TaskImportRejected as exc:
        for line in exc.issues:  # every rejected cell, then the one-line verdict
            console.print(f"[red]✗[/] {line}")
        raise
    mode = "Thử / dry run: " if dry_run else ""
    console.print(f"[green]✓[/] {mode}thêm {len(summary.created)} created, cập nhật "
                  f"{len(summary.updated)} updated, giữ nguyên {len(summary.unchanged)} unchanged")


@tasks_app.command("export")
def export_cmd(
    file: Path = typer.Argument(..., dir_okay=False, help="Tệp XLSX ghi ra / XLSX file to write."),
    unit: str = typer.Option(None, help="Chỉ nhiệm vụ của đơn vị này / Only this unit's tasks."),
) -> None:
    """Xuất nhiệm vụ ra XLSX (đúng các cột mà lệnh nhập đọc).

    Export tasks to XLSX (the same columns the import reads).

    Example: chiso tasks export nhiem-vu.xlsx --unit 20.SKHCN
    """
    from chiso.tasks.service import TaskFilter, list_tasks
    from chiso.tasks.xlsx import export_tasks

    with session_scope() as session:
        rows = list_tasks(session, TaskFilter(unit_id=unit_option(session, unit)))
        export_tasks(rows, file, session=session)
    console.print(f"[green]✓[/] {len(rows)} nhiệm vụ / tasks → {file}")


@tasks_app.command("remind")
def remind(
    on: str = typer.Option(None, help="Coi hôm nay là ngày dd/mm/yyyy (mặc định: hôm nay) / "
                                      "Pretend today is dd/mm/yyyy (default: today)."),
) -> None:
    """Gửi các nhắc việc đến hạn hôm nay, mỗi nhắc việc một lần.

    Trước, đúng và sau hạn, qua thư điện tử và trên trang. Chạy hằng ngày bằng cron.

    Send the reminders owed today (before, on and after the due date), by email and
    in-app, each at most once. Run it daily from cron.

    Example: chiso tasks remind
    """
    from chiso.tasks.followup import send_reminders

    with session_scope() as session:
        summary = send_reminders(session, day=date_option(on) or get_settings().current_date())
    console.print(f"[green]✓[/] {summary.events} nhắc việc / reminders due, {summary.emails} "
                  f"email đã gửi / sent, {summary.new_tasks} nhiệm vụ định kỳ mới / "
                  f"new recurring tasks")


@tasks_app.command("scorecard")
def scorecard_cmd(unit: str = typer.Option(None, help="Chỉ nhiệm vụ đơn vị này chủ trì / Only "
                                                      "tasks led by this unit.")) -> None:
    """Bảng theo dõi nhiệm vụ theo từng đơn vị chủ trì.

    Nhiệm vụ hoàn thành đúng hạn, muộn, quá hạn, đang mở, chưa có người theo dõi.

    Per lead unit: tasks done on time, done late, overdue, open, ownerless.

    Example: chiso tasks scorecard
    """
    from chiso.tasks.followup import scorecard

    with session_scope() as session:
        scores = scorecard(session, day=get_settings().current_date(),
                           unit_id=unit_option(session, unit))
    table = Table("Đơn vị / unit", "Tổng", "Đúng hạn", "Muộn", "Quá hạn", "Đang làm",
                  "Không người phụ trách", "Tỷ lệ đúng hạn")
    for column in table.columns[1:]:  # counts and rates, aligned on their last digit
        column.justify = "right"
    for s in scores:
        rate = format_number(s.on_time_rate, 1) + "%" if s.on_time_rate is not None else "–"
        table.add_row(s.unit_name, str(s.total), str(s.done_on_time), str(s.done_late),
                      str(s.overdue), str(s.open), str(s.ownerless), rate)
    print_table(console, table)


@tasks_app.command("counts")
def counts_cmd(
    unit: str = typer.Option(None, help="Nhiệm vụ đơn vị này chủ trì hoặc phối hợp / Tasks led "
                                        "by this unit or shared with it."),
    year: int = typer.Option(None, help="Bỏ nhiệm vụ đã xong trước năm này / Leave out tasks "
                                        "finished before this year."),
) -> None:
    """Nhiệm vụ theo cấp giao (Trung ương / tỉnh / xã giao).

    Tổng số, hoàn thành — trước hạn (sớm ít nhất 7 ngày), đúng hạn, muộn —, đang thực hiện trong hạn
    và quá hạn, tính đến hôm nay.

    Tasks by who assigned them (Trung ương / tỉnh / xã giao): total, done — ahead of
    schedule (at least 7 days early), on time, late —, running within the deadline and
    overdue, as of today.

    Example: chiso tasks counts --year 2026
    """
    from chiso.tasks.counts import count_by_origin, total_of
    from chiso.tasks.service import TaskFilter, list_tasks
    from chiso.tasks.status import AHEAD_MARGIN_DAYS

    with session_scope() as session:
        rows = list_tasks(session, TaskFilter(unit_id=unit_option(session, unit)))
    counts = count_by_origin(rows, year=year)
    table = Table("Cấp giao / assigned by", "Tổng / total", "Hoàn thành / done",
                  "Trước hạn / ahead", "Đúng hạn / on time", "Quá hạn / late",
                  "Đang làm trong hạn / running", "Quá hạn chưa xong / overdue",
                  title=f"Nhiệm vụ theo cấp giao đến ngày "
                        f"{format_date(get_settings().current_date())} / tasks by origin")
    for column in table.columns[1:]:  # counts, aligned on their last digit
        column.justify = "right"
    labelled = [(f"{c.label()} / {c.label('en')}", c) for c in counts]
    for label, c in [*labelled, ("Tổng cộng / total", total_of(counts))]:
        table.add_row(label, str(c.total), str(c.done), str(c.done_ahead),
                      str(c.done_on_time), str(c.done_late), str(c.running), str(c.overdue))
    print_table(console, table)
    console.print(f"Trước hạn: hoàn thành sớm ít nhất {AHEAD_MARGIN_DAYS} ngày / ahead of "
                  f"schedule: done at least {AHEAD_MARGIN_DAYS} days before the deadline")


@tasks_app.command("month-report")
def month_report_cmd(
    unit: str = typer.Option(..., help="Mã đơn vị báo cáo / Unit code of the reporting unit."),
    month: str = typer.Option(..., help="Tháng, ví dụ 'Tháng 9/2026' hoặc 9/2026 / Month, e.g. "
                                        "202609 or 'Tháng 9/2026'."),
    nothing: bool = typer.Option(False, "--nothing", help="Không phát sinh: nhiệm vụ của đơn vị "
                                                          "không có gì mới / Không phát sinh: "
                                                          "nothing happened on the unit's tasks."),
    note: str = typer.Option("", help="Nội dung đơn vị báo cáo / What the unit reports."),
) -> None:
    """Gửi báo cáo tháng của một đơn vị về các nhiệm vụ của mình, hoặc "không phát sinh".

    Send a unit's monthly report on its tasks, or "không phát sinh".

    Example: chiso tasks month-report --unit 20.SKHCN --month 202609 --nothing
    """
    from chiso.tasks.monthly import submit_month_report

    with session_scope() as session:
        report = submit_month_report(session, unit_id=unit_option(session, unit) or 0,
                                     period=month, nothing=nothing, note=note,
                                     access=Access.system(session, CLI_JOB))
        console.print(f"[green]✓[/] {unit} {report.period}: "
                      f"{'không phát sinh / nothing' if nothing else 'đã báo cáo / reported'}")


@tasks_app.command("monthly")
def monthly_cmd(
    month: str = typer.Option(..., help="Tháng, ví dụ 'Tháng 9/2026' hoặc 9/2026 / Month, e.g. "
                                        "202609."),
    unit: str = typer.Option(None, help="Chỉ các đơn vị trực thuộc đơn vị này / Only units under "
                                        "this one."),
) -> None:
    """Những đơn vị đã báo cáo tháng về nhiệm vụ, đã báo "không phát sinh" và chưa báo cáo.

    Which units reported on their tasks for a month, which said "không phát sinh" and
    which have not reported.

    Example: chiso tasks monthly --month 202609
    """
    from chiso.tasks.monthly import month_standing
    from chiso.units.service import descendant_ids

    with session_scope() as session:
        unit_id = unit_option(session, unit)
        scope = [unit_id, *descendant_ids(session, unit_id)] if unit_id else None
        standing = month_standing(session, period=month, unit_ids=scope)
    table = Table("Đơn vị / unit", "Nhiệm vụ / tasks", "Cập nhật / updates",
                  "Báo cáo / report")
    for u in standing:
        if u.report is None:
            state = "[red]chưa báo cáo / not reported[/]"
        else:
            kind = "không phát sinh / nothing" if u.nothing else "đã báo cáo / reported"
            state = f"{kind}, {format_date(u.reported_on)}"
            state += f" [yellow](muộn {u.late_days} ngày / late)[/]" if u.late_days else ""
        table.add_row(u.unit_name, str(len(u.tasks)), str(len(u.updates)), state)
    print_table(console, table)


@tasks_app.command("focus-areas")
def focus_areas_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="Tệp CSV có các cột mã, tên tiếng Việt, tên tiếng Anh / CSV "
                                     "with columns code, name_vi, name_en."),
    plan: str = typer.Option(None, help="Số hiệu kế hoạch của danh sách, ví dụ 72-KH/BCĐ / Plan "
                                        "code the list belongs to, e.g. 72-KH/BCĐ."),
) -> None:
    """Nạp các nội dung trọng tâm của một kế hoạch.

    Nạp lại cùng danh sách không đổi gì. 11 nội dung trọng tâm của Kế hoạch 72-KH/BCĐ tỉnh Lạng Sơn
    có sẵn trong chiso/tasks/data/.

    Load a plan's focus areas (nội dung trọng tâm); loading the same list again changes
    nothing. Lạng Sơn's 11 focus contents of 72-KH/BCĐ ship in chiso/tasks/data/.

    Example: chiso tasks focus-areas chiso/tasks/data/focus-areas-72-KH-BCD.csv --plan 72-KH/BCĐ
    """
    from chiso.tasks.service import add_focus_area

    with session_scope() as session, file.open(encoding="utf-8-sig") as handle:
        plan_id = None
        if plan:
            plan_id = session.scalar(select(Plan.id).where(Plan.code == nfc(plan)))
            if plan_id is None:
                raise NotFound(f"Không có kế hoạch '{plan}'", f"no plan '{plan}'")
        rows = list(csv.DictReader(handle))
        access = Access.system(session, CLI_JOB)
        for order, row in enumerate(rows, start=1):
            add_focus_area(session, code=row["code"].strip(), name_vi=row["name_vi"],
                           name_en=row.get("name_en", ""), plan_id=plan_id, sort_order=order,
                           access=access)
    console.print(f"[green]✓[/] {len(rows)} nội dung trọng tâm / focus areas")
