"""Scoring departments and communes: the one write path for scores and progress, the
scorecard, and the rankings (docs/scoring.md).

- `give_score` records a unit's own score (tự chấm: CAPTURE on the unit) or the appraisal
  council's (thẩm định: APPROVE on the unit) for one criterion, with its evidence (số hiệu,
  ngày, trích yếu, file — required for a self score above zero where the criterion asks
  for evidence), appends it (nothing is overwritten), recomputes the unit's totals and
  writes one audit event, in the caller's transaction.
- `record_progress` appends the % a unit reports on a criterion for a month or quarter.
- `scorecard` and `ranking` read: a ranking uses the appraised total where there is one,
  else the self total, and ranks by competition ranks (1, 2, 2, 4).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso import storage
from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.boot import require_booted
from chiso.errors import NotFound, UserError
from chiso.periods import PeriodError, parse_period
from chiso.scoring import rubric
from chiso.scoring.models import (
    CriterionProgress,
    Method,
    ScoreEntry,
    ScoreKind,
    ScoringAssessment,
    ScoringCriterion,
    ScoringFramework,
)
from chiso.text import nfc, parse_number
from chiso.text.numbers import NumberError
from chiso.units.models import OrgUnit, UnitKind
from chiso.units.service import valid_on

COMMUNE_LEVEL = 3  # unit kinds of level 3: xã, phường, đặc khu
GROUPS = {"departments": "so_ban_nganh", "communes": "level-3"}


class ScoringNotFound(NotFound):
    def __init__(self, what_vi: str, what_en: str) -> None:
        super().__init__(f"Không có {what_vi}", f"no {what_en}")


class ScoreRejected(UserError):
    """A score that breaks a rule (422), naming the field."""

    status = 422

    def __init__(self, column: str, message_vi: str, message_en: str) -> None:
        super().__init__(message_vi, message_en,
                         issues=[{"column": column, "rule": column,
                                  "message_vi": message_vi, "message_en": message_en}])


@dataclass(frozen=True)
class EvidenceIn:
    """Minh chứng: the document's number, date and summary, and its file (new content, or
    the SHA-256 of a file this assessment already holds)."""

    number: str = ""
    date: dt.date | None = None
    summary: str = ""
    file_name: str = ""
    content: bytes | None = None
    sha256: str = ""


# ---------------------------------------------------------------- lookups


def get_framework(session: Session, code: str) -> ScoringFramework:
    framework = session.scalar(select(ScoringFramework).where(
        ScoringFramework.code == nfc(code).strip()))
    if framework is None:
        raise ScoringNotFound(f"bộ chỉ số '{code}'", f"scoring framework '{code}'")
    return framework


def criteria_of(session: Session, framework: ScoringFramework) -> list[ScoringCriterion]:
    """Criteria in reading order (1, 1.1, 1.2, 2, …)."""
    rows = list(session.scalars(select(ScoringCriterion).where(
        ScoringCriterion.framework_id == framework.id)))
    by_parent: dict[int | None, list[ScoringCriterion]] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
    ordered: list[ScoringCriterion] = []

    def walk(parent: int | None) -> None:
        for row in sorted(by_parent.get(parent, []), key=lambda c: c.position):
            ordered.append(row)
            walk(row.id)

    walk(None)
    return ordered


def _criterion(session: Session, framework: ScoringFramework, code: str) -> ScoringCriterion:
    row = session.scalar(select(ScoringCriterion).where(
        ScoringCriterion.framework_id == framework.id, ScoringCriterion.code == nfc(code)))
    if row is None:
        raise ScoringNotFound(f"tiêu chí '{code}' trong bộ chỉ số {framework.code}",
                              f"criterion '{code}' in {framework.code}")
    return row


def _period(text: str) -> str:
    try:
        return parse_period(text).id
    except PeriodError as exc:
        raise ScoreRejected("period", exc.message_vi, exc.message_en) from None


def _assessment(session: Session, framework: ScoringFramework, unit: OrgUnit, period: str
                ) -> ScoringAssessment:
    row = session.scalar(select(ScoringAssessment).where(
        ScoringAssessment.framework_id == framework.id, ScoringAssessment.unit_id == unit.id,
        ScoringAssessment.period == period))
    if row is None:
        row = ScoringAssessment(framework_id=framework.id, unit_id=unit.id, period=period)
        session.add(row)
        session.flush()
    return row


def _check_unit(framework: ScoringFramework, unit: OrgUnit) -> None:
    if unit.kind not in framework.unit_kinds:
        raise ScoreRejected("unit", f"bộ chỉ số {framework.code} không đánh giá đơn vị loại "
                            f"'{unit.kind}' ({unit.name})", f"{framework.code} does not score "
                            f"units of kind '{unit.kind}' ({unit.name})")


# ---------------------------------------------------------------- writing


def give_score(session: Session, *, framework_code: str, unit: OrgUnit, period: str,
               criterion_code: str, kind: str, answer: object, evidence: EvidenceIn,
               note: str = "", access: Access) -> ScoreEntry:
    """Record a score (see the module docstring) and return it."""
    require_booted()
    kind = ScoreKind(kind)
    access.require(Action.CAPTURE if kind is ScoreKind.SELF else Action.APPROVE, unit.id)
    framework = get_framework(session, framework_code)
    _check_unit(framework, unit)
    criterion = _criterion(session, framework, criterion_code)
    scored = rubric.score(criterion.code, criterion.method, criterion.max_points,
                          criterion.rule, answer)
    assessment = _assessment(session, framework, unit, _period(period))
    sha = _evidence(session, assessment, criterion, kind, scored.points, evidence)
    entry = ScoreEntry(
        assessment_id=assessment.id, criterion_id=criterion.id, kind=kind.value,
        answer=scored.answer, points=scored.points, evidence_number=nfc(evidence.number),
        evidence_date=evidence.date, evidence_summary=nfc(evidence.summary),
        evidence_file=nfc(evidence.file_name)[:300], evidence_sha256=sha, note=nfc(note),
        entered_by_id=getattr(access.actor, "id", None))
    session.add(entry)
    session.flush()
    _recompute(session, assessment)
    record_event(session, action=f"scoring.{kind.value}", object_type="scoring_assessment",
                 object_id=assessment.id, actor=access.actor, unit_id=unit.id,
                 after={"framework": framework.code, "period": assessment.period,
                        "criterion": criterion.code, "answer": scored.answer,
                        "points": scored.points, "evidence": entry.evidence_number},
                 note=f"{framework.code} {criterion.code}")
    return entry


def _evidence(session: Session, assessment: ScoringAssessment, criterion: ScoringCriterion,
              kind: ScoreKind, points: float, evidence: EvidenceIn) -> str:
    """Check the evidence a score needs and keep its file; returns the file's SHA-256."""
    required = kind is ScoreKind.SELF and criterion.evidence_required and points > 0
    missing = [name for name, value, vi in (
        ("evidence_number", evidence.number, "số hiệu"),
        ("evidence_date", evidence.date, "ngày"),
        ("evidence_summary", evidence.summary, "trích yếu")) if not value] if required else []
    if missing:
        raise ScoreRejected(missing[0], "Minh chứng cần đủ số hiệu, ngày và trích yếu của văn "
                            "bản, và tệp đính kèm", "evidence needs the document's number, "
                            "date and summary, and its file")
    if evidence.content is not None:  # the store checks its size and kind
        return storage.save(session, evidence.content,
                            file_name=nfc(evidence.file_name).strip()).sha256
    if evidence.sha256:
        held = session.scalar(select(func.count()).select_from(ScoreEntry).where(
            ScoreEntry.assessment_id == assessment.id,
            ScoreEntry.evidence_sha256 == evidence.sha256))
        if not held:
            raise ScoreRejected("evidence_file", "tệp minh chứng này không thuộc bản đánh giá",
                                "this evidence file does not belong to the assessment")
        return evidence.sha256
    if required:
        raise ScoreRejected("evidence_file", "thiếu tệp minh chứng (văn bản, ảnh chụp)",
                            "the evidence file is missing")
    return ""


