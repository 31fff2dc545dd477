"""`chiso dataset`, `chiso submission`, `chiso quality`, `chiso remind`, `chiso dhis2`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from chiso.settings import get_settings

console = Console()
dataset_app = typer.Typer(help="Data sets (biểu mẫu báo cáo). Example: chiso dataset list",
                          no_args_is_help=True)
submission_app = typer.Typer(help="Submissions and their approval. Example: chiso submission "
                             "list CCHC_XA_QUY 2025Q3", no_args_is_help=True)
quality_app = typer.Typer(help="The đúng, đủ, sạch, sống scorecard. Example: chiso quality "
                          "show CCHC_XA_QUY 2025Q3", no_args_is_help=True)
dhis2_app = typer.Typer(help="DHIS2 dataValueSets import and export. Example: chiso dhis2 "
                        "export CCHC_XA_QUY 2025Q3 out.json", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(dataset_app, name="dataset")
    app.add_typer(submission_app, name="submission")
    app.add_typer(quality_app, name="quality")
    app.add_typer(dhis2_app, name="dhis2")
    app.command("remind")(remind_command)


def _session():  # type: ignore[no-untyped-def]
    import chiso.db.models  # noqa: F401  (every table)
    from chiso.db import session_scope

    return session_scope()


def _fail(exc: Exception) -> None:
    console.print(f"[red]{exc}[/red]")
    raise typer.Exit(1)


# ------------------------------------------------------------------ dataset


@dataset_app.command("define")
def define_command(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                               help="YAML: one data set or a list.")) -> None:
    """Create or update data sets from YAML (idempotent).

    Example: chiso dataset define bieu-mau.yaml
    """
    import yaml

    from chiso.collection import service

    specs = yaml.safe_load(file.read_text("utf-8"))
    specs = specs if isinstance(specs, list) else [specs]
    try:
        with _session() as session:
            for spec in specs:
                data_set = service.define_data_set(session, spec)
                console.print(f"✓ {data_set.code}: {data_set.name_vi}")
    except (service.WorkflowError, LookupError, ValueError) as exc:
        _fail(exc)


@dataset_app.command("list")
def list_command() -> None:
    """List data sets with their indicators, period type and due rule.

    Example: chiso dataset list
    """
    from sqlalchemy import select

    from chiso.collection import service
    from chiso.collection.models import DataSet

    table = Table("Mã / code", "Tên / name", "Kỳ / period", "Hạn / due", "Chỉ tiêu / indicators")
    with _session() as session:
        for d in session.scalars(select(DataSet).order_by(DataSet.code)):
            rule = f"+{d.due_days} ngày" + (" (NĐ 09)" if d.calendar == "nd09" else "")
            table.add_row(d.code, d.name_vi, d.period_type, rule,
                          ", ".join(i.code for i in service.indicators_of(session, d)))
    console.print(table)


@dataset_app.command("template")
def template_command(code: str, unit: str, period: str,
                     out: Path = typer.Option(None, help="File to write (.xlsx).")) -> None:
    """Write the Excel template of a data set for a unit and period.

    Example: chiso dataset template CCHC_XA_QUY 06001 2025Q3 --out mau.xlsx
    """
    from chiso.collection import service, template
    from chiso.units.service import get_unit

    with _session() as session:
        data_set = service.data_set_by_code(session, code)
        target = get_unit(session, unit)
        path = out or Path(template.template_file_name(data_set, target, period))
        template.build_template(session, data_set, target, period, path)
    console.print(f"✓ {path}")


# ------------------------------------------------------------------ submission


@submission_app.command("list")
def submission_list(code: str, period: str) -> None:
    """Expected reports of a data set's period with their status.

    Example: chiso submission list CCHC_XA_QUY 2025Q3
    """
    from chiso.collection import service
    from chiso.units.models import OrgUnit

    table = Table("Đơn vị / unit", "Trạng thái / status", "Hạn / due", "Gửi / submitted",
                  "Sửa sau duyệt / edits")
    with _session() as session:
        data_set = service.data_set_by_code(session, code)
        for s in service.expected_submissions(session, data_set, period):
            unit = session.get(OrgUnit, s.unit_id)
            table.add_row(f"{unit.code} {unit.name}" if unit else str(s.unit_id), s.status,
                          s.due_date.strftime("%d/%m/%Y"),
                          s.submitted_at.strftime("%d/%m/%Y") if s.submitted_at else "–",
                          str(s.edits_after_approval))
    console.print(table)


@submission_app.command("step")
def submission_step(code: str, period: str, unit: str,
                    step: str = typer.Argument(..., help="submit, approve or return"),
                    reason: str = typer.Option("", help="Why it is returned.")) -> None:
    """Submit, approve or return one unit's report (as the system user).

    Example: chiso submission step CCHC_XA_QUY 2025Q3 06001 return --reason "Thiếu mẫu số"
    """
    from chiso.collection import service
    from chiso.units.service import get_unit

    try:
        with _session() as session:
            data_set = service.data_set_by_code(session, code)
            submission = service.submission_for(session, data_set, get_unit(session, unit).id,
                                                period)
            steps = {"submit": lambda: service.submit(session, submission),
                     "approve": lambda: service.approve(session, submission),
                     "return": lambda: service.return_submission(session, submission,
                                                                 reason=reason)}
            if step not in steps:
                _fail(ValueError(f"bước '{step}' không có / no step '{step}'"))
            steps[step]()
            console.print(f"✓ {unit} {period}: {submission.status}")
    except service.WorkflowError as exc:
        _fail(exc)


# ------------------------------------------------------------------ quality


@quality_app.command("show")
def quality_show(code: str, period: str,
                 as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The scorecard of a data set's period: per unit and in total, and the late units.

    Example: chiso quality show CCHC_XA_QUY 2025Q3
    """
    from chiso.collection import quality, service

    with _session() as session:
        card = quality.scorecard(session, service.data_set_by_code(session, code), period)
        data = card.as_dict()
    if as_json:
        console.print_json(json.dumps(data, default=str))
        return
    totals = data["totals"]
    console.print(f"[bold]{code} {period}[/bold]  đúng {_pct(totals['dung'])} · đủ "
                  f"{_pct(totals['du'])} · sạch {_pct(totals['sach'])} · sống "
                  f"{_pct(totals['song'])}  (late: {totals['late']})")
    table = Table("Đơn vị / unit", "Trạng thái", "Đúng", "Đủ", "Sạch", "Đúng hạn / on time")
    for u in data["units"]:
        table.add_row(f"{u['unit_code']} {u['unit_name']}", u["status"], _pct(u["dung"]),
                      _pct(u["du"]), _pct(u["sach"]),
                      {True: "✓", False: "✗"}.get(u["on_time"], "–"))
    console.print(table)


