"""The web form's write path: one unit, one period, the data set's indicators; each value
goes through `chiso.values.service.save_value` (the same rules as every other way in), all
of the form or none of it. Evidence files are kept under the data directory by sha256."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.collection import service
from chiso.collection.models import DataSet, Evidence
from chiso.indicators.models import Indicator
from chiso.settings import get_settings
from chiso.text import nfc
from chiso.units.models import OrgUnit
from chiso.values.models import DataValue
from chiso.values.service import StaleVersion, ValueRejected, save_value

EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
EVIDENCE_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".xls", ".doc",
                     ".zip", ".txt", ".csv")


@dataclass
class FormEntry:
    indicator_id: int
    numerator: str | None = None
    denominator: str | None = None
    value: str | None = None
    comment: str = ""
    expected_version: int | None = None

    def is_blank(self) -> bool:
        return not any((self.numerator, self.denominator, self.value, self.comment))


@dataclass
class FormProblem:
    indicator_code: str
    message_vi: str
    message_en: str


def form_rows(session: Session, data_set: DataSet, unit: OrgUnit, period: str
              ) -> list[dict[str, Any]]:
    """The form's rows: each indicator with its stored figure and evidence files."""
    indicators = service.indicators_of(session, data_set)
    stored = {v.indicator_id: v for v in session.scalars(select(DataValue).where(
        DataValue.unit_id == unit.id, DataValue.period == period,
        DataValue.indicator_id.in_([i.id for i in indicators]),
        DataValue.deleted.is_(False)))}
    files: dict[int, list[Evidence]] = {}
    for evidence in session.scalars(select(Evidence).where(
            Evidence.unit_id == unit.id, Evidence.period == period).order_by(Evidence.id)):
        files.setdefault(evidence.indicator_id, []).append(evidence)
    return [{"indicator": i, "value": stored.get(i.id), "evidence": files.get(i.id, [])}
            for i in indicators]


def save_form(session: Session, data_set: DataSet, unit: OrgUnit, period: str,
              entries: list[FormEntry], *, actor: Any, access: Access
              ) -> list[FormProblem]:
    """Save every filled entry, or nothing when any is refused (problems returned)."""
    access.require(Action.CAPTURE, unit.id)
    period = service.check_period(data_set, period).id
    submission = service.submission_for(session, data_set, unit.id, period)
    codes = {i.id: i.code for i in service.indicators_of(session, data_set)}
    problems: list[FormProblem] = []
    changed: list[dict[str, Any]] = []
    nested = session.begin_nested()
    for entry in entries:
        if entry.indicator_id not in codes or (entry.is_blank() and entry.expected_version
                                               in (None, 0)):
            continue
        try:
            before = entry.expected_version or 0
            row = save_value(session, unit_id=unit.id, indicator_id=entry.indicator_id,
                             period=period, numerator=entry.numerator,
                             denominator=entry.denominator, value=entry.value,
                             comment=entry.comment, expected_version=entry.expected_version,
                             actor=actor, access=access, source="form")
            if row.version != before:
                changed.append({"unit_id": unit.id, "indicator_id": entry.indicator_id,
                                "period": period})
        except (ValueRejected, StaleVersion) as exc:
            problems.append(FormProblem(codes[entry.indicator_id], exc.message_vi,
                                        exc.message_en))
    if not problems and changed:
        try:
            service.guard_if_unhooked(session, pl.DataFrame(changed), actor)
        except ValueRejected as exc:
            problems.append(FormProblem("", exc.message_vi, exc.message_en))
    if problems:
        nested.rollback()
        return problems
    nested.commit()
    if changed:
        service.note_saved(session, submission, actor,
                           f"biểu mẫu web: {len(changed)} số liệu / web form")
    return []


def save_evidence(session: Session, *, unit: OrgUnit, indicator: Indicator, period: str,
                  file_name: str, content: bytes, actor: Any, access: Access) -> Evidence:
    """Keep an evidence file (minh chứng) under data_dir/evidence/<sha256> and link it."""
    access.require(Action.CAPTURE, unit.id)
    name = nfc(Path(file_name).name)[:400] or "minh-chung"
    if Path(name).suffix.lower() not in EVIDENCE_SUFFIXES:
        raise ValueRejected([{"column": "evidence", "rule": "evidence_type",
                              "message_vi": f"không nhận tệp '{name}' (chỉ PDF, ảnh, "
                                            "Word, Excel, ZIP)",
                              "message_en": f"file '{name}' is not accepted (PDF, images, "
                                            "Word, Excel, ZIP only)"}])
    if len(content) > EVIDENCE_MAX_BYTES:
        raise ValueRejected([{"column": "evidence", "rule": "evidence_size",
                              "message_vi": "tệp minh chứng quá 20 MB",
                              "message_en": "the evidence file is over 20 MB"}])
    digest = hashlib.sha256(content).hexdigest()
    target = evidence_path(digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    row = Evidence(unit_id=unit.id, indicator_id=indicator.id, period=period, file_name=name,
                   sha256=digest, size=len(content), uploaded_by_id=getattr(actor, "id", None))
    session.add(row)
    session.flush()
    record_event(session, action="evidence.add", object_type="evidence", object_id=row.id,
                 actor=actor, unit_id=unit.id, after={"file": name, "sha256": digest,
                                                      "indicator": indicator.code,
                                                      "period": period})
    return row


def evidence_path(digest: str) -> Path:
    return get_settings().data_dir / "evidence" / digest[:2] / digest
