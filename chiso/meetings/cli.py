"""`chiso meetings …`: record a meeting, add conclusions, turn them into tasks.

Run by the operator as the system job "cli" (audited as `system:cli`)."""

from __future__ import annotations

import typer
from rich.console import Console

from chiso.accounts.access import Access
from chiso.db import session_scope
from chiso.meetings.service import (
    TaskSpec,
    add_conclusion,
    conclusion_to_tasks,
    create_meeting,
    list_meetings,
    proposed_agenda,
)
from chiso.settings import get_settings
from chiso.tasks.common import date_option, unit_option
from chiso.text import format_date

console = Console()
meetings_app = typer.Typer(help="Phiên họp Ban Chỉ đạo và kết luận.\n\nCommittee meetings and "
                                "their conclusions.\n\nExample: chiso meetings list --unit 20",
                           no_args_is_help=True)
CLI_JOB = "cli"


def register(app: typer.Typer) -> None:
    app.add_typer(meetings_app, name="meetings")


@meetings_app.command("list")
def list_cmd(unit: str = typer.Option(None, help="Mã đơn vị / Unit code.")) -> None:
    """Liệt kê các phiên họp, mới nhất trước.

    List meetings, newest first.

    Example: chiso meetings list --unit 20
    """
    with session_scope() as session:
        for m in list_meetings(session, unit_option(session, unit)):
            console.print(f"{m.id:>4}  {format_date(m.held_on)}  {m.kind:<13} {m.title} "
                          f"({len(m.conclusions)} kết luận / conclusions)")


@meetings_app.command("add")
def add(
    title: str = typer.Argument(...),
    unit: str = typer.Option(..., help="Đơn vị có Ban Chỉ đạo họp (ví dụ 20) / Unit whose "
                                       "committee meets (e.g. 20)."),
    on: str = typer.Option(..., help="Ngày dd/mm/yyyy / Date dd/mm/yyyy."),
    kind: str = typer.Option("quarterly", help="Loại phiên: quý (quarterly) hoặc bất thường "
                                               "(extraordinary) / quarterly or extraordinary."),
    chair: str = typer.Option("", help="Người chủ trì / Who chairs."),
    agenda_from_open_items: bool = typer.Option(True, help="Lập chương trình từ các việc còn mở "
                                                           "/ Start the agenda from open items."),
) -> None:
    """Ghi một phiên họp; chương trình họp bắt đầu từ các việc còn mở của các phiên trước.

    Record a meeting; its agenda starts from the open items of earlier meetings.

    Example: chiso meetings add "Phiên họp quý IV/2025" --unit 20 --on 15/12/2025
    """
    held_on = date_option(on)
    assert held_on is not None  # a required option
    with session_scope() as session:
        uid = unit_option(session, unit) or 0
        agenda = []
        if agenda_from_open_items:
            agenda = proposed_agenda(session, unit_id=uid, held_on=held_on,
                                     day=get_settings().current_date())
        meeting = create_meeting(session, unit_id=uid, held_on=held_on, title=title, kind=kind,
                                 chair=chair, agenda=agenda,
                                 access=Access.system(session, CLI_JOB))
        console.print(f"[green]✓[/] #{meeting.id} {meeting.title}")
        for item in agenda:
            console.print(f"  - {item}")


@meetings_app.command("conclude")
def conclude(
    meeting: int = typer.Argument(..., help="Số thứ tự phiên họp / Meeting id."),
    text: str = typer.Argument(..., help="Nội dung kết luận / The conclusion."),
    lead: list[str] = typer.Option(None, help="Đơn vị chủ trì nhiệm vụ lập từ kết luận (lặp lại "
                                              "được) / Lead unit of a task made from it (repeat)."),
    due: str = typer.Option(None, help="Hạn của các nhiệm vụ đó, dd/mm/yyyy / Due date of those "
                                       "tasks, dd/mm/yyyy."),
) -> None:
    """Thêm một kết luận; có --lead và --due thì thành một nhiệm vụ cho mỗi đơn vị chủ trì.

    Add a conclusion; with --lead and --due it becomes one task per lead unit.

    Example: chiso meetings conclude 3 "Số hóa hồ sơ" --lead 20.SNV --lead 20.STC --due 31/12/2026
    """
    due_date = date_option(due)
    with session_scope() as session:
        access = Access.system(session, CLI_JOB)
        conclusion = add_conclusion(session, meeting_id=meeting, text=text, access=access)
        if lead and due_date:
            specs = [TaskSpec(title=text, lead_unit_id=unit_option(session, code) or 0,
                              due_date=due_date) for code in lead]
            for task in conclusion_to_tasks(session, conclusion_id=conclusion.id, specs=specs,
                                            access=access):
                console.print(f"[green]✓[/] {task.code}: {task.title}")
        console.print(f"[green]✓[/] Kết luận / conclusion {conclusion.seq}")