def record_progress(session: Session, *, framework_code: str, unit: OrgUnit, period: str,
                    criterion_code: str, month: str, percent: object, note: str = "",
                    access: Access) -> CriterionProgress:
    """Append the progress % the unit reports on a criterion for a month or quarter of the
    assessment's period (CAPTURE on the unit)."""
    require_booted()
    access.require(Action.CAPTURE, unit.id)
    framework = get_framework(session, framework_code)
    _check_unit(framework, unit)
    criterion = _criterion(session, framework, criterion_code)
    assessment = _assessment(session, framework, unit, _period(period))
    when = _period(month)
    if not parse_period(assessment.period).contains(parse_period(when)):
        raise ScoreRejected("month", f"kỳ {parse_period(when).label_vi()} không thuộc kỳ đánh "
                            f"giá {parse_period(assessment.period).label_vi()}",
                            f"{when} is not within the assessment period {assessment.period}")
    try:
        value = float(parse_number(percent).value)
    except NumberError:
        raise ScoreRejected("percent", f"'{percent}' không phải là tỷ lệ phần trăm",
                            f"'{percent}' is not a percentage") from None
    if not 0 <= value <= 100:
        raise ScoreRejected("percent", "tiến độ phải từ 0% đến 100%",
                            "progress must be 0% to 100%")
    row = CriterionProgress(assessment_id=assessment.id, criterion_id=criterion.id,
                            period=when, percent=value, note=nfc(note),
                            recorded_by_id=getattr(access.actor, "id", None))
    session.add(row)
    session.flush()
    record_event(session, action="scoring.progress", object_type="scoring_assessment",
                 object_id=assessment.id, actor=access.actor, unit_id=unit.id,
                 after={"criterion": criterion.code, "period": when, "percent": value},
                 note=f"{framework.code} {criterion.code}")
    return row


