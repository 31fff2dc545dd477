"""Read a document, propose, and write what an officer accepts — the one path.

Nothing proposed is stored as a target, value or task until a person accepts it; then it
goes through the same service as a typed entry (chiso.plans / chiso.values / chiso.tasks),
with its validation, permission check and audit event. The document and every proposal
are kept with its decision, so the audit shows who accepted what from which document.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action, Actor
from chiso.audit.service import record_event
from chiso.boot import require_booted
from chiso.db.base import utcnow
from chiso.errors import Conflict, Forbidden, NotFound, UserError
from chiso.extract.models import Decision, ExtractDocument, ExtractProposal
from chiso.extract.pipeline import Progress, RuleExtractor
from chiso.extract.proposals import Extraction
from chiso.extract.reading import PageProgress, ReadDocument, read_document, read_pasted
from chiso.extract.registers import Registers
from chiso.indicators.service import get_indicator
from chiso.periods import Period, PeriodType
from chiso.plans.models import Plan, Target
from chiso.plans.service import create_target, load_plan
from chiso.settings import get_settings
from chiso.tasks.service import create_task
from chiso.text import nfc, parse_date, parse_number
from chiso.units.models import OrgUnit
from chiso.units.service import get_unit
from chiso.values.service import save_value

EDITABLE = {
    "target": ("indicator_code", "value", "comparator", "year", "scope_unit_code"),
    "value": ("indicator_code", "value", "period", "scope_unit_code"),
    "task": ("title", "lead_code", "partner_codes", "due", "recurrence"),
    "rank": ("rank", "total", "index", "year"),
}


class ProposalNotFound(NotFound):
    def __init__(self, proposal_id: object) -> None:
        super().__init__(f"Không có đề xuất số {proposal_id}", f"no proposal {proposal_id}")


class DocumentNotFound(NotFound):
    def __init__(self, document_id: object) -> None:
        super().__init__(f"Không có tài liệu số {document_id}", f"no document {document_id}")


class ProposalRejected(UserError):
    status = 422


def extract_text(session: Session, text: str, progress: Progress | None = None) -> Extraction:
    """Proposals for a text, matched against this database's catalogue and units."""
    return RuleExtractor(Registers.from_session(session)).extract(text, progress)


def read_file(data: bytes, filename: str, progress: PageProgress | None = None) -> ReadDocument:
    return read_document(data, filename, progress)


def propose(session: Session, *, access: Access, data: bytes | None = None,
            filename: str = "", pasted: str | None = None, unit_code: str | None = None,
            progress: Progress | None = None) -> ExtractDocument:
    """Read an upload (or pasted text) for a unit (by default the reader's own), store it
    and its proposals, all pending review. Needs CAPTURE on that unit."""
    require_booted()
    _require_person_or_job(access)
    unit_id = _unit_id(session, unit_code or access.home_unit_code())
    access.require(Action.CAPTURE, unit_id)
    read = read_pasted(pasted) if pasted is not None else read_document(data or b"", filename)
    extraction = extract_text(session, read.text, progress)
    actor = access.actor
    document = ExtractDocument(
        filename=read.filename, kind=read.kind, sha256=read.sha256, size_bytes=read.size_bytes,
        pages=read.pages, text=read.text, meta=extraction.meta.to_dict(), notes=read.notes,
        uploaded_by=_label(actor), uploaded_by_id=getattr(actor, "id", None), unit_id=unit_id)
    session.add(document)
    session.flush()
    for position, found in enumerate(extraction.proposals):
        session.add(ExtractProposal(
            document_id=document.id, position=position, kind=found.kind,
            sentence=found.sentence, start=found.start, end=found.end,
            mark_start=found.mark_start, mark_end=found.mark_end, fields=found.fields,
            confidence=found.confidence))
    record_event(session, action="extract.read", object_type="extract_document",
                 object_id=document.id, actor=actor,
                 after={"filename": read.filename, "sha256": read.sha256, "kind": read.kind,
                        "code": extraction.meta.code, "proposals": len(extraction.proposals)})
    session.flush()
    return document


