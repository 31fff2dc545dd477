"""The report's sentences, written from its data (chiso/reports/data.py), never typed in.

- Section I's count speaks the vocabulary of the moment: đã đạt / đúng tiến độ / có nguy cơ
  chậm / chậm tiến độ while a target's date is ahead; đạt / không đạt / chưa triển khai once
  it has passed (a Q4 or annual report never says "có nguy cơ" of a year that is over).
- Section III (tồn tại, hạn chế và nguyên nhân): targets missed or behind, each with the
  causes the reporting officers wrote in their figures' comments where there are any; the
  units that had not reported by the cut-off and those that reported late; figures that
  cannot be right; overdue tasks.
- Section IV (nhiệm vụ trọng tâm thời gian tới): the targets to recover, the overdue tasks
  and those due in the next period, and the conclusions of the committee's meetings.
- Warnings: what the reader must fix or know before signing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from chiso.analytics.service import TargetStatus
from chiso.analytics.status import Status
from chiso.periods import Period, parse_period
from chiso.reports.asof import ReportingGap
from chiso.reports.data import (
    ReportData,
    fmt_actual,
    fmt_value,
    period_label,
    reached,
    target_text,
)
from chiso.tasks.counts import OriginCount
from chiso.tasks.models import TaskStatus
from chiso.tasks.monthly import MonthSummary
from chiso.tasks.service import TaskRow
from chiso.text import format_date, nfc

LIST_LIMIT = 8  # items listed in a sentence before "và n … khác (xem Phụ lục)"
UNIT_LIMIT = 20  # units named in a sentence (the annex names them all)
FOCUS_TARGETS = 3  # the targets furthest from their goal named in section IV
CAUSES_LIMIT = 3
SUB = "+ "  # a line that belongs to the sentence above it (indented in the document)


def compose(data: ReportData) -> ReportData:
    data.task_lines = task_sentences(data)
    data.limitations = limitation_sentences(data)
    data.focus = focus_items(data)
    data.warnings = warnings_for(data)
    return data


def join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " và " + items[-1]


def listed(items: Sequence[str], noun: str, limit: int = LIST_LIMIT) -> str:
    """The first `limit` items, then "và 56 <noun> khác (xem Phụ lục)"."""
    if len(items) <= limit:
        return join(items)
    return ", ".join(items[:limit]) + f" và {len(items) - limit} {noun} khác (xem Phụ lục)"


# ------------------------------------------------------------------ I. the count

def result_summary(data: ReportData) -> str:
    counts = data.status_counts()
    year = data.period_end.year
    total = sum(counts.values())
    parts = ", ".join(f"{n} chỉ tiêu {status.label('vi').lower()}"
                      for status, n in counts.items() if n)
    if total == 0:
        return f"Chưa có chỉ tiêu nào có mục tiêu năm {year} cho {data.unit.name}."
    lead = (f"Năm {year} đã kết thúc; kết quả" if _year_closed(data)
            else "Kết quả")
    return f"{lead}: trong tổng số {total} chỉ tiêu có mục tiêu năm {year}, {parts}."


def _year_closed(data: ReportData) -> bool:
    return bool(data.statuses) and all(s.closed for s in data.statuses)


def revision_lines(data: ReportData) -> list[str]:
    """'Trong năm 2025 có 1 chỉ tiêu được điều chỉnh; kết quả được đánh giá theo mục tiêu
    có hiệu lực tại ngày 30/09/2025:' and one line per revision, with its basis."""
    if not data.revisions:
        return []
    return [f"Trong năm {data.period_end.year} có {len(data.revisions)} chỉ tiêu được điều "
            f"chỉnh; kết quả được đánh giá theo mục tiêu có hiệu lực tại ngày "
            f"{format_date(data.as_of)}:"] + [SUB + r.sentence("vi") + "."
                                               for r in data.revisions]


def actual_text(data: ReportData, s: TargetStatus) -> str:
    """The actual as a report writes it, 'ước 76,5%' while it rests on an estimate."""
    text = fmt_actual(s)
    return f"ước {text}" if s.actual is not None and s.estimate else text


# ------------------------------------------------------------------ II. tasks

ORIGIN_SUBJECT = {"central": "Nhiệm vụ do Trung ương giao", "province": "Nhiệm vụ do tỉnh giao",
                  "commune": "Nhiệm vụ do cấp xã giao"}


def task_sentences(data: ReportData) -> list[str]:
    """Tasks by who assigned them, as the centre counts them, from the start of the year to
    the judged day; then the units' monthly task reports."""
    lines: list[str] = []
    counted = [c for c in data.origin_counts if c.total]
    if counted:
        lines.append(f"Lũy kế từ đầu năm {data.period_end.year} đến ngày "
                     f"{format_date(data.as_of)}, theo cấp giao nhiệm vụ:")
        lines += [SUB + origin_sentence(c) for c in counted]
    lines += [month_sentence(m) for m in data.month_reports]
    return lines