def _latest_entries(session: Session, assessment_ids: list[int]
                    ) -> dict[tuple[int, int, str], ScoreEntry]:
    """(assessment, criterion, kind) → its latest entry."""
    if not assessment_ids:
        return {}
    latest = (select(func.max(ScoreEntry.id)).where(
        ScoreEntry.assessment_id.in_(assessment_ids))
        .group_by(ScoreEntry.assessment_id, ScoreEntry.criterion_id, ScoreEntry.kind))
    rows = session.scalars(select(ScoreEntry).where(ScoreEntry.id.in_(latest)))
    return {(e.assessment_id, e.criterion_id, e.kind): e for e in rows}


def _recompute(session: Session, assessment: ScoringAssessment) -> None:
    entries = _latest_entries(session, [assessment.id]).values()
    for kind, column in ((ScoreKind.SELF, "self_total"), (ScoreKind.APPRAISED,
                                                          "appraised_total")):
        points = [e.points for e in entries if e.kind == kind]
        setattr(assessment, column, round(sum(points), 2) if points else None)


# ---------------------------------------------------------------- reading


@dataclass
class CardRow:
    criterion: ScoringCriterion
    depth: int
    self_entry: ScoreEntry | None = None
    appraised_entry: ScoreEntry | None = None
    self_points: float | None = None
    appraised_points: float | None = None
    progress: list[CriterionProgress] = field(default_factory=list)  # oldest first

    @property
    def latest_progress(self) -> CriterionProgress | None:
        return self.progress[-1] if self.progress else None


@dataclass
class Scorecard:
    framework: ScoringFramework
    unit: OrgUnit
    period: str
    assessment: ScoringAssessment | None
    rows: list[CardRow]

    @property
    def self_total(self) -> float | None:
        return self.assessment.self_total if self.assessment else None

    @property
    def appraised_total(self) -> float | None:
        return self.assessment.appraised_total if self.assessment else None


