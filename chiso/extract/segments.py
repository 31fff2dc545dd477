"""Cut a document into sentences and clauses, keeping each one's place in the text (so a
page can highlight it) and the section it sits in (a heading 'I. MỤC TIÊU' makes the
numbers below it targets; 'NHIỆM VỤ' or '… yêu cầu:' makes the items below it tasks)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from chiso.text import accent_free_key

# A sentence ends at . ! ? … followed by space and a capital (or an opening quote).
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"“(]?[A-ZĐÀ-Ỹ0-9])")
_CLAUSE_END = re.compile(r";")
_NUMBERING = re.compile(r"^\s*(?:[IVX]+\.|\d+(?:\.\d+)*[.)]|[a-zđ]\)|[-–•+*])\s*")
PILLAR_WORDS = (("chinh quyen so", "CQS"), ("kinh te so", "KTS"), ("xa hoi so", "XHS"),
                ("cua khau so", "CKS"), ("co quan dang", "DANG"))


class Mode:
    TARGET = "target"
    VALUE = "value"
    TASK = "task"


@dataclass
class Clause:
    start: int  # offsets in the document text
    end: int
    text: str
    sentence: Sentence


@dataclass
class Sentence:
    start: int
    end: int
    text: str
    section: str | None  # Mode of the heading above it, if any
    task_list: bool  # an item of a list introduced by '… yêu cầu:' / 'giao:'
    pillar: str | None  # pillar named by the heading above it
    numbered: bool

    def clauses(self) -> Iterator[Clause]:
        position = 0
        for piece in _CLAUSE_END.split(self.text):
            begin = self.text.index(piece, position) if piece else position
            stripped = piece.strip()
            if stripped:
                offset = begin + piece.index(stripped)
                yield Clause(self.start + offset, self.start + offset + len(stripped),
                             stripped, self)
            position = begin + len(piece)


def _heading_mode(line: str) -> str | None:
    key = accent_free_key(_NUMBERING.sub("", line))
    if re.match(r"^(muc tieu|chi tieu)", key):
        return Mode.TARGET
    if re.match(r"^(nhiem vu|giai phap|to chuc thuc hien|phan cong)", key):
        return Mode.TASK
    if re.match(r"^(ket qua|tinh hinh thuc hien)", key):
        return Mode.VALUE
    return None


def _is_heading(line: str) -> bool:
    body = _NUMBERING.sub("", line).strip()
    if not body or len(body) > 90 or body[-1] in ".;:,":
        return False
    return body.isupper() or bool(re.match(r"^\s*(?:[IVX]+\.|\d+\.)\s", line))


def pillar_in(text: str) -> str | None:
    key = accent_free_key(text)
    for words, code in PILLAR_WORDS:
        if words in key:
            return code
    return None


def sentences(text: str) -> list[Sentence]:
    found: list[Sentence] = []
    section: str | None = None
    pillar: str | None = None
    task_list = False
    offset = 0
    for line in text.split("\n"):
        stripped = line.strip()
        start = offset + (line.index(stripped) if stripped else 0)
        offset += len(line) + 1
        if not stripped:
            continue
        numbered = bool(_NUMBERING.match(stripped))
        if _is_heading(stripped) and not re.search(r"\d+(?:,\d+)?\s*%", stripped):
            mode = _heading_mode(stripped)
            top = stripped.isupper() or bool(re.match(r"^[IVX]+\.", stripped))
            section = mode if mode or top else section  # '1. Kinh tế số' keeps 'MỤC TIÊU'
            pillar = pillar_in(stripped) or (None if top else pillar)
            task_list = False
            continue
        if not numbered:
            task_list = False
        found += _split_line(stripped, start, section, task_list, pillar, numbered)
        if re.search(r"(yêu cầu|giao|phân công|như sau)\s*:$", stripped, re.IGNORECASE):
            task_list = True
    return found


def _split_line(line: str, start: int, section: str | None, task_list: bool,
                pillar: str | None, numbered: bool) -> list[Sentence]:
    pieces = []
    position = 0
    for piece in _SENTENCE_END.split(line):
        begin = line.index(piece, position)
        position = begin + len(piece)
        pieces.append(Sentence(start + begin, start + begin + len(piece), piece, section,
                               task_list, pillar, numbered))
    return pieces
