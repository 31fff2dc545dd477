"""The web form's write path: one unit, one period, the data set's indicators; each value
goes through `chiso.values.service.save_value` (the same rules as every other way in), all
of the form or none of it. Evidence files are kept by chiso.storage (the one store)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso import storage
from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.collection import service
from chiso.collection.models import DataSet, Evidence
from chiso.errors import NotFound, UserError
from chiso.indicators.models import Indicator
from chiso.storage.uploads import keep_upload, kept_upload
from chiso.text import nfc
from chiso.units.models import OrgUnit
from chiso.values.models import DataValue
from chiso.values.service import StaleVersion, ValueRejected, save_value

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


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


class FormRefused(UserError):
    """A form save (or its sending) refused: nothing stored, the problems per figure."""

    def __init__(self, problems: list[FormProblem], status: int = 422) -> None:
        super().__init__("; ".join(p.message_vi for p in problems),
                         "; ".join(p.message_en for p in problems), status=status)
        self.problems = problems


@dataclass
class StagedUpload:
    path: Path
    digest: str
    name: str


def entry_from_form(form: Any, indicator_id: int) -> FormEntry:
    """One indicator's fields of the web form (numerator_7, denominator_7, value_7, …)."""
    def text(name: str) -> str | None:
        value = form.get(f"{name}_{indicator_id}")
        return str(value).strip() or None if value is not None else None

    version = text("version")
    return FormEntry(indicator_id, text("numerator"), text("denominator"), text("value"),
                     text("comment") or "",
                     int(version) if version and version.isdigit() else None)


def save_and_maybe_submit(session: Session, data_set: DataSet, unit: OrgUnit, period: str,
                          entries: list[FormEntry], *, access: Access, submit: bool) -> None:
    """The form's "Save draft" and "Save and submit": all of it or nothing."""
    problems = save_form(session, data_set, unit, period, entries, access=access)
    if problems:
        raise FormRefused(problems)
    if submit:
        try:
            service.submit(session, service.submission_for(session, data_set, unit.id,
                                                           period), access=access)
        except service.WorkflowError as exc:
            raise FormRefused([FormProblem("", exc.message_vi, exc.message_en)],
                              status=409) from None


def stage_upload(file_name: str, content: bytes, access: Access, suffixes: tuple[str, ...]
                 ) -> StagedUpload:
    """Keep an uploaded file (chiso.storage.uploads: under the uploader's name, on this
    server and, with the database store, for every server) until its dry run is confirmed
    (the confirmation re-posts only the digest)."""
    kept = keep_upload(nfc(file_name or "upload.xlsx"), content, owner=_owner(access),
                       suffixes=suffixes)
    return StagedUpload(kept.path, kept.digest, kept.name)


def staged_upload(access: Access, digest: str, suffix: str, name: str,
                  suffixes: tuple[str, ...]) -> StagedUpload:
    """The file kept by `stage_upload`, named by its digest (never by a client path)."""
    if not _DIGEST.match(digest) or suffix not in suffixes:
        raise UserError("Thiếu tệp", "no file", status=400)
    path = kept_upload(owner=_owner(access), digest=digest, suffix=suffix, suffixes=suffixes)
    if path is None:
        raise UserError("Tệp đã hết hạn, hãy tải lên lại", "the file expired; upload it again",
                        status=400)
    return StagedUpload(path, digest, nfc(Path(name).name) or path.name)


def _owner(access: Access) -> str:
    return str(access.user.id) if access.user is not None else f"system-{access.system_name}"


def evidence_file(session: Session, evidence_id: int, *, access: Access) -> Evidence:
    """An evidence row (READ on its unit); 404 when it is gone. Its file is sent by
    `chiso.storage.responses.file_response`, a 404 naming it when the store lost it."""
    row = session.get(Evidence, evidence_id)
    if row is None:
        raise NotFound(f"Không có tệp minh chứng #{evidence_id}",
                       f"no evidence file #{evidence_id}")
    access.require(Action.READ, row.unit_id)
    return row


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
              entries: list[FormEntry], *, access: Access) -> list[FormProblem]:
    """Save every filled entry, or nothing when any is refused (problems returned). The
    approval lock (a sent or approved report) is enforced by the values service's write
    guard with this writer's Access."""
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
                             access=access, source="form")
            if row.version != before:
                changed.append({"unit_id": unit.id, "indicator_id": entry.indicator_id,
                                "period": period})
        except (ValueRejected, StaleVersion) as exc:
            problems.append(FormProblem(codes[entry.indicator_id], exc.message_vi,
                                        exc.message_en))
    if problems:
        nested.rollback()
        return problems
    nested.commit()
    if changed:
        service.note_saved(session, submission, access,
                           f"biểu mẫu web: {len(changed)} số liệu / web form")
    return []


def save_evidence(session: Session, *, unit: OrgUnit, indicator: Indicator, period: str,
                  file_name: str, content: bytes, access: Access) -> Evidence:
    """Keep an evidence file (minh chứng) in the store and link it (the store checks its
    size and kind)."""
    access.require(Action.CAPTURE, unit.id)
    actor = access.actor
    name = nfc(Path(file_name).name)[:400] or "minh-chung"
    digest = storage.save(session, content, file_name=name).sha256
    row = Evidence(unit_id=unit.id, indicator_id=indicator.id, period=period, file_name=name,
                   sha256=digest, size=len(content), uploaded_by_id=getattr(actor, "id", None))
    session.add(row)
    session.flush()
    record_event(session, action="evidence.add", object_type="evidence", object_id=row.id,
                 actor=actor, unit_id=unit.id, after={"file": name, "sha256": digest,
                                                      "indicator": indicator.code,
                                                      "period": period})
    return row

