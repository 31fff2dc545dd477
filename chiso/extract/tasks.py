"""Ranks ('xếp thứ 16/63 tỉnh, thành phố về chỉ số DTI') and tasks ('Giao Sở … chủ trì,
phối hợp với …, hoàn thành trong Quý II/2026').

A task's lead and partners are units of the register found by name; the lead is the one
the clause gives the work to: after 'giao', first in the clause, or followed by 'chủ trì'.
A sentence with no such unit, or that tells what a unit did ('đã', 'trao đổi'), is no task.
"""

from __future__ import annotations

import datetime as dt
import re

from chiso.extract.matching import UnitFinder, UnitMention
from chiso.extract.proposals import DocumentMeta, Proposal
from chiso.extract.segments import Clause, Mode
from chiso.periods import PeriodError, parse_period
from chiso.text import DateError, accent_free_key, parse_date

_RANK = re.compile(r"(?:xếp\s+|đứng\s+)?(?:thứ|hạng)\s+(\d{1,3})\s*(?:/|trên|trong số)\s*(\d{2,3})",
                   re.IGNORECASE)
_INDEXES = (("dti", "DTI"), ("chuyen doi so", "DTI"), ("par index", "PAR INDEX"),
            ("cai cach hanh chinh", "PAR INDEX"), ("sipas", "SIPAS"), ("pci", "PCI"),
            ("papi", "PAPI"), ("ict index", "ICT INDEX"))
_TASK_CUE = re.compile(r"\b(giao|yêu cầu|đề nghị|chủ trì|chỉ đạo|phân công)\b", re.IGNORECASE)
_LEAD_BEFORE = re.compile(r"(?:^|\bgiao|yêu cầu:?|:)\s*(?:thời gian tới,?|đồng thời,?|"
                          r"trong đó,?)?\s*(?:[IVX]+\.|\d+[.)]|[-–•])?\s*$", re.IGNORECASE)
_NOT_ASSIGNED = re.compile(r"^\s*(?:\([^)]*\)\s*)?(?:đã|trao đổi|nêu|phát biểu|giải đáp|báo cáo "
                           r"tại|cho biết|tham dự|dự)\b", re.IGNORECASE)
_RECURRENCE = (("hang quy", "Q"), ("hang thang", "M"), ("hang nam", "Y"), ("moi quy", "Q"),
               ("6 thang mot lan", "S"), ("dinh ky quy", "Q"))


def read_ranks(clause: Clause, meta: DocumentMeta) -> list[Proposal]:
    found = []
    matches = list(_RANK.finditer(clause.text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(clause.text)
        about = clause.text[match.end():end]
        offset = clause.start - clause.sentence.start
        found.append(Proposal(
            kind="rank", sentence=clause.sentence.text, start=clause.sentence.start,
            end=clause.sentence.end, mark_start=offset + match.start(),
            mark_end=offset + match.end() + len(about.rstrip(" ,.")),
            fields={"rank": int(match.group(1)), "total": int(match.group(2)),
                    "index": _index(about), "year": _rank_year(clause, match.start(), meta),
                    **({"province_code": meta.province_code,
                        "province_name": meta.province_name} if meta.province_code else {})},
            confidence=0.9))
    return found


def _index(about: str) -> str:
    key = accent_free_key(about)
    for words, name in _INDEXES:
        if words in key:
            return name
    topic = re.search(r"\bvề\s+([^,;.]+)", about)
    return (topic.group(1) if topic else about).strip(" ,.")[:120]


def _rank_year(clause: Clause, position: int, meta: DocumentMeta) -> int | None:
    sentence = clause.sentence.text
    cut = clause.start - clause.sentence.start + position
    years = [int(y) for y in re.findall(r"(?:năm|Năm|DTI)\s+(\d{4})", sentence[:cut])]
    later = re.findall(r"(?:năm|Năm|DTI)\s+(\d{4})", sentence[cut:])
    if years:
        return years[-1]
    if later:
        return int(later[0])
    return meta.year


class TaskReader:
    def __init__(self, units: UnitFinder, meta: DocumentMeta) -> None:
        self.units = units
        self.meta = meta

    def read(self, clause: Clause) -> Proposal | None:
        sentence = clause.sentence
        cued = (_TASK_CUE.search(sentence.text) or sentence.task_list
                or sentence.section == Mode.TASK)
        if not cued:
            return None
        mentions = self.units.find(clause.text)
        lead = self._lead(clause.text, mentions)
        if lead is None:
            return None
        partners = [m for m in mentions if m.unit.code != lead.unit.code
                    and m.start > lead.start]
        offset = clause.start - sentence.start
        return Proposal(
            kind="task", sentence=sentence.text, start=sentence.start, end=sentence.end,
            mark_start=offset, mark_end=offset + len(clause.text),
            fields={"title": _title(clause.text), "lead_code": lead.unit.code,
                    "lead_name": lead.unit.name,
                    "partner_codes": list(dict.fromkeys(m.unit.code for m in partners)),
                    "partner_names": list(dict.fromkeys(m.unit.name for m in partners)),
                    **self._deadline(clause.text)},
            confidence=0.8 if "chủ trì" in clause.text else 0.6)

    def _lead(self, text: str, mentions: list[UnitMention]) -> UnitMention | None:
        for mention in mentions:
            before, after = text[:mention.start], text[mention.end:]
            if re.search(r"phối hợp(?: với)?\s*$", before):
                continue
            if _NOT_ASSIGNED.match(after):
                continue
            if _LEAD_BEFORE.search(before) or re.match(r"^\s*(?:\([^)]*\)\s*)?,?\s*chủ trì",
                                                        after):
                return mention
        return None

    def _deadline(self, text: str) -> dict[str, object]:
        key = accent_free_key(text)
        recurrence = next((code for words, code in _RECURRENCE if words in key), "")
        due, said = self._due(text)
        return {"due": due.isoformat() if due else None, "deadline_text": said,
                "recurrence": recurrence}

    def _due(self, text: str) -> tuple[dt.date | None, str]:
        quarter = re.search(r"(?:Quý|quý)\s+[IV\d]+\s*/\s*\d{4}|(?:tháng|Tháng)\s+\d{1,2}/\d{4}",
                            text)
        if quarter:
            try:
                return parse_period(quarter.group(0)).end(), quarter.group(0)
            except PeriodError:
                pass
        before = re.search(r"trước\s+(?:ngày\s+)?(\d{1,2})/(\d{1,2})(?:/(\d{4}))?", text)
        if before:
            year = before.group(3) or (str(self.meta.year) if self.meta.year else None)
            if year:
                try:
                    return (parse_date(f"{before.group(1)}/{before.group(2)}/{year}"),
                            before.group(0))
                except DateError:
                    pass
        in_year = re.search(r"trong năm\s+(\d{4})", text)
        if in_year:
            return dt.date(int(in_year.group(1)), 12, 31), in_year.group(0)
        return None, ""


def _title(text: str) -> str:
    text = re.sub(r"^\s*(?:[IVX]+\.|\d+[.)]|[-–•])\s*", "", text)
    text = re.sub(r"^(?:Giao|giao)\s+", "", text)
    return text.strip(" .;")[:300]