@quality_app.command("outliers")
def quality_outliers(indicator: str = typer.Option("", help="Only this indicator code.")
                     ) -> None:
    """Find outliers against each unit's history and its peers; flag them for follow-up.

    Example: chiso quality outliers
    """
    from chiso.collection.outliers import flag_outliers

    with _session() as session:
        found = flag_outliers(session, indicator_code=indicator or None)
    console.print(f"✓ {found} cờ mới / new flags")


@quality_app.command("rules")
def quality_rules(file: Path = typer.Option(None, exists=True, dir_okay=False,
                                            help="YAML rules to add or update (default: "
                                            "the shipped ones).")) -> None:
    """Load validation rules from YAML (idempotent) and list the active rules.

    Example: chiso quality rules --file quy-tac.yaml
    """
    from chiso.collection.rules import RULES_FILE, RuleError, active_rules, load_rules

    try:
        with _session() as session:
            changed = load_rules(session, file or RULES_FILE)
            table = Table("Mã / code", "Quy tắc / rule", "Mức / importance", "Thiếu / missing")
            for rule in active_rules(session):
                table.add_row(rule.code, f"{rule.left} {rule.operator} {rule.right}",
                              rule.importance, rule.missing_strategy)
    except RuleError as exc:
        _fail(exc)
    console.print(table)
    console.print(f"✓ {changed} quy tắc mới hoặc sửa / rules added or changed")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%".replace(".", ",")


# ------------------------------------------------------------------ remind


def remind_command(today: str = typer.Option("", help="Pretend today is this date "
                                             "(dd/mm/yyyy).")) -> None:
    """Send the reminders (đôn đốc) due now, escalating, never twice; for cron.

    Example: chiso remind
    """
    from chiso.collection.remind import send_due
    from chiso.text import parse_date

    day = parse_date(today) if today else get_settings().current_date()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        progress.add_task("Đôn đốc / sending reminders", total=None)
        with _session() as session:
            summary = send_due(session, today=day)
    console.print(f"✓ {summary.reminders} nhắc việc / reminders, {summary.summaries} tổng hợp "
                  f"/ summaries, {summary.emails} email")


# ------------------------------------------------------------------ dhis2


@dhis2_app.command("export")
def dhis2_export(code: str, period: str, out: Path,
                 unit: str = typer.Option("", help="Only this unit (with --children its "
                                          "subtree)."),
                 children: bool = typer.Option(False)) -> None:
    """Export a data set's values as DHIS2 dataValueSets (.json or .csv by the suffix).

    Example: chiso dhis2 export CCHC_XA_QUY 2025Q3 gia-tri.json
    """
    from chiso.collection import dhis2, service
    from chiso.units.service import descendant_ids, get_unit

    with _session() as session:
        data_set = service.data_set_by_code(session, code)
        ids: list[int] | None = None
        if unit:
            root = get_unit(session, unit).id
            ids = [root, *(descendant_ids(session, root) if children else [])]
        document = dhis2.export_data_values(session, data_set=data_set, periods=[period],
                                            unit_ids=ids)
    if out.suffix.lower() == ".csv":
        out.write_text(dhis2.to_csv(document), "utf-8")
    else:
        out.write_text(json.dumps(document, ensure_ascii=False, indent=1), "utf-8")
    console.print(f"✓ {len(document['dataValues'])} dataValues → {out}")


@dhis2_app.command("import")
def dhis2_import(file: Path = typer.Argument(..., exists=True, dir_okay=False),
                 dry_run: bool = typer.Option(False, "--dry-run"),
                 id_scheme: str = typer.Option("CODE", "--id-scheme")) -> None:
    """Import a DHIS2 dataValueSets file (.json or .csv, codes as identifiers).

    Example: chiso dhis2 import tu-dhis2.json --dry-run
    """
    from chiso.collection import dhis2

    with _session() as session:
        try:
            outcome = dhis2.import_file(session, file, dry_run=dry_run,
                                        options={"idScheme": id_scheme})
        except dhis2.Dhis2Error as exc:
            _fail(exc)
        if dry_run or not outcome.result.ok:
            session.rollback()
    _print_result(outcome.result.as_dict())
    if not outcome.result.ok:
        raise typer.Exit(1)


def _print_result(data: dict[str, Any]) -> None:
    for error in data["errors"]:
        console.print(f"[red]✗ {error['text']}[/red]")
    counts = data["counts"]
    console.print(f"mới / new {counts['inserted']} · sửa / changed {counts['updated']} · "
                  f"không đổi / unchanged {counts['unchanged']} · lỗi / errors "
                  f"{counts['errors']}" + (" (thử / dry run)" if data["dry_run"] else ""))
