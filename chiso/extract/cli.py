"""`chiso extract FILE`: what a document proposes — targets, values, ranks and tasks —
listed with the sentence each comes from. Nothing is stored unless `--save` is given, and
then only for review: the officer accepts, edits or rejects on the page /extract/{id}."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chiso.accounts.access import Access
from chiso.cli.tables import print_table
from chiso.db import session_scope
from chiso.extract import service
from chiso.extract.pipeline import RuleExtractor
from chiso.extract.proposals import Extraction, Proposal
from chiso.extract.reading import read_document
from chiso.extract.registers import Registers
from chiso.text import format_number

console = Console()
_TITLES = {"target": "Chỉ tiêu / targets", "value": "Kết quả / achieved values",
           "rank": "Xếp hạng / ranks", "task": "Nhiệm vụ / tasks"}


def register(app: typer.Typer) -> None:
    app.command("extract")(extract_command)


def extract_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                help="Tài liệu / the document (.docx, .pdf, .txt)."),
    as_json: bool = typer.Option(False, "--json", help="In JSON thay cho bảng / Print JSON "
                                                       "instead of tables."),
    save: bool = typer.Option(False, "--save", help="Lưu tài liệu và các đề xuất để duyệt trên "
                                                    "trang /extract/{id} (không lưu gì khác) / "
                                                    "Store the document and its proposals for "
                                                    "review on the page /extract/{id} (nothing "
                                                    "else is stored)."),
) -> None:
    """Đọc tài liệu và đề xuất chỉ tiêu, kết quả, xếp hạng, nhiệm vụ.

    Mỗi đề xuất kèm câu gốc trong tài liệu. Read a document and propose its targets,
    achieved values, ranks and tasks, each with its source sentence.

    Example: chiso extract ke-hoach-72-KH-BCD.docx
    """
    with _progress() as bar:
        reading = bar.add_task("Đọc / reading", total=None)
        read = read_document(file.read_bytes(), file.name,
                             lambda done, total: bar.update(reading, completed=done, total=total))
        if bar.tasks[reading].total is None:  # one-page formats report no pages
            bar.update(reading, completed=1, total=1)
        sentences = bar.add_task("Trích xuất / extracting", total=None)

        def step(done: int, total: int) -> None:
            bar.update(sentences, completed=done, total=total)

        with session_scope() as session:
            registers = Registers.from_session(session)
            if not registers.indicators:  # an empty database: the shipped catalogue
                registers = Registers.from_shipped_files()
            extraction = RuleExtractor(registers).extract(read.text, step)
            if save:
                document = service.propose(session, access=Access.system(session, "cli"),
                                           data=file.read_bytes(), filename=file.name)
    if as_json:
        typer.echo(json.dumps({"metadata": extraction.meta.to_dict(), "notes": read.notes,
                               "proposals": [p.to_dict() for p in extraction.proposals]},
                              ensure_ascii=False, indent=2))
    else:
        _print(extraction, read.notes)
    if save:
        console.print(f"Đã lưu để duyệt / saved for review: /extract/{document.id}")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=Console(stderr=True), transient=True)


def _print(extraction: Extraction, notes: list[str]) -> None:
    meta = extraction.meta
    console.print(f"[bold]{meta.code or '(không rõ số hiệu / no number)'}[/] "
                  f"{meta.date or ''} {meta.issuer} {meta.province_name}")
    for note in notes:
        console.print(f"[yellow]{note}[/]")
    for kind in ("target", "value", "rank", "task"):
        found = extraction.of_kind(kind)
        table = Table(title=f"{_TITLES[kind]}: {len(found)}", show_lines=False, expand=True)
        for column in _COLUMNS[kind]:
            table.add_column(column, overflow="fold")
        for proposal in found:
            table.add_row(*_ROWS[kind](proposal))
        print_table(console, table)


_COLUMNS = {
    "target": ("Chỉ số / indicator", "So sánh", "Giá trị / value", "Năm / year", "Câu / sentence"),
    "value": ("Chỉ số / indicator", "Giá trị / value", "Kỳ / period", "Câu / sentence"),
    "rank": ("Hạng / rank", "Chỉ số / index", "Năm / year", "Câu / sentence"),
    "task": ("Nhiệm vụ / task", "Chủ trì / lead", "Phối hợp / partners", "Hạn / due"),
}


def _indicator(f: dict[str, Any]) -> str:
    if f.get("indicator_code"):
        return f"{f['indicator_name']} ({f['indicator_code']}, {f.get('confidence', '')})"
    return f"MỚI / NEW: {f['subject']}"


def _value(f: dict[str, Any]) -> str:
    return f"{format_number(f['value'])} {f['unit']}".strip()


def _marked(p: Proposal) -> str:
    return f"{p.before[-60:]}[reverse]{p.marked}[/reverse]{p.after[:40]}"


_ROWS = {
    "target": lambda p: (_indicator(p.fields | {"confidence": p.confidence}),
                         str(p.fields.get("comparator", "")), _value(p.fields),
                         str(p.fields.get("campaign") or p.fields.get("year") or ""),
                         _marked(p)),
    "value": lambda p: (_indicator(p.fields | {"confidence": p.confidence}), _value(p.fields),
                        str(p.fields.get("period") or ""), _marked(p)),
    "rank": lambda p: (f"{p.fields['rank']}/{p.fields['total']}", str(p.fields["index"]),
                       str(p.fields.get("year") or ""), _marked(p)),
    "task": lambda p: (p.fields["title"], p.fields["lead_name"],
                       ", ".join(p.fields["partner_names"]),
                       p.fields.get("due") or p.fields.get("recurrence") or ""),
}