def _require_person_or_job(access: Access) -> None:
    if access.actor is None:
        raise Forbidden("Hãy đăng nhập để đọc tài liệu", "sign in to read a document")


def _label(actor: Actor | None) -> str:
    return getattr(actor, "username", None) or str(actor or "system")


# ------------------------------------------------------------------------------ review


def _unit_id(session: Session, code: str) -> int:
    found = session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)
                           .order_by(OrgUnit.valid_to.is_not(None), OrgUnit.valid_from.desc())
                           .limit(1))
    if found is None:
        raise NotFound(f"Không có đơn vị mã '{code}'", f"no unit with code '{code}'")
    return found


def get_document(session: Session, document_id: int, *, access: Access,
                 action: Action = Action.READ) -> ExtractDocument:
    """The document, if `access` may do `action` on its unit (a document read for another
    unit is as unknown as one that does not exist: 404, not 403, names nothing)."""
    document = session.get(ExtractDocument, document_id) if 0 < document_id < 2**31 else None
    if document is None or not access.can(action, document.unit_id):
        raise DocumentNotFound(document_id)
    return document


def proposals_of(session: Session, document_id: int) -> list[ExtractProposal]:
    return list(session.scalars(select(ExtractProposal)
                                .where(ExtractProposal.document_id == document_id)
                                .order_by(ExtractProposal.position)))


def list_documents(session: Session, *, access: Access, limit: int = 50
                   ) -> list[ExtractDocument]:
    """The latest documents the reader may read."""
    latest = session.scalars(select(ExtractDocument).order_by(ExtractDocument.id.desc())
                             .limit(limit * 4))
    return [d for d in latest if access.can(Action.READ, d.unit_id)][:limit]


def reject(session: Session, *, proposal_id: int, access: Access, note: str = ""
           ) -> ExtractProposal:
    require_booted()
    _require_person_or_job(access)
    proposal, document = _pending(session, proposal_id, access)
    _decide(proposal, Decision.REJECTED, None, access, note)
    _audit(session, proposal, document, access, "extract.reject")
    return proposal


def accept(session: Session, *, proposal_id: int, access: Access,
           changes: dict[str, Any] | None = None) -> ExtractProposal:
    """Accept a proposal, with the officer's changes if any, and write it through its
    domain's service (which checks `access` and writes its own audit event)."""
    require_booted()
    _require_person_or_job(access)
    proposal, document = _pending(session, proposal_id, access)
    fields = _merged(proposal, changes or {})
    writer = {"target": _write_target, "value": _write_value, "task": _write_task,
              "rank": _write_rank}[proposal.kind]
    result_type, result_id = writer(session, document, proposal, fields, access)
    edited = fields != proposal.fields
    _decide(proposal, Decision.EDITED if edited else Decision.ACCEPTED, fields, access, "")
    proposal.result_type, proposal.result_id = result_type, result_id
    _audit(session, proposal, document, access, "extract.accept")
    session.flush()
    return proposal


def _pending(session: Session, proposal_id: int, access: Access
             ) -> tuple[ExtractProposal, ExtractDocument]:
    proposal = session.get(ExtractProposal, proposal_id) if 0 < proposal_id < 2**31 else None
    if proposal is None:
        raise ProposalNotFound(proposal_id)
    if proposal.decision != Decision.PENDING:
        raise Conflict(f"Đề xuất số {proposal_id} đã được xử lý ({proposal.decided_by})",
                       f"proposal {proposal_id} was already decided ({proposal.decided_by})")
    return proposal, get_document(session, proposal.document_id, access=access,
                                  action=Action.CAPTURE)


def _merged(proposal: ExtractProposal, changes: dict[str, Any]) -> dict[str, Any]:
    allowed = EDITABLE[proposal.kind]
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ProposalRejected(f"Không sửa được trường {', '.join(unknown)}",
                               f"field(s) {', '.join(unknown)} cannot be edited")
    merged = dict(proposal.fields)
    for name, value in changes.items():
        if value not in (None, ""):
            merged[name] = _typed(name, value)
    return merged