def scorecard(session: Session, *, framework_code: str, unit: OrgUnit, period: str
              ) -> Scorecard:
    """Every criterion with the unit's latest self and appraised scores, their evidence,
    and its progress reports; group rows add up their sub-criteria."""
    framework = get_framework(session, framework_code)
    period = _period(period)
    assessment = session.scalar(select(ScoringAssessment).where(
        ScoringAssessment.framework_id == framework.id, ScoringAssessment.unit_id == unit.id,
        ScoringAssessment.period == period))
    entries = _latest_entries(session, [assessment.id] if assessment else [])
    progress: dict[int, list[CriterionProgress]] = {}
    if assessment is not None:
        for row in session.scalars(select(CriterionProgress).where(
                CriterionProgress.assessment_id == assessment.id).order_by(
                CriterionProgress.period, CriterionProgress.id)):
            progress.setdefault(row.criterion_id, []).append(row)
    criteria = criteria_of(session, framework)
    depth = _depths(criteria)
    rows = []
    for criterion in criteria:
        own = entries.get((assessment.id, criterion.id, "self")) if assessment else None
        council = entries.get((assessment.id, criterion.id, "appraised")) if assessment else None
        rows.append(CardRow(criterion, depth[criterion.id], own, council,
                            own.points if own else None, council.points if council else None,
                            _latest_per_period(progress.get(criterion.id, []))))
    _sum_groups(rows)
    return Scorecard(framework, unit, period, assessment, rows)


def _depths(criteria: list[ScoringCriterion]) -> dict[int, int]:
    depth: dict[int, int] = {}
    for c in criteria:  # parents come first
        depth[c.id] = depth[c.parent_id] + 1 if c.parent_id else 0
    return depth


def _latest_per_period(rows: list[CriterionProgress]) -> list[CriterionProgress]:
    latest: dict[str, CriterionProgress] = {}
    for row in rows:
        latest[row.period] = row
    return [latest[p] for p in sorted(latest, key=lambda p: parse_period(p).end())]


def _sum_groups(rows: list[CardRow]) -> None:
    by_id = {r.criterion.id: r for r in rows}
    for row in reversed(rows):  # children before parents
        parent = by_id.get(row.criterion.parent_id) if row.criterion.parent_id else None
        if parent is None:
            continue
        for name in ("self_points", "appraised_points"):
            value = getattr(row, name)
            if value is not None:
                setattr(parent, name, round((getattr(parent, name) or 0.0) + value, 2))


@dataclass(frozen=True)
class RankRow:
    rank: int | None
    unit_code: str
    unit_name: str
    self_total: float | None
    appraised_total: float | None
    score: float | None
    appraised: bool  # the score is the appraised total
    evidence_count: int


def ranking(session: Session, *, framework_code: str, period: str, group: str
            ) -> list[RankRow]:
    """Departments ('departments') or communes ('communes') of the framework's kinds that
    exist on the period's last day (a department dissolved during the year is not listed as
    unscored beside its successor; one scored for the period still is), ranked on the
    appraised total where there is one, else the self total; units without a score come
    last, without a rank."""
    framework = get_framework(session, framework_code)
    span = parse_period(_period(period))
    assessments = {a.unit_id: a for a in session.scalars(select(ScoringAssessment).where(
        ScoringAssessment.framework_id == framework.id, ScoringAssessment.period == span.id))}
    scored = [unit_id for unit_id, a in assessments.items() if a.self_total is not None
              or a.appraised_total is not None]
    units = _group_units(session, framework, group, span.end(), scored)
    evidence = dict(session.execute(
        select(ScoringAssessment.unit_id, func.count(ScoreEntry.id))
        .join(ScoreEntry, ScoreEntry.assessment_id == ScoringAssessment.id)
        .where(ScoringAssessment.framework_id == framework.id,
               ScoringAssessment.period == span.id, ScoreEntry.evidence_sha256 != "")
        .group_by(ScoringAssessment.unit_id)).all())
    rows = []
    for unit in units:
        a = assessments.get(unit.id)
        appraised = a is not None and a.appraised_total is not None
        score = (a.appraised_total if appraised else a.self_total) if a else None
        rows.append((unit, a, score, appraised))
    ranks = rubric.competition_ranks([score for _, _, score, _ in rows])
    ranked = [RankRow(rank, unit.code, unit.name, a.self_total if a else None,
                      a.appraised_total if a else None, score, appraised,
                      int(evidence.get(unit.id, 0)))
              for (unit, a, score, appraised), rank in zip(rows, ranks, strict=True)]
    return sorted(ranked, key=lambda r: (r.rank is None, r.rank or 0, r.unit_name))


