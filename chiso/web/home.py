"""The front door: / sends a signed-in user to the overview of their home unit (the
province, or their own unit when they may not read the province)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from chiso.web.deps import AccessDep

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(access: AccessDep) -> RedirectResponse:
    unit = quote(access.home_unit_code(), safe="")
    return RedirectResponse(f"/units/{unit}/overview", status_code=303)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
