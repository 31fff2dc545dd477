"""Bilingual problems found in an input file, each naming where it is and the rule broken.

Shared by the catalogue and plan loaders: a YAML entry is located by its list and index
("mục 3 trong 'indicators'"), a spreadsheet cell by sheet, row and column letter.
"""

from __future__ import annotations

from dataclasses import dataclass


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
        return f"{self._where_vi()}: {self.rule_vi} / {self._where_en()}: {self.rule_en}"

    def _where_vi(self) -> str:
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

    def _where_en(self) -> str:
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


class InputRejected(ValueError):
    """A file was refused as a whole: nothing from it was stored."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        head = (f"Tệp bị từ chối, không lưu gì: {count} lỗi / file rejected, nothing stored: "
                f"{count} problem(s)")
        super().__init__("\n".join([head, *(p.message() for p in problems)]))
