"""The front door: / sends a signed-in user to the overview of their default unit."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from chiso.settings import get_settings
from chiso.web.deps import UserDep

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(user: UserDep) -> RedirectResponse:
    return RedirectResponse(f"/units/{get_settings().default_unit}/overview", status_code=303)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