def origin_sentence(c: OriginCount) -> str:
    """'Nhiệm vụ do Trung ương giao: 12 nhiệm vụ; đã hoàn thành 5 nhiệm vụ, trong đó 2
    nhiệm vụ hoàn thành trước hạn, 2 đúng hạn, 1 quá hạn; 5 nhiệm vụ đang thực hiện trong
    hạn; 2 nhiệm vụ quá hạn chưa hoàn thành.' Zero parts are left out."""
    parts = [f"{c.total} nhiệm vụ"]
    if c.done:
        timing = [f"{n} {what}" for n, what in (
            (c.done_ahead, "trước hạn"), (c.done_on_time, "đúng hạn"),
            (c.done_late, "quá hạn")) if n]
        timing[0] = timing[0].replace(" ", " nhiệm vụ hoàn thành ", 1)
        parts.append(f"đã hoàn thành {c.done} nhiệm vụ, trong đó " + ", ".join(timing))
    else:
        parts.append("chưa hoàn thành nhiệm vụ nào")
    if c.running:
        parts.append(f"{c.running} nhiệm vụ đang thực hiện trong hạn")
    if c.overdue:
        parts.append(f"{c.overdue} nhiệm vụ quá hạn chưa hoàn thành")
    return f"{ORIGIN_SUBJECT[c.origin.value]}: " + "; ".join(parts) + "."


def month_sentence(m: MonthSummary) -> str:
    """'Báo cáo tháng 07/2026 về nhiệm vụ: 12/14 đơn vị đã báo cáo (trong đó 3 đơn vị
    không phát sinh; 1 báo cáo muộn); chưa báo cáo: A, B.'"""
    text = (f"Báo cáo {period_label(m.period)} về tình hình thực hiện nhiệm vụ: "
            f"{m.reported}/{m.expected} đơn vị đã báo cáo")
    notes = []
    if m.nothing:
        notes.append(f"trong đó {m.nothing} đơn vị báo cáo không phát sinh")
    if m.late:
        notes.append(f"{len(m.late)} báo cáo gửi muộn")
    if notes:
        text += " (" + "; ".join(notes) + ")"
    if m.missing:
        text += f"; chưa báo cáo: {listed(m.missing, 'đơn vị', UNIT_LIMIT)}"
    return text + "."


# ------------------------------------------------------------------ III. limitations

def limitation_sentences(data: ReportData) -> list[str]:
    lines = _target_lines(data)
    lines += _reporting_lines(data)
    if data.anomalies:
        lines.append(f"Phát hiện {len(data.anomalies)} số liệu bất thường cần rà soát, chuẩn "
                     f"hóa: {listed(data.anomalies, 'số liệu', 5)}.")
    overdue = data.tasks_with(TaskStatus.OVERDUE)
    if overdue:
        worst = [s for s in data.scores if s.overdue][:3]
        lines.append(
            f"Còn {len(overdue)} nhiệm vụ quá hạn chưa hoàn thành tính đến ngày "
            f"{format_date(data.as_of)}; nhiều nhất tại "
            f"{join([f'{s.unit_name} ({s.overdue} nhiệm vụ)' for s in worst])}.")
    if not lines:
        lines.append("Không có chỉ tiêu chậm tiến độ, đơn vị chậm báo cáo hoặc nhiệm vụ quá "
                     "hạn trong kỳ.")
    return lines


def _with(data: ReportData, *statuses: Status) -> list[TargetStatus]:
    return [s for s in data.statuses if Status(s.status) in statuses]


def _target_lines(data: ReportData) -> list[str]:
    year = data.period_end.year
    lines: list[str] = []
    missed = _with(data, Status.MISSED)
    if missed:
        lines.append(f"Có {len(missed)} chỉ tiêu không đạt mục tiêu năm {year}:")
        lines += [SUB + _shortfall(data, s) for s in missed]
    idle = _with(data, Status.NOT_IMPLEMENTED)
    if idle:
        lines.append(f"Có {len(idle)} chỉ tiêu chưa triển khai (chưa có kết quả) trong năm "
                     f"{year}: " + "; ".join(s.indicator_name_vi for s in idle) + ".")
    off = _with(data, Status.OFF_TRACK)
    if off:
        lines.append(f"Có {len(off)} chỉ tiêu chậm tiến độ so với lộ trình đến ngày "
                     f"{format_date(data.as_of)}:")
        lines += [SUB + _shortfall(data, s) for s in off]
    silent = [s for s in missed + off if not causes_for(data, s)]
    if silent:
        lines.append(f"Các đơn vị chưa nêu nguyên nhân cho {len(silent)}/{len(missed + off)} "
                     "chỉ tiêu trên (ghi trong ý kiến kèm số liệu khi báo cáo).")
    risk = _with(data, Status.AT_RISK)
    if risk:
        lines.append(f"Có {len(risk)} chỉ tiêu có nguy cơ không đạt mục tiêu năm {year}: "
                     + "; ".join(s.indicator_name_vi for s in risk) + ".")
    none = _with(data, Status.NO_DATA)
    if none:
        lines.append(f"Có {len(none)} chỉ tiêu chưa có số liệu để đánh giá: "
                     + "; ".join(s.indicator_name_vi for s in none) + ".")
    bottleneck = _largest_gap(off + risk)
    if bottleneck is not None:
        s = bottleneck
        lines.append(f"Điểm nghẽn lớn nhất là chỉ tiêu “{s.indicator_name_vi}”: thực hiện "
                     f"{actual_text(data, s)} so với {fmt_value(s.expected, s)} theo lộ "
                     f"trình (mục tiêu {fmt_value(s.target_value, s)}).")
    return lines