def _typed(name: str, value: Any) -> Any:
    """Form text as the proposal holds it: '76,6' → 76.6, '2025' → 2025, '30/6/2026' → ISO."""
    if name in ("value", "rank", "total") and isinstance(value, str):
        number = parse_number(value).value
        return int(number) if number == number.to_integral_value() else float(number)
    if name == "year" and isinstance(value, str):
        return int(value)
    if name == "due" and isinstance(value, str):
        return parse_date(value).isoformat()
    if name == "partner_codes" and isinstance(value, str):
        return [code.strip() for code in value.split(",") if code.strip()]
    return nfc(value) if isinstance(value, str) else value


def _decide(proposal: ExtractProposal, decision: Decision, fields: dict[str, Any] | None,
            access: Access, note: str) -> None:
    actor = access.actor
    proposal.decision = decision
    proposal.decided_fields = fields
    proposal.decided_by = _label(actor)
    proposal.decided_by_id = getattr(actor, "id", None)
    proposal.decided_at = utcnow()
    proposal.note = note


def _audit(session: Session, proposal: ExtractProposal, document: ExtractDocument,
           access: Access, action: str) -> None:
    record_event(session, action=action, object_type="extract_proposal", object_id=proposal.id,
                 actor=access.actor,
                 before={"proposed": proposal.fields},
                 after={"document_id": document.id, "filename": document.filename,
                        "sha256": document.sha256, "code": document.meta.get("code", ""),
                        "kind": proposal.kind, "decision": proposal.decision,
                        "fields": proposal.decided_fields, "sentence": proposal.sentence,
                        "result_type": proposal.result_type, "result_id": proposal.result_id},
                 note=f"{document.filename}: {proposal.sentence[:200]}")


# ------------------------------------------------------------------------------ writers


def _indicator_code(fields: dict[str, Any]) -> str:
    code = fields.get("indicator_code")
    if not code:
        raise ProposalRejected(
            "Chỉ số này chưa có trong danh mục: hãy chọn một chỉ số của danh mục (hoặc thêm "
            f"chỉ số '{fields.get('subject', '')}' vào danh mục trước)",
            "this indicator is not in the catalogue: choose a catalogue indicator (or add "
            f"'{fields.get('subject', '')}' to the catalogue first)")
    return str(code)


def _write_target(session: Session, document: ExtractDocument, proposal: ExtractProposal,
                  fields: dict[str, Any], access: Access) -> tuple[str, int]:
    code = _indicator_code(fields)
    year = int(fields.get("year") or document.meta.get("year")
               or get_settings().current_date().year)
    plan = _draft_plan(session, document, access)
    comparator = {">": ">=", "<": "<="}.get(str(fields.get("comparator")),
                                            str(fields.get("comparator") or ">="))
    values: dict[str, Any] = {"indicator": code, "year": year, "comparator": comparator,
                              "value": fields["value"],
                              "note": _note(document, proposal, fields)}
    if fields.get("scope_unit_code"):
        values["unit"] = str(fields["scope_unit_code"])
    target = create_target(session, plan.code, values, access=access)
    return "target", target.id


def _note(document: ExtractDocument, proposal: ExtractProposal, fields: dict[str, Any]) -> str:
    strict = " (vượt, không bằng / strictly above)" if fields.get("comparator") == ">" else ""
    return f"{proposal.sentence[:300]}{strict} — {document.filename}"


def _draft_plan(session: Session, document: ExtractDocument, access: Access) -> Plan:
    """The document's plan, made on its first accepted target through `load_plan` (the
    plan file path, with its validation and audit), covering every year it proposes."""
    if document.plan_id is not None:
        plan = session.get(Plan, document.plan_id)
        if plan is not None:
            return plan
    meta = document.meta
    code = meta.get("code") or f"TL-{document.id}"
    existing = session.scalar(select(Plan).where(Plan.code == code))
    if existing is None:
        _load_plan_file(session, document, code, access)
        existing = session.scalar(select(Plan).where(Plan.code == code))
    assert existing is not None
    document.plan_id = existing.id
    return existing


