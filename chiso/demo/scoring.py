"""Scored departments in the demo: chiso's example index (chiso/scoring, itself marked an
illustration) scored for 2025 — each department's own score with its evidence, the
appraisal for four in five of them — so the ranking has something to rank. Every answer
and every piece of evidence is invented: the evidence numbers say "minh họa". Written once
(an assessment already scored is left alone), and only once 2025's scores are due (after
the year-end reports close on 20/01/2026)."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.scoring.frameworks import load_example
from chiso.scoring.models import ScoringAssessment, ScoringCriterion, ScoringFramework
from chiso.scoring.service import (
    EvidenceIn,
    criteria_of,
    get_framework,
    give_score,
    is_scored_leaf,
)
from chiso.units.models import OrgUnit
from chiso.units.service import get_unit

PERIOD = "2025"
SCORED_FROM = dt.date(2026, 1, 20)
EVIDENCE_DAY = dt.date(2026, 1, 15)
DEPARTMENT_KIND = "so_ban_nganh"


def seed_scores(session: Session, *, province_code: str, today: dt.date) -> int:
    """Returns how many departments were scored."""
    if today < SCORED_FROM:
        return 0
    framework = get_framework(session, load_example(session).code)
    leaves = [c for c in criteria_of(session, framework) if is_scored_leaf(c)]
    access = Access.system(session, "demo")
    scored = 0
    for unit in _departments(session, province_code):
        if _already(session, framework, unit):
            continue
        appraised = int(hashlib.sha256(unit.code.encode()).hexdigest()[:6], 16) % 5 != 0
        for criterion in leaves:
            _score(session, framework, unit, criterion, access, appraised=appraised)
        scored += 1
    return scored


def _departments(session: Session, province_code: str) -> list[OrgUnit]:
    province = get_unit(session, province_code)
    return list(session.scalars(select(OrgUnit).where(
        OrgUnit.parent_id == province.id, OrgUnit.kind == DEPARTMENT_KIND,
        OrgUnit.valid_to.is_(None)).order_by(OrgUnit.code)))


def _already(session: Session, framework: ScoringFramework, unit: OrgUnit) -> bool:
    row = session.scalar(select(ScoringAssessment).where(
        ScoringAssessment.framework_id == framework.id,
        ScoringAssessment.unit_id == unit.id, ScoringAssessment.period == PERIOD))
    return row is not None and row.self_total is not None


def _score(session: Session, framework: ScoringFramework, unit: OrgUnit,
           criterion: ScoringCriterion, access: Access, *, appraised: bool) -> None:
    """The department's own score and, for four in five departments, the appraisal: the
    same answer, but a ratio claimed too high is appraised lower (an evidence gap)."""
    roll = int(hashlib.sha256(f"{unit.code}:{criterion.code}".encode()).hexdigest()[:8], 16)
    answer = _answer(criterion, roll)
    evidence = EvidenceIn(
        number=f"MH-{roll % 900 + 100}/BC (minh họa)", date=EVIDENCE_DAY,
        summary=f"Báo cáo kết quả tiêu chí {criterion.code} năm 2025 (minh họa)",
        file_name=f"minh-chung-{criterion.code}.pdf",
        content=_pdf(f"Minh chung minh hoa: {unit.code}, tieu chi {criterion.code}"))
    give_score(session, framework_code=framework.code, unit=unit, period=PERIOD,
               criterion_code=criterion.code, kind="self", answer=answer, evidence=evidence,
               access=access)
    if appraised:
        if criterion.method == "ratio" and roll % 4 == 0:
            answer = f"{max(0, int(answer.rstrip('%')) - 15)}%"
        give_score(session, framework_code=framework.code, unit=unit, period=PERIOD,
                   criterion_code=criterion.code, kind="appraised", answer=answer,
                   evidence=evidence, access=access)


def _pdf(text: str) -> bytes:
    """A one-line PDF (evidence files must be documents)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _answer(criterion: ScoringCriterion, roll: int) -> str:
    """Mostly good answers, some weak: 'có'/'không', a percentage or a level's number."""
    if criterion.method == "yes_no":
        return "có" if roll % 10 else "không"
    if criterion.method == "ratio":
        return f"{55 + roll % 46}%"
    levels = criterion.rule or []
    return str(1 + (roll % 7) % max(1, min(len(levels), 3)))
