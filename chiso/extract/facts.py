"""Numeric facts — targets (chỉ tiêu) and achieved values — and ranks, from one clause.

A number is a fact when it is a percentage ('76,6 %', 'một trăm phần trăm'), or a count
followed by what it counts ('1.234 doanh nghiệp', 'mười lăm xã'). Years, dates, số hiệu,
'thứ 16/63', 'mức độ 4', '4G', '4.0' and list numbers are not. The subject is the words
before the number ('Tỷ lệ hộ gia đình có cáp quang đạt 76,6 %'), or after it when the number
comes first ('100 % hồ sơ công việc được xử lý …', 'phấn đấu 100 % hệ thống …').
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from chiso.extract.matching import IndicatorMatch, IndicatorMatcher, syllables
from chiso.extract.metadata import CODE, DATE
from chiso.extract.proposals import DocumentMeta, Proposal
from chiso.extract.segments import Clause, Mode, pillar_in
from chiso.extract.spelled import find_spelled_numbers
from chiso.periods import PeriodError, parse_period
from chiso.text import NumberError, ParsedNumber, accent_free_key, parse_number

_NUMBER = re.compile(r"(?<![\w.,/%-])(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?(?:\s*(%))?(?![\w/])")
_MASKS = (
    CODE, DATE,
    re.compile(r"\b\d{1,2}/\d{1,2}\b"),  # 30/6, 16/63
    re.compile(r"\b(?:19|20)\d{2}\b"),  # years
    re.compile(r"(?:mức|mức độ|cấp độ|lần thứ|khóa|số)\s+\d+", re.IGNORECASE),
    re.compile(r"\b\d+G\b|\b\d\.0\b|COVID-19", re.IGNORECASE),
    re.compile(r"\b\d+\s+(?:ngày|tháng|năm|bậc|lần|giờ|phút)\b", re.IGNORECASE),
    re.compile(r"(?:Quý|quý)\s+[IVX\d]+"),
)
# What a count may count; '160 điểm cầu', '5 trụ cột', '11 nội dung' are not facts.
_COUNTED = re.compile(r"^\s*(doanh nghiệp|xã|phường|thị trấn|hộ|người|hồ sơ|thủ tục|đơn vị|"
                      r"cơ quan|trường|bệnh viện|thôn|bản|sản phẩm|tài khoản|thuê bao|lượt|"
                      r"dịch vụ|hệ thống|cơ sở dữ liệu|nền tảng|trạm|học sinh|cán bộ)\b",
                      re.IGNORECASE)
_SUBJECT_AFTER = re.compile(r"(?:^|\b(?:với|duy trì|bảo đảm|đảm bảo|phấn đấu|hoàn thành|có|"
                            r"tối thiểu|ít nhất|đạt tỷ lệ|cung cấp|đến|tới)|[,:(])\s*$",
                            re.IGNORECASE)
_TAIL_WORDS = re.compile(r"(?:\s|^)(?:đạt|là|chiếm|tỷ trọng|từ|trên|tối thiểu|tối đa|ít nhất|"
                         r"không quá|không vượt quá|dưới|khoảng|gần|hơn|được|ở mức|lên|còn|"
                         r"bằng|vượt)\s*$", re.IGNORECASE)
_LEAD_IN = re.compile(r"^\s*(?:theo đó,?\s*)?(?:về [^,]{1,40},\s*)?(?:phấn đấu\s+)?",
                      re.IGNORECASE)
_FALLBACK_CONFIDENCE = 0.7  # the less likely side must name an indicator clearly
_PHRASE_STOP = re.compile(r"[;:.]|\bvà\s+\d")
_VALUE_CUES = re.compile(r"\b(đã|hoàn thành|kết quả|đến nay|hiện nay|hiện có|đạt được|"
                         r"thực hiện được|toàn tỉnh có)\b", re.IGNORECASE)
_TARGET_CUES = re.compile(r"\b(mục tiêu|chỉ tiêu|tối thiểu|không quá|trở lên|duy trì|"
                          r"đến hết năm|đến năm \d{4}|phấn đấu|kế hoạch đề ra)\b", re.IGNORECASE)
_CLAUSE_TARGET = re.compile(r"\b(tối thiểu|không quá|trở lên|không vượt quá|ít nhất)\b",
                            re.IGNORECASE)


@dataclass
class Number:
    start: int
    end: int
    parsed: ParsedNumber

    @property
    def value(self) -> float:
        return float(self.parsed.value)


def numbers_in(text: str) -> list[Number]:
    """Facts' numbers in a clause: digits through `parse_number`, words through
    `parse_spelled_number`, with years, dates, codes and the like masked out."""
    masked = [False] * len(text)
    for pattern in _MASKS:
        for m in pattern.finditer(text):
            masked[m.start():m.end()] = [True] * (m.end() - m.start())
    found = []
    for m in _NUMBER.finditer(text):
        if any(masked[m.start():m.end() - (1 if m.group(3) else 0)]):
            continue
        if re.match(r"^\s*(?:[IVX]+\.|\d+[.)])\s", text[:m.end() + 2]) and not m.group(3):
            continue  # '1. Sở …' numbers a list item
        try:
            found.append(Number(m.start(), m.end(), parse_number(m.group(0))))
        except NumberError:
            continue
    found += [Number(s, e, p) for s, e, p in find_spelled_numbers(text)
              if not any(masked[s:e])]
    return sorted(found, key=lambda n: n.start)


def is_fact(text: str, number: Number) -> bool:
    if number.parsed.percent:
        return True
    return bool(_COUNTED.match(text[number.end:])) and number.value != 1


def sentence_mode(text: str, default: str) -> str:
    """'phấn đấu' makes targets; then words of a result ('đã', 'hoàn thành', 'kết quả')
    make values; then other words of a goal ('mục tiêu', 'tối thiểu', 'đến năm 2025')."""
    if re.search(r"\bphấn đấu\b", text, re.IGNORECASE):
        return Mode.TARGET
    if _VALUE_CUES.search(text):
        return Mode.VALUE
    if _TARGET_CUES.search(text):
        return Mode.TARGET
    return default


class FactReader:
    def __init__(self, matcher: IndicatorMatcher, meta: DocumentMeta, default_mode: str,
                 scope: dict[str, str]) -> None:
        self.matcher = matcher
        self.meta = meta
        self.default_mode = default_mode
        self.scope = scope

    def read(self, clause: Clause, mode: str) -> list[Proposal]:
        if _CLAUSE_TARGET.search(clause.text):
            mode = Mode.TARGET
        numbers = [n for n in numbers_in(clause.text) if is_fact(clause.text, n)]
        proposals = []
        previous_end = 0
        for index, number in enumerate(numbers):
            next_start = numbers[index + 1].start if index + 1 < len(numbers) else None
            proposals.append(self._fact(clause, number, mode, previous_end, next_start))
            previous_end = number.end
        return proposals

    def _fact(self, clause: Clause, number: Number, mode: str, previous_end: int,
              next_start: int | None) -> Proposal:
        text = clause.text
        before = text[previous_end:number.start]
        after = _PHRASE_STOP.split(text[number.end:next_start])[0]
        unit = _unit(number, text)
        spans = _subject_spans(text, before, after, number, previous_end)
        chosen, match = spans[0], None
        for span in spans:  # the first side that names a catalogue indicator wins
            span, found = self._best_cut(text, span, unit, number)
            if match is None or (match.code is None and found.code is not None
                                 and found.confidence >= _FALLBACK_CONFIDENCE):
                chosen, match = span, found
            if match.code is not None:
                break
        assert match is not None
        subject = text[chosen[0]:chosen[1]]
        fields = self._fields(clause, number, mode, match, subject, before, after)
        offset = clause.start - clause.sentence.start
        mark = (offset + min(chosen[0], number.start), offset + max(chosen[1], number.end))
        return Proposal(kind=mode, sentence=clause.sentence.text, start=clause.sentence.start,
                        end=clause.sentence.end, mark_start=mark[0], mark_end=mark[1],
                        fields=fields, confidence=match.confidence)

    def _best_cut(self, text: str, span: tuple[int, int], unit: str, number: Number
                  ) -> tuple[tuple[int, int], IndicatorMatch]:
        """A subject after the number may run on ('… đủ điều kiện mức 4, phát triển kinh tế
        số nông nghiệp, …'): each cut at a comma is tried and the best-named one kept."""
        cuts = [span]
        if span[0] >= number.end:
            cuts += [(span[0], span[0] + m.start()) for m in re.finditer(",", text[span[0]:span[1]])
                     if m.start() > 0]
        best: tuple[tuple[int, int], IndicatorMatch] | None = None
        for cut in cuts:
            found = self.matcher.match(text[cut[0]:cut[1]] + (" GRDP" if "GRDP" in unit else ""),
                                       percent=number.parsed.percent)
            if cut != span and found.confidence < _FALLBACK_CONFIDENCE:
                continue  # a short cut names some indicator too easily
            if best is None or (found.code is not None and (best[1].code is None or
                                                            found.confidence > best[1].confidence)):
                best = (cut, found)
        assert best is not None
        return best

    def _fields(self, clause: Clause, number: Number, mode: str, match: IndicatorMatch,
                subject: str, before: str, after: str) -> dict[str, object]:
        fields: dict[str, object] = {
            "indicator_code": match.code, "indicator_name": match.name,
            "new_indicator": match.code is None,
            "alternatives": match.alternatives, "subject": subject.strip(" ,"),
            "value": _plain(number.parsed.value), "unit": _unit(number, clause.text),
            "pillar": (match.entry.pillar_code if match.entry else None)
            or pillar_in(clause.sentence.text[:max(0, clause.start - clause.sentence.start)]
                         + before) or clause.sentence.pillar,
            **self.scope,
        }
        if mode == Mode.TARGET:
            fields["comparator"] = comparator(before, after)
            fields.update(self._target_time(clause))
        else:
            fields.update(self._period(clause))
        return fields

    def _target_time(self, clause: Clause) -> dict[str, object]:
        sentence = clause.sentence.text
        campaign = re.search(r"\b(\d+)\s+ngày\b", sentence)
        year = re.search(r"(?:đến hết năm|đến năm|trong năm|năm)\s+(\d{4})", sentence,
                         re.IGNORECASE)
        return {"year": int(year.group(1)) if year else self.meta.year,
                "campaign": f"{campaign.group(1)} ngày" if campaign else ""}

    def _period(self, clause: Clause) -> dict[str, object]:
        sentence = clause.sentence.text
        spelled = re.search(r"(?:Quý|quý)\s+[IV\d]+\s*/\s*\d{4}|(?:tháng|Tháng)\s+\d{1,2}/\d{4}",
                            sentence)
        if spelled:
            try:
                period = parse_period(spelled.group(0))
                return {"period": period.id, "period_text": spelled.group(0)}
            except PeriodError:
                pass
        span = re.search(r"(\d+) tháng (?:đầu )?năm (\d{4})", sentence)
        if span:
            return {"period": span.group(2), "period_text": span.group(0)}
        year = re.search(r"(?:năm|Năm)\s+(\d{4})", sentence)
        if year:
            return {"period": year.group(1), "period_text": year.group(0)}
        fallback = str(self.meta.year) if self.meta.year else None
        return {"period": fallback, "period_text": ""}


def _subject_spans(text: str, before: str, after: str, number: Number,
                   previous_end: int) -> list[tuple[int, int]]:
    """Where the subject of the number may lie in the clause, the likelier first: before
    it ('Tỷ lệ … đạt 76,6 %'), or after it when the number comes first or follows 'với',
    'duy trì', 'phấn đấu', a comma … ('100 % hồ sơ công việc được xử lý …')."""
    head = _TAIL_WORDS.sub("", before.rstrip())
    while _TAIL_WORDS.search(head):
        head = _TAIL_WORDS.sub("", head)
    lead = _LEAD_IN.match(head.split(":")[-1])
    trimmed = head.split(":")[-1][lead.end() if lead else 0:]
    begin = previous_end + len(head) - len(trimmed)
    before_span = (begin, previous_end + len(head))
    start = number.end + len(after) - len(after.lstrip(" %"))
    after_span = (start, max(start, number.end + len(after.rstrip(" ,("))))
    spans = [s for s in (before_span, after_span)
             if len([w for w in syllables(text[s[0]:s[1]]) if len(w) > 1]) >= 2]
    if _SUBJECT_AFTER.search(before) or (len(spans) == 1 and spans[0] == after_span):
        spans.sort(key=lambda s: s != after_span)
    return spans or [after_span]


def comparator(before: str, after: str) -> str:
    tail = accent_free_key(before[-40:])
    if re.search(r"khong qua|khong vuot qua|toi da|duoi\s*$|khong cao hon", tail):
        return "<="
    if re.search(r"^\s*tro len", accent_free_key(after)):
        return ">="
    if re.search(r"(tren|hon|vuot)\s*$", tail):
        return ">"
    return ">="


def _unit(number: Number, text: str) -> str:
    rest = text[number.end:]
    if number.parsed.percent:
        return "% GRDP" if re.match(r"^\s*GRDP\b", rest) else "%"
    counted = _COUNTED.match(rest)
    return counted.group(1) if counted else ""


def _plain(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)