def _load_plan_file(session: Session, document: ExtractDocument, code: str,
                    access: Access) -> None:
    meta = document.meta
    years = [int(p.fields["year"]) for p in proposals_of(session, document.id)
             if p.kind == "target" and p.fields.get("year")] or [
                 int(meta.get("year") or get_settings().current_date().year)]
    plan: dict[str, Any] = {
        "code": code, "document_kind": meta.get("kind") or "KH",
        "title": meta.get("title") or document.filename, "issuer": meta.get("issuer", ""),
        "year_from": min(years), "year_to": max(years),
        "note": f"Bản nháp từ tài liệu '{document.filename}' (sha256 {document.sha256[:12]}) "
                f"/ draft from document '{document.filename}'"}
    if meta.get("date"):
        plan["issued_on"] = dt.date.fromisoformat(meta["date"]).strftime("%d/%m/%Y")
    if meta.get("province_code"):
        plan["scope_unit"] = meta["province_code"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.yaml"
        path.write_text(yaml.safe_dump({"format": "chiso-plan/1", "plan": plan, "targets": []},
                                       allow_unicode=True), "utf-8")
        load_plan(session, path, access=access)


def _write_value(session: Session, document: ExtractDocument, proposal: ExtractProposal,
                 fields: dict[str, Any], access: Access) -> tuple[str, int]:
    indicator = get_indicator(session, _indicator_code(fields))
    unit_code = fields.get("scope_unit_code")
    period = fields.get("period")
    if not unit_code or not period:
        raise ProposalRejected("Cần đơn vị và kỳ báo cáo cho số liệu này",
                               "this figure needs a unit and a period")
    unit = get_unit(session, str(unit_code))
    saved = save_value(session, unit_id=unit.id, indicator_id=indicator.id, period=str(period),
                       value=fields["value"], source="document",
                       comment=f"{document.filename}: {proposal.sentence[:300]}", access=access)
    return "data_value", saved.id


def _write_task(session: Session, document: ExtractDocument, proposal: ExtractProposal,
                fields: dict[str, Any], access: Access) -> tuple[str, int]:
    lead = get_unit(session, str(fields["lead_code"]), _on(fields, document))
    partners = [get_unit(session, str(c), _on(fields, document)).id
                for c in fields.get("partner_codes") or []]
    due = _due(fields, document)
    task = create_task(session, title=str(fields["title"]), lead_unit_id=lead.id, due_date=due,
                       partner_unit_ids=partners, recurrence=str(fields.get("recurrence") or ""),
                       description=f"{proposal.sentence} — {document.filename}",
                       plan_id=document.plan_id, access=access)
    return "task", task.id


def _on(fields: dict[str, Any], document: ExtractDocument) -> dt.date:
    """Units are looked up on the document's date (Sở TT&TT existed until 1/3/2025)."""
    day = document.meta.get("date")
    return dt.date.fromisoformat(day) if day else _due(fields, document)


def _due(fields: dict[str, Any], document: ExtractDocument) -> dt.date:
    if fields.get("due"):
        return dt.date.fromisoformat(str(fields["due"]))
    if fields.get("recurrence") and document.meta.get("date"):
        day = dt.date.fromisoformat(document.meta["date"])  # recurring: its first quarter end
        return Period(day.year, PeriodType.QUARTER, (day.month - 1) // 3 + 1).end()
    raise ProposalRejected("Nhiệm vụ cần hạn hoàn thành (dd/mm/yyyy)",
                           "the task needs a due date (dd/mm/yyyy)")


def _write_rank(session: Session, document: ExtractDocument, proposal: ExtractProposal,
                fields: dict[str, Any], access: Access) -> tuple[str, int | None]:
    """A rank is kept with its document and decision; DTI results themselves are loaded
    from the ministry's published tables by the DTI domain, not from prose."""
    return "", None


def target_of(session: Session, proposal: ExtractProposal) -> Target | None:
    if proposal.result_type != "target" or proposal.result_id is None:
        return None
    return session.get(Target, proposal.result_id)
