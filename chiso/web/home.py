"""The front door: / sends a signed-in user to what they should look at first — the
reporting page when they owe a report (the commune officer whose report is late lands on
it, not on an overview of zeros); the finance department's officer, whose work is the
province's budget, on the province's funding page (its own unit has no targets: its
overview was empty); otherwise the overview of their home unit (the province, or their own
unit when they may not read the province). Also /docs, the API's reference,
drawn by the Swagger UI shipped in the package (no CDN, works offline)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from chiso.collection.worklist import worklist
from chiso.funding.service import is_finance_officer
from chiso.settings import get_settings
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(session: SessionDep, access: AccessDep) -> RedirectResponse:
    if worklist(session, access, get_settings().current_date()).to_send:
        return RedirectResponse("/collection", status_code=303)
    home_unit = access.home_unit_code()
    province = get_settings().default_unit
    if home_unit != province and is_finance_officer(access):
        return RedirectResponse(f"/funding/units/{quote(province, safe='')}", status_code=303)
    unit = quote(home_unit, safe="")
    return RedirectResponse(f"/units/{unit}/overview", status_code=303)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    return render(request, "apidocs.html", {"openapi_url": request.app.openapi_url})


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
