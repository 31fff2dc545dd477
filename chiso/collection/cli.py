"""`chiso collection …`: data sets, submissions, the scorecard, reminders and DHIS2.

The commands run with the operator's authority (`Access.system(session, "cli")`, audited
as `system:cli`). The old top-level names (`chiso dataset`, `chiso submission`,
`chiso quality`, `chiso dhis2`, `chiso remind`) stay as hidden aliases: cron jobs and
scripts use them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.cli.tables import print_table
from chiso.collection import quality, service
from chiso.collection.models import DataSet
from chiso.collection.outliers import detect_outliers
from chiso.collection.remind import send_due
from chiso.collection.rules import RULES_FILE, active_rules, load_rules
from chiso.db import session_scope
from chiso.settings import get_settings
from chiso.text import format_date, parse_date
from chiso.units.models import OrgUnit
from chiso.units.service import descendant_ids, get_unit

console = Console()
collection_app = typer.Typer(
    help="Chu trình báo cáo: biểu mẫu, báo cáo của đơn vị, chất lượng số liệu, đôn đốc, "
    "DHIS2 / The reporting cycle.\n\nExample: chiso collection submission list CCHC_XA_QUY "
    "2025Q3", no_args_is_help=True)
dataset_app = typer.Typer(help="Biểu mẫu báo cáo / Data sets.\n\nExample: chiso collection "
                          "dataset list", no_args_is_help=True)
submission_app = typer.Typer(help="Báo cáo của đơn vị và phê duyệt / Submissions and "
                             "approval.\n\nExample: chiso collection submission list "
                             "CCHC_XA_QUY 2025Q3", no_args_is_help=True)
quality_app = typer.Typer(help="Đúng, đủ, sạch, sống / The data-quality scorecard.\n\n"
                          "Example: chiso collection quality show CCHC_XA_QUY 2025Q3",
                          no_args_is_help=True)
dhis2_app = typer.Typer(help="DHIS2 dataValueSets nhập và xuất / import and export.\n\n"
                        "Example: chiso collection dhis2 export CCHC_XA_QUY 2025Q3 out.json",
                        no_args_is_help=True)
GROUPS = {"dataset": dataset_app, "submission": submission_app, "quality": quality_app,
          "dhis2": dhis2_app}


def register(app: typer.Typer) -> None:
    app.add_typer(collection_app, name="collection")
    for name, group in GROUPS.items():
        collection_app.add_typer(group, name=name)
        app.add_typer(group, name=name, hidden=True)  # the old names, kept for scripts
    collection_app.command("remind")(remind_command)
    app.command("remind", hidden=True)(remind_command)


@contextmanager
def _operator() -> Iterator[tuple[Session, Access]]:
    with session_scope() as session:
        yield session, Access.system(session, "cli")


# The template (openpyxl) and DHIS2 (the values import pipeline) modules are imported in
# the commands that use them: every `chiso` command loads this file, and they would add
# ~0,25 s to each start.


def _period_label(period: str) -> str:
    return service.period_label(period)


# ------------------------------------------------------------------ dataset


@dataset_app.command("define")
def define_command(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                               help="YAML: một biểu mẫu hoặc danh sách / "
                                               "one data set or a list.")) -> None:
    """Tạo hoặc sửa biểu mẫu từ YAML (chạy lại không đổi gì) / Create or update data sets.

    Example: chiso collection dataset define bieu-mau.yaml
    """
    specs = yaml.safe_load(file.read_text("utf-8"))
    specs = specs if isinstance(specs, list) else [specs]
    with _operator() as (session, access):
        for spec in specs:
            data_set = service.define_data_set(session, spec, access=access)
            console.print(f"✓ {data_set.name_vi} ({data_set.code})")


@dataset_app.command("list")
def list_command() -> None:
    """Các biểu mẫu, chỉ tiêu, kỳ và hạn nộp / Data sets, indicators, period and due rule.

    Example: chiso collection dataset list
    """
    table = Table("Biểu mẫu / data set", "Kỳ / period", "Hạn / due", "Số chỉ tiêu",
                  expand=True)
    with _operator() as (session, _access):
        for d in session.scalars(select(DataSet).order_by(DataSet.name_vi)):
            rule = f"+{d.due_days} ngày" + (" (NĐ 09)" if d.calendar == "nd09" else "")
            table.add_row(f"{d.name_vi}\n[dim]{d.code}[/dim]",
                          service.PERIOD_TYPE_WORDS.get(d.period_type, ("", ""))[0], rule,
                          str(len(service.indicators_of(session, d))))
    print_table(console, table)


@dataset_app.command("template")
def template_command(code: str, unit: str, period: str,
                     out: Path = typer.Option(None, help="Tệp ghi ra / file to write "
                                              "(.xlsx).")) -> None:
    """Tệp Excel mẫu của biểu mẫu cho một đơn vị và kỳ / Write the Excel template.

    Example: chiso collection dataset template CCHC_XA_QUY 06001 2025Q3 --out mau.xlsx
    """
    from chiso.collection import template

    with _operator() as (session, _access):
        data_set = service.data_set_by_code(session, code)
        target = get_unit(session, unit)
        path = out or Path(template.template_file_name(data_set, target, period))
        template.build_template(session, data_set, target, period, path)
    console.print(f"✓ {path}")


# ------------------------------------------------------------------ submission


@submission_app.command("list")
def submission_list(code: str, period: str) -> None:
    """Báo cáo của các đơn vị trong kỳ và trạng thái / Expected reports and their status.

    Example: chiso collection submission list CCHC_XA_QUY 2025Q3
    """
    table = Table("Đơn vị / unit", "Trạng thái", "Hạn / due", "Gửi / sent", "Sửa sau duyệt",
                  expand=True)
    with _operator() as (session, _access):
        data_set = service.data_set_by_code(session, code)
        console.print(f"[bold]{data_set.name_vi}[/bold] — {_period_label(period)}")
        for s in service.expected_submissions(session, data_set, period):
            unit = session.get(OrgUnit, s.unit_id)
            table.add_row(f"{unit.name} [dim]{unit.code}[/dim]" if unit else str(s.unit_id),
                          service.STATUS_LABELS[s.status][0],
                          format_date(s.due_date),
                          # The day in Vietnam: 06:30 on the 11th is still the 10th in UTC.
                          format_date(s.submitted_at),
                          str(s.edits_after_approval))
    print_table(console, table)


@submission_app.command("step")
def submission_step(code: str, period: str, unit: str,
                    step: str = typer.Argument(..., help="Bước: gửi (submit), duyệt (approve) "
                                                         "hoặc trả lại (return) / submit, "
                                                         "approve or return"),
                    reason: str = typer.Option("", help="Lý do trả lại / why it is "
                                               "returned.")) -> None:
    """Gửi, duyệt hoặc trả lại báo cáo của một đơn vị / Submit, approve or return a report.

    Example: chiso collection submission step CCHC_XA_QUY 2025Q3 06001 approve
    """
    with _operator() as (session, access):
        data_set = service.data_set_by_code(session, code)
        submission = service.submission_for(session, data_set, get_unit(session, unit).id,
                                            period)
        service.apply_step(session, submission, step, access=access, reason=reason)
        status = submission.status
    service.deliver_notices()  # the unit's e-mails, once the step is committed
    console.print(f"✓ {unit} {_period_label(period)}: {service.STATUS_LABELS[status][0]} / "
                  f"{status}")


# ------------------------------------------------------------------ quality


@quality_app.command("show")
def quality_show(code: str, period: str,
                 as_json: bool = typer.Option(False, "--json", help="In dạng JSON / print JSON.")
                 ) -> None:
    """Bảng điểm của kỳ: từng đơn vị, tổng và đơn vị chậm / The scorecard of a period.

    Example: chiso collection quality show CCHC_XA_QUY 2025Q3
    """
    with _operator() as (session, _access):
        data_set = service.data_set_by_code(session, code)
        card = quality.scorecard(session, data_set, period)
        data = card.as_dict()
        name = data_set.name_vi
    if as_json:
        console.print_json(json.dumps(data, default=str))
        return
    totals = data["totals"]
    console.print(f"[bold]{name} — {_period_label(period)}[/bold]\nđúng {_pct(totals['dung'])}"
                  f" · đủ {_pct(totals['du'])} · sạch {_pct(totals['sach'])} · sống "
                  f"{_pct(totals['song'])} · chậm / late: {totals['late']}")
    table = Table("Đơn vị / unit", "Trạng thái", "Đúng", "Đủ", "Sạch", "Đúng hạn",
                  expand=True)
    for u in data["units"]:
        table.add_row(u["unit_name"], service.STATUS_LABELS[u["status"]][0], _pct(u["dung"]),
                      _pct(u["du"]), _pct(u["sach"]),
                      {True: "✓", False: "✗"}.get(u["on_time"], "–"))
    print_table(console, table)


@quality_app.command("outliers")
def quality_outliers(indicator: str = typer.Option("", help="Chỉ chỉ tiêu này / only this "
                                                   "indicator code.")) -> None:
    """Tìm số liệu bất thường và gắn cờ kiểm tra / Flag outliers for follow-up.

    Example: chiso collection quality outliers
    """
    with _operator() as (session, access):
        found = detect_outliers(session, access=access, indicator_code=indicator or None)
    console.print(f"✓ {found} cờ mới / new flags")


@quality_app.command("rules")
def quality_rules(file: Path = typer.Option(None, exists=True, dir_okay=False,
                                            help="YAML quy tắc / rules to add or update "
                                            "(default: the shipped ones).")) -> None:
    """Nạp quy tắc kiểm tra từ YAML và liệt kê / Load validation rules and list them.

    Example: chiso collection quality rules --file quy-tac.yaml
    """
    table = Table("Quy tắc / rule", "Mức / importance", "Khi thiếu / missing", expand=True)
    with _operator() as (session, access):
        changed = load_rules(session, file or RULES_FILE, access=access)
        for rule in active_rules(session):
            table.add_row(f"{rule.message_vi}\n[dim]{rule.left} {rule.operator} "
                          f"{rule.right}[/dim]", rule.importance, rule.missing_strategy)
    print_table(console, table)
    console.print(f"✓ {changed} quy tắc mới hoặc sửa / rules added or changed")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%".replace(".", ",")


# ------------------------------------------------------------------ remind


def remind_command(today: str = typer.Option("", help="Coi hôm nay là ngày / pretend today "
                                             "is (dd/mm/yyyy).")) -> None:
    """Gửi nhắc việc đến hạn, leo thang, không gửi trùng; cho cron / Send due reminders.

    Example: chiso collection remind
    """
    day = parse_date(today) if today else get_settings().current_date()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        progress.add_task("Đôn đốc / sending reminders", total=None)
        with session_scope() as session:
            summary = send_due(session, today=day)
    console.print(f"✓ {summary.reminders} nhắc việc / reminders, {summary.summaries} tổng hợp "
                  f"/ summaries, {summary.emails} email")


# ------------------------------------------------------------------ dhis2


@dhis2_app.command("export")
def dhis2_export(code: str, period: str, out: Path,
                 unit: str = typer.Option("", help="Chỉ đơn vị này / only this unit (with "
                                          "--children its subtree)."),
                 children: bool = typer.Option(False)) -> None:
    """Xuất số liệu dạng DHIS2 dataValueSets (.json hoặc .csv theo đuôi tệp) / Export.

    Example: chiso collection dhis2 export CCHC_XA_QUY 2025Q3 gia-tri.json
    """
    from chiso.collection import dhis2

    with _operator() as (session, _access):
        data_set = service.data_set_by_code(session, code)
        ids: list[int] | None = None
        if unit:
            root = get_unit(session, unit).id
            ids = [root, *(descendant_ids(session, root) if children else [])]
        document = dhis2.export_data_values(session, data_sets=[data_set],
                                            periods=[service.check_period(data_set,
                                                                          period).id],
                                            unit_ids=ids)
    if out.suffix.lower() == ".csv":
        out.write_text(dhis2.to_csv(document), "utf-8")
    else:
        out.write_text(json.dumps(document, ensure_ascii=False, indent=1), "utf-8")
    console.print(f"✓ {len(document['dataValues'])} dataValues → {out}")


@dhis2_app.command("import")
def dhis2_import(file: Path = typer.Argument(..., exists=True, dir_okay=False),
                 dry_run: bool = typer.Option(False, "--dry-run",
                                              help="Chỉ kiểm tra / check only."),
                 strategy: str = typer.Option("CREATE_AND_UPDATE", "--strategy",
                                              help="Cách nhập / import strategy: "
                                                   "CREATE_AND_UPDATE, CREATE, UPDATE, DELETE"),
                 id_scheme: str = typer.Option("CODE", "--id-scheme",
                                               help="Nhận diện theo mã hoặc tên / "
                                                    "identify by CODE (UID) or NAME")) -> None:
    """Nhập tệp DHIS2 dataValueSets (.json hoặc .csv) / Import a DHIS2 file.

    Example: chiso collection dhis2 import tu-dhis2.json --dry-run
    """
    from chiso.collection import dhis2

    options = dhis2.ImportOptions.from_params({"dryRun": str(dry_run).lower(),
                                               "importStrategy": strategy,
                                               "idScheme": id_scheme})
    with _operator() as (session, access):
        summary = dhis2.import_body(session, file.read_bytes(), dhis2.body_kind("",
                                                                                file.name),
                                    options=options, access=access, file_name=file.name)
        if options.dry_run or summary.status == "ERROR":
            session.rollback()
    _print_summary(summary.as_dict()["response"])
    if summary.status == "ERROR":
        raise typer.Exit(1)


def _print_summary(response: dict[str, Any]) -> None:
    for conflict in response["conflicts"]:
        rows = ", ".join(str(i + 1) for i in conflict["indexes"])
        console.print(f"[yellow]! {conflict['value']}[/yellow]" + (f" (giá trị / values "
                                                                   f"{rows})" if rows else ""))
    counts = response["importCount"]
    console.print(f"mới / imported {counts['imported']} · sửa / updated {counts['updated']} · "
                  f"bỏ qua / ignored {counts['ignored']} · xóa / deleted {counts['deleted']}"
                  + (" (thử / dry run)" if response["importOptions"]["dryRun"] else ""))
