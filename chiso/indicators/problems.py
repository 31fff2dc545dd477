"""Bilingual problems found in an input file, each naming where it is and the rule broken.

Shared by the catalogue and plan loaders: a YAML entry is located by its list and index
("mục 3 trong 'indicators'"), a spreadsheet cell by sheet, row and column letter.
"""

from __future__ import annotations

from dataclasses import dataclass

from chiso.errors import UserError


@dataclass(frozen=True)
class Problem:
    file: str
    rule_vi: str
    rule_en: str
    sheet: str = ""  # YAML: the list ('indicators', 'targets'); XLSX: the sheet name
    row: int | None = None  # YAML: 1-based entry index; XLSX: the spreadsheet row number
    column: str = ""  # YAML: the field; XLSX: the header ('C "Đơn vị"')
    key: str = ""  # the entry's own code, when it has one (indicator code, target indicator)
    spreadsheet: bool = False

    def message(self) -> str:
        """'Tệp …, trang …, dòng 7, cột …: quy tắc / file …, sheet …, row 7, column …: rule'."""
        return f"{self.where_vi()}: {self.rule_vi} / {self.where_en()}: {self.rule_en}"

    def where_vi(self) -> str:
        parts = [f"tệp '{self.file}'"] if self.file else []
        if self.sheet:
            kind = "trang" if self.spreadsheet else "danh sách"
            parts.append(f"{kind} '{self.sheet}'")
        if self.row is not None:
            parts.append(f"dòng {self.row}" if self.spreadsheet else f"mục {self.row}")
        if self.key:
            parts.append(f"{parts.pop()} ({self.key})" if parts else f"({self.key})")
        if self.column:
            parts.append(f"cột {self.column}" if self.spreadsheet else f"trường '{self.column}'")
        text = ", ".join(parts)
        return text[:1].upper() + text[1:]

    def where_en(self) -> str:
        parts = [f"file '{self.file}'"] if self.file else []
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'" if self.spreadsheet else f"list '{self.sheet}'")
        if self.row is not None:
            parts.append(f"row {self.row}" if self.spreadsheet else f"entry {self.row}")
        if self.key:
            parts.append(f"{parts.pop()} ({self.key})" if parts else f"({self.key})")
        if self.column:
            parts.append(f"column {self.column}" if self.spreadsheet else f"field '{self.column}'")
        return ", ".join(parts)


class InputRejected(UserError):
    """A file or an entry was refused as a whole: nothing from it was stored (422). Each
    problem is in `problems` (and `issues`, and the API answer's `problems`); the message
    lists them all, Vietnamese lines then English ones."""

    status = 422

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        lines_vi = [f"Tệp bị từ chối, không lưu gì: {count} lỗi",
                    *(f"{p.where_vi()}: {p.rule_vi}" for p in problems)]
        lines_en = [f"file rejected, nothing stored: {count} problem(s)",
                    *(f"{p.where_en()}: {p.rule_en}" for p in problems)]
        messages = [p.message() for p in problems]
        super().__init__("\n".join(lines_vi), "\n".join(lines_en), issues=messages,
                         data={"problems": messages})

    def __str__(self) -> str:
        """One problem per line, each in both languages (the CLI prints this)."""
        count = len(self.problems)
        head = (f"Tệp bị từ chối, không lưu gì: {count} lỗi / file rejected, nothing stored: "
                f"{count} problem(s)")
        return "\n".join([head, *(p.message() for p in self.problems)])
