"""Jinja2 set-up: templates from chiso/web/templates and every domain's templates folder,
Vietnamese formatting filters, and a `render()` that passes the request's locale and user."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from chiso.audit.labels import actor_label
from chiso.periods.spelling import period_label
from chiso.text import format_date, format_moment, format_number, format_percent
from chiso.web.assets import static_url
from chiso.web.i18n import gettext_for, one_language, pick

PACKAGE_DIR = Path(__file__).parent.parent


def _template_dirs() -> list[str]:
    """chiso/web/templates first, then chiso/<domain>/templates for each domain."""
    dirs = [PACKAGE_DIR / "web" / "templates"]
    dirs += sorted(p for p in PACKAGE_DIR.glob("*/templates") if p.parent.name != "web")
    return [str(d) for d in dirs]


environment = Environment(
    loader=FileSystemLoader(_template_dirs()),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates ship inside the package: no need to stat their files on every request.
    auto_reload=False,
)


def _page_globals(request: Request) -> dict[str, Any]:
    """What every template may use: the request's language and its formatting helpers."""
    locale = getattr(request.state, "locale", "vi")
    return {
        "request": request,
        "locale": locale,
        "_": gettext_for(locale),
        "pick": lambda vi, en: pick(locale, vi, en),
        "num": lambda v, d=1: format_number(v, d, locale),
        "pct": lambda v, d=1: format_percent(v, d, locale),
        "date": lambda d: format_date(d, locale),
        "static": static_url,  # '/static/x.css?v=<hash>': cached for a year, safely
        "period_label": period_label,
        "one_language": lambda text: one_language(str(text), locale),
        "moment": lambda at: format_moment(at, locale),  # Vietnam time, to the minute
        # Who changed something: a user name, or an internal job named ('system:demo').
        "actor_name": lambda label: actor_label(str(label), locale),
    }


_COMMITTEE_SHORT: dict[tuple[str, dt.date, str], tuple[float, str]] = {}
COMMITTEE_NAME_SECONDS = 60.0


def committee_short(locale: str) -> str:
    """The line under the brand: the committee's short name in force today, as configured
    (data, `chiso.units.committee`: 'BCĐ chuyển đổi số' until 2025, 'BCĐ phát triển KHCN,
    ĐMST và CĐS' since), read at most once a minute per process; '' when none is configured
    (the template then says what chiso is)."""
    import time

    from sqlalchemy.exc import SQLAlchemyError

    from chiso.db import new_session
    from chiso.settings import get_settings
    from chiso.units.committee import NoCommitteeName, committee_names

    settings = get_settings()
    key = (settings.sqlalchemy_url, settings.current_date(), locale)
    cached = _COMMITTEE_SHORT.get(key)
    if cached and time.monotonic() - cached[0] < COMMITTEE_NAME_SECONDS:
        return cached[1]
    session = new_session()
    try:
        names = committee_names(session, key[1])
        text = names.short_en if locale == "en" and names.short_en else names.short_vi
    except (NoCommitteeName, SQLAlchemyError):
        # No names configured, or a page drawn before the database is ready (the error
        # page of a failed start-up): the brand line then says what chiso is.
        text = ""
    finally:
        session.close()
    _COMMITTEE_SHORT[key] = (time.monotonic(), text)
    return text


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    from chiso.web.nav import nav_items

    context = dict(context or {})
    context.setdefault("nav_items", nav_items(request, context.get("access")))
    # body class "page-<domain>": the one stylesheet scopes a domain's page rules with it.
    context.setdefault("page_domain", template.split("/")[0].removesuffix(".html"))
    page = environment.get_template(template).render(
        **_page_globals(request),
        user=getattr(request.state, "user", None),
        csrf_token=getattr(request.state, "csrf_token", ""),
        committee_short=lambda: committee_short(getattr(request.state, "locale", "vi")),
        **context,
    )
    return HTMLResponse(page, status_code=status_code)


def render_fragment(request: Request, template: str, context: dict[str, Any]) -> Markup:
    """A part of a page that does not depend on who is asking (no user, no CSRF token, no
    navigation), for a caller that memoises it and places it in a page with `render`."""
    return Markup(environment.get_template(template).render(**_page_globals(request),
                                                             **context))
