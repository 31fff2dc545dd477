"""Pages and JSON for extraction: upload or paste (/extract), review a document's proposals
and accept, edit or reject each (/extract/{id}). Thin: every change is one service call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import select

from chiso.accounts.access import Action
from chiso.errors import ERROR_RESPONSES
from chiso.extract import service
from chiso.extract.models import ExtractProposal
from chiso.indicators.models import Indicator
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.templating import render

router = APIRouter(tags=["extract"], responses=ERROR_RESPONSES)
NAV = [NavItem("Read a document", "/extract", Action.CAPTURE, order=48)]


@router.get("/extract", response_class=HTMLResponse, include_in_schema=False)
def extract_page(request: Request, session: SessionDep, access: AccessDep) -> HTMLResponse:
    return render(request, "extract/index.html",
                  {"access": access, "documents": service.list_documents(session, access=access)})


@router.post("/extract", include_in_schema=False)
def extract_upload(session: SessionDep, access: AccessDep,
                   file: UploadFile | None = File(None),
                   pasted: str = Form("")) -> RedirectResponse:
    if file is not None and file.filename:
        document = service.propose(session, access=access, data=file.file.read(),
                                   filename=file.filename)
    else:
        document = service.propose(session, access=access, pasted=pasted)
    session.commit()
    return RedirectResponse(f"/extract/{document.id}", status_code=303)


@router.get("/extract/{document_id}", response_class=HTMLResponse, include_in_schema=False)
def review_page(request: Request, session: SessionDep, access: AccessDep,
                document_id: int) -> HTMLResponse:
    document = service.get_document(session, document_id, access=access)
    proposals = service.proposals_of(session, document_id)
    indicators = list(session.scalars(select(Indicator).where(Indicator.active)
                                      .order_by(Indicator.code)))
    shown = {p.id: {name: _shown(p.fields.get(name)) for name in service.EDITABLE[p.kind]}
             for p in proposals}
    return render(request, "extract/review.html", {
        "access": access, "document": document, "proposals": proposals, "shown": shown,
        "issued": dt.date.fromisoformat(document.meta["date"]) if document.meta.get("date")
        else None,
        "indicators": indicators, "counts": _counts(proposals)})


def _counts(proposals: list[ExtractProposal]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for proposal in proposals:
        counts[proposal.decision] = counts.get(proposal.decision, 0) + 1
    return counts


@router.post("/extract/{document_id}/proposals/{proposal_id}", include_in_schema=False)
async def decide(request: Request, session: SessionDep, access: AccessDep, document_id: int,
                 proposal_id: int) -> RedirectResponse:
    form = await request.form()
    proposal = _of_document(session, document_id, proposal_id)
    if form.get("action") == "reject":
        service.reject(session, proposal_id=proposal.id, access=access,
                       note=str(form.get("note", "")))
    else:
        changes = {name: str(form[name]) for name in service.EDITABLE[proposal.kind]
                   if name in form}
        service.accept(session, proposal_id=proposal.id, access=access,
                       changes=_changed(proposal, changes))
    session.commit()
    return RedirectResponse(f"/extract/{document_id}#p{proposal_id}", status_code=303)


def _of_document(session: SessionDep, document_id: int, proposal_id: int) -> ExtractProposal:
    proposal = session.get(ExtractProposal, proposal_id) if 0 < proposal_id < 2**31 else None
    if proposal is None or proposal.document_id != document_id:
        raise service.ProposalNotFound(proposal_id)
    return proposal


def _changed(proposal: ExtractProposal, form: dict[str, str]) -> dict[str, Any]:
    """Only what the officer changed: the form repeats every proposed field as text."""
    shown = {name: _shown(proposal.fields.get(name)) for name in form}
    return {name: value for name, value in form.items() if value.strip() != shown[name]}


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return "" if value is None else str(value)


@router.get("/api/extract/{document_id}")
def document_json(session: SessionDep, access: AccessDep, document_id: int) -> JSONResponse:
    """A document read by chiso extract: its metadata and every proposal with its decision
    (only for readers of the document's unit)."""
    document = service.get_document(session, document_id, access=access)
    return JSONResponse({
        "id": document.id, "filename": document.filename, "kind": document.kind,
        "sha256": document.sha256, "metadata": document.meta, "notes": document.notes,
        "proposals": [{"id": p.id, "kind": p.kind, "sentence": p.sentence,
                       "mark": [p.mark_start, p.mark_end], "fields": p.fields,
                       "confidence": p.confidence, "decision": p.decision,
                       "decided_fields": p.decided_fields, "decided_by": p.decided_by,
                       "result_type": p.result_type, "result_id": p.result_id}
                      for p in service.proposals_of(session, document_id)]})