def _shortfall(data: ReportData, s: TargetStatus) -> str:
    """'X: thực hiện 60,0% (lộ trình 87,5%), mục tiêu ≥ 90,0%. Nguyên nhân …'"""
    path = "" if s.closed or s.expected is None else f" (lộ trình {fmt_value(s.expected, s)})"
    text = (f"{s.indicator_name_vi}: thực hiện {actual_text(data, s)}{path}, mục tiêu "
            f"{target_text(s)}")
    causes = causes_for(data, s)
    if causes:
        return text + ". Nguyên nhân (theo báo cáo của đơn vị): " + "; ".join(causes) + "."
    return text + "."


def causes_for(data: ReportData, s: TargetStatus) -> list[str]:
    """The officers' own words: distinct comments on the indicator's figures of the year
    known at the cut-off, latest period first."""
    found: dict[str, str] = {}
    values = [v for v in data.values if v.indicator_id == s.indicator_id and v.comment.strip()]
    for v in sorted(values, key=lambda v: (v.period_end, data.unit_names.get(v.unit_id, "")),
                    reverse=True):
        text = nfc(v.comment).strip().rstrip(".")
        if text.casefold() not in found:
            found[text.casefold()] = (f"{data.unit_names.get(v.unit_id, '')} "
                                      f"({period_label(v.period)}): “{text}”")
    return list(found.values())[:CAUSES_LIMIT]


def _largest_gap(statuses: list[TargetStatus]) -> TargetStatus | None:
    candidates = [s for s in statuses if s.progress_ratio is not None]
    return min(candidates, key=lambda s: (s.progress_ratio, s.indicator_code), default=None)


def _reporting_lines(data: ReportData) -> list[str]:
    lines = []
    for gap in data.reporting:
        lines += _gap_lines(gap)
    if data.silent_units:
        lines.append(f"Có {len(data.silent_units)} đơn vị chưa cập nhật số liệu kỳ "
                     f"{data.period_title}: {listed(data.silent_units, 'đơn vị')}.")
    return lines


def _gap_lines(gap: ReportingGap) -> list[str]:
    periods = join([period_label(p) for p in gap.periods])
    lines = []
    never = gap.never
    what = "báo cáo nào" if len(gap.periods) > 1 else "báo cáo"
    if never and len(never) == gap.expected:
        lines.append(f"Biểu mẫu “{gap.data_set}” ({periods}): chưa đơn vị nào gửi {what} "
                     f"(0/{gap.expected} đơn vị; danh sách tại Phụ lục).")
    elif never:
        lines.append(f"Biểu mẫu “{gap.data_set}” ({periods}): {len(never)}/{gap.expected} "
                     f"đơn vị chưa gửi {what}: {listed(never, 'đơn vị', UNIT_LIMIT)}.")
    partly = gap.partly
    if partly:
        lines.append(f"Biểu mẫu “{gap.data_set}”: {len(partly)} đơn vị còn thiếu báo cáo: "
                     + listed([f"{u} ({n}/{len(gap.periods)} kỳ)" for u, n in partly],
                              "đơn vị", UNIT_LIMIT) + ".")
    if gap.late:
        lines.append(f"Biểu mẫu “{gap.data_set}”: {len(gap.late)} báo cáo gửi muộn: "
                     + listed([f"{u} ({period_label(p)}, muộn {d} ngày)"
                               for u, p, d in gap.late], "báo cáo") + ".")
    if not lines:
        lines.append(f"Biểu mẫu “{gap.data_set}” ({periods}): {gap.expected}/{gap.expected} "
                     "đơn vị đã gửi báo cáo đúng hạn.")
    return lines


# ------------------------------------------------------------------ IV. the time ahead

