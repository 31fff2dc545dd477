"""Document metadata: số hiệu (72-KH/BCĐ, 48-NQ/TU, 55/KH-UBND, 21/TB-UBND), its date, the
issuer, the province and the title. A 'Số: …' header wins; in a news article about a
document, the first số hiệu named is the document's."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from chiso.extract.matching import UnitFinder
from chiso.extract.proposals import DocumentMeta
from chiso.text import DateError, name_key, parse_date

_KINDS = "KH|NQ|CT|QĐ|BC|TB|KL|HD|CV|ĐA|TTr|QC|CTr|NĐ|TT"
CODE = re.compile(rf"(?<![\w/])(\d{{1,4}}(?:/\d{{4}})?[-/](?:{_KINDS})(?:[-/][A-ZĐ][A-ZĐ0-9&]*)+)")
_HEADER_CODE = re.compile(rf"Số\s*:\s*{CODE.pattern}")
DATE = re.compile(r"ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}|\b\d{1,2}[/-]\d{1,2}[/-]\d{4}\b",
                  re.IGNORECASE)
_ISSUER = re.compile(r"((?:Ban Chỉ đạo|Ban Thường vụ|Ban Chấp hành|BCH|Ủy ban nhân dân|UBND|"
                     r"Tỉnh ủy|Tỉnh uỷ|HĐND|Sở)[^,.;:]{0,80}?)\s+(?:đã\s+)?ban hành")
_SUFFIX_ISSUER = {"BCĐ": "Ban Chỉ đạo về chuyển đổi số", "TU": "Tỉnh ủy",
                  "UBND": "Ủy ban nhân dân tỉnh", "HĐND": "Hội đồng nhân dân tỉnh"}
_PROVINCE = re.compile(r"\b(?:tỉnh|Tỉnh)\s+((?:[A-ZĐÀ-Ỹ][\wà-ỹ]*\s?){1,3})")
_KIND_HEADINGS = {"KẾ HOẠCH": "KH", "NGHỊ QUYẾT": "NQ", "CHỈ THỊ": "CT", "THÔNG BÁO": "TB",
                  "BÁO CÁO": "BC", "QUYẾT ĐỊNH": "QĐ", "KẾT LUẬN": "KL"}


def document_meta(text: str, units: UnitFinder) -> DocumentMeta:
    meta = DocumentMeta()
    header = _HEADER_CODE.search(text)
    first = header or CODE.search(text)
    if first:
        meta.code = first.group(1)
        meta.kind = re.split(r"[-/]", re.sub(r"^\d+(?:/\d{4})?[-/]", "", meta.code))[0]
        meta.date = _date_near(text, meta.code)
    meta.kind = meta.kind or _heading_kind(text)
    meta.province_code, meta.province_name = _province(text, units)
    meta.issuer = _issuer(text, meta)
    meta.title = _title(text)
    meta.year = _year(meta)
    return meta


def _date_near(text: str, code: str) -> str | None:
    """The date in the line or sentence of an occurrence of the code, nearest to it."""
    for match in re.finditer(re.escape(code), text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        line = text[line_start:line_end if line_end >= 0 else len(text)]
        position = match.start() - line_start
        dates = sorted(DATE.finditer(line), key=lambda d: abs(d.start() - position))
        for found in dates:
            try:
                return parse_date(found.group(0).replace("-", "/")).isoformat()
            except DateError:
                continue
    return None


def _heading_kind(text: str) -> str:
    for line in text.split("\n")[:12]:
        kind = _KIND_HEADINGS.get(line.strip())
        if kind:
            return kind
    return ""


def _province(text: str, units: UnitFinder) -> tuple[str, str]:
    counts: Counter[str] = Counter()
    for match in _PROVINCE.finditer(text):
        words = match.group(1).split()
        for size in range(len(words), 0, -1):
            unit = units.provinces.get(name_key(" ".join(words[:size])))
            if unit is not None:
                counts[unit.code] += 1
                break
    if not counts:
        return "", ""
    code = counts.most_common(1)[0][0]
    unit = next(u for u in units.provinces.values() if u.code == code)
    return code, unit.short_name or unit.name


def _issuer(text: str, meta: DocumentMeta) -> str:
    found = _ISSUER.search(text)
    if found:
        return found.group(1).strip()
    suffix = meta.code.rsplit("/", 1)[-1].rsplit("-", 1)[-1] if meta.code else ""
    issuer = _SUFFIX_ISSUER.get(suffix, "")
    if issuer and meta.province_name:
        issuer += ("" if issuer.endswith("tỉnh") else " tỉnh") + " " + meta.province_name
    return issuer


def _title(text: str) -> str:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    for index, line in enumerate(lines[:12]):
        if line in _KIND_HEADINGS and index + 1 < len(lines):
            return f"{line.capitalize()} {lines[index + 1]}"[:300]
    return lines[0][:300] if lines else ""


def _year(meta: DocumentMeta) -> int | None:
    found = re.search(r"năm (\d{4})\b", meta.title)
    if found:
        return int(found.group(1))
    return dt.date.fromisoformat(meta.date).year if meta.date else None