def _group_units(session: Session, framework: ScoringFramework, group: str, day: dt.date,
                 scored: list[int]) -> list[OrgUnit]:
    """The group's units valid on `day` (the period's last day, as a unit code is read for
    a period: `chiso.values.service.unit_for_code`), and those in `scored` whatever their
    dates."""
    if group not in GROUPS:
        raise ScoreRejected("group", f"nhóm '{group}' không hợp lệ (departments, communes)",
                            f"unknown group '{group}' (departments, communes)")
    kinds = set(framework.unit_kinds)
    if group == "departments":
        kinds &= {"so_ban_nganh"}
    else:
        kinds &= set(session.scalars(select(UnitKind.code).where(
            UnitKind.level == COMMUNE_LEVEL)))
    return list(session.scalars(select(OrgUnit).where(
        OrgUnit.kind.in_(sorted(kinds)), valid_on(day) | OrgUnit.id.in_(scored))
        .order_by(OrgUnit.name)))


def list_frameworks(session: Session) -> list[ScoringFramework]:
    return list(session.scalars(select(ScoringFramework).order_by(ScoringFramework.code)))


def assessed_periods(session: Session, framework: ScoringFramework) -> list[str]:
    return sorted(set(session.scalars(select(ScoringAssessment.period).where(
        ScoringAssessment.framework_id == framework.id))), reverse=True)


def is_scored_leaf(criterion: ScoringCriterion) -> bool:
    return criterion.method != Method.GROUP


def answer_choices(criterion: ScoringCriterion) -> list[str]:
    """What a form offers: the levels' labels, 'có'/'không', or nothing (a percentage)."""
    if criterion.method == Method.LEVEL:
        return [level["label_vi"] for level in (criterion.rule or [])]  # type: ignore[index]
    if criterion.method == Method.YES_NO:
        return ["có", "không"]
    return []


def as_dict(card: Scorecard) -> dict[str, Any]:
    """The scorecard's public shape (API, export)."""
    return {
        "framework": card.framework.code, "unit": card.unit.code, "unit_name": card.unit.name,
        "period": card.period, "max_points": card.framework.max_points,
        "self_total": card.self_total, "appraised_total": card.appraised_total,
        "criteria": [{
            "code": r.criterion.code, "name_vi": r.criterion.name_vi,
            "name_en": r.criterion.name_en, "method": r.criterion.method,
            "max_points": r.criterion.max_points, "self_points": r.self_points,
            "appraised_points": r.appraised_points,
            "self_answer": r.self_entry.answer if r.self_entry else None,
            "appraised_answer": r.appraised_entry.answer if r.appraised_entry else None,
            "evidence": _evidence_dict(r.self_entry),
            "progress": [{"period": p.period, "percent": p.percent, "note": p.note}
                         for p in r.progress]} for r in card.rows]}


def _evidence_dict(entry: ScoreEntry | None) -> dict[str, Any] | None:
    if entry is None or not (entry.evidence_number or entry.evidence_sha256):
        return None
    return {"number": entry.evidence_number, "date": entry.evidence_date,
            "summary": entry.evidence_summary, "file": entry.evidence_file,
            "sha256": entry.evidence_sha256}


def entry_with_file(session: Session, sha256: str) -> ScoreEntry:
    """An entry holding this evidence file (for its name and unit), or 404."""
    entry = session.scalar(select(ScoreEntry).where(ScoreEntry.evidence_sha256 == sha256)
                           .limit(1))
    if entry is None or not storage.exists(sha256):
        raise ScoringNotFound("tệp minh chứng này", "such evidence file")
    return entry


def unit_of_entry(session: Session, entry: ScoreEntry) -> int:
    assessment = session.get(ScoringAssessment, entry.assessment_id)
    assert assessment is not None
    return assessment.unit_id