def focus_items(data: ReportData) -> list[str]:
    items = _target_focus(data)
    overdue = data.tasks_with(TaskStatus.OVERDUE)
    if overdue:
        items.append(f"Khẩn trương hoàn thành {len(overdue)} nhiệm vụ quá hạn: "
                     + listed([_task_phrase(r) for r in overdue], "nhiệm vụ") + ".")
    upcoming, until = _upcoming(data)
    if upcoming:
        items.append(f"Hoàn thành các nhiệm vụ đang thực hiện có hạn đến ngày "
                     f"{format_date(until)}: "
                     + listed([_task_phrase(r) for r in upcoming], "nhiệm vụ") + ".")
    for held_on in dict.fromkeys(c.held_on for c in data.conclusions):
        texts = [c.text.rstrip(".") for c in data.conclusions if c.held_on == held_on]
        body = texts[0] if len(texts) == 1 else "; ".join(
            f"({i}) {t}" for i, t in enumerate(texts, start=1))
        items.append(f"Triển khai kết luận của Ban Chỉ đạo tại phiên họp ngày "
                     f"{format_date(held_on)}: {body}.")
    if not items:
        items.append("Duy trì kết quả các chỉ tiêu đã đạt; cập nhật số liệu đầy đủ, đúng hạn "
                     "hằng tháng.")
    return items


def _target_focus(data: ReportData) -> list[str]:
    year = data.period_end.year
    items = []
    missed = _with(data, Status.MISSED, Status.NOT_IMPLEMENTED)
    if missed:
        items.append(f"Đưa vào kế hoạch năm {year + 1} và tập trung chỉ đạo hoàn thành "
                     f"{len(missed)} chỉ tiêu năm {year} chưa đạt (nêu tại Mục "
                     f"{data.numeral('limitations')})"
                     + _furthest(missed, "trước hết là") + ".")
    behind = _with(data, Status.OFF_TRACK, Status.AT_RISK)
    if behind:
        items.append(f"Tập trung thúc đẩy {len(behind)} chỉ tiêu chậm tiến độ, có nguy cơ không "
                     f"đạt mục tiêu năm {year}" + _furthest(behind, "nhất là") + ".")
    return items


def _furthest(statuses: list[TargetStatus], lead: str) -> str:
    """', trước hết là A (thực hiện 37,1%, mục tiêu ≥ 50,0%); B (…)': the targets furthest
    from their goal (all of them when there are few)."""
    ranked = sorted(statuses, key=lambda s: (reached(s) is None, reached(s) or 0.0,
                                             s.indicator_code))[:FOCUS_TARGETS]
    opening = ": " if len(statuses) <= FOCUS_TARGETS else f", {lead} "
    return opening + "; ".join(
        f"{s.indicator_name_vi} (thực hiện {fmt_actual(s)}, mục tiêu "
        f"{target_text(s)})" for s in ranked)


def _task_phrase(row: TaskRow) -> str:
    return (f"{row.task.title} ({row.lead_unit_name}, hạn "
            f"{format_date(row.task.due_date)})")


def _upcoming(data: ReportData) -> tuple[list[TaskRow], dt.date]:
    """Open tasks, not yet overdue, due by the end of the next period of the report's kind."""
    until = next_period(parse_period(data.period)).end()
    rows = [r for r in data.tasks_with(TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS)
            if r.task.due_date <= until]
    return rows, until


def next_period(period: Period) -> Period:
    count = 12 // period.type.months
    if period.index < count:
        return Period(period.year, period.type, period.index + 1)
    return Period(period.year + 1, period.type, 1)


# ------------------------------------------------------------------ warnings

def warnings_for(data: ReportData) -> list[str]:
    """What the reader must know before signing, Vietnamese / English."""
    found = []
    if not data.texts.get("signer_name", "").strip():
        found.append("Chưa có họ tên người ký (mục “Họ tên người ký”): báo cáo để trống chỗ "
                     "ký tên / the signer's name is missing: the signature block is blank")
    if not data.plans:
        found.append(f"Không có kế hoạch nào đặt mục tiêu năm {data.period_end.year} cho "
                     f"{data.unit.name}: báo cáo không nêu được số hiệu kế hoạch / no plan sets "
                     "targets for the year: the report cannot cite one")
    for plan in data.plans:
        if plan.issued_on is None:
            found.append(f"Kế hoạch {plan.code} chưa có ngày ban hành / plan {plan.code} has "
                         "no issue date")
    if data.illustrative:
        found.append("Báo cáo có số liệu minh họa, không phải số liệu chính thức / the report "
                     "contains illustrative (demo) figures")
    if data.cutoff.provisional:
        found.append(f"Chưa đến ngày chốt số liệu {format_date(data.cutoff.closing_date)}: "
                     "báo cáo tạm tính, tạo lại sau ngày chốt sẽ khác / before the closing "
                     "date the report is provisional")
    return found
