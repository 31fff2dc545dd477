"""The main navigation. A domain with pages adds one entry; entries a user may not use
are hidden (the routes still check permissions themselves)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from chiso.accounts.access import Access, Action
from chiso.settings import get_settings
from chiso.web.i18n import gettext_for


@dataclass(frozen=True)
class NavItem:
    label_en: str  # translated through the catalogs
    path: str  # may contain {unit}: the code of the user's home unit
    action: Action = Action.READ
    order: int = 50


NAV_ITEMS: list[NavItem] = []


def nav_items(request: Request, access: Access | None) -> list[dict[str, object]]:
    """The entries this user may see, labelled in the request's locale."""
    _ = gettext_for(getattr(request.state, "locale", "vi"))
    unit = access.home_unit_code() if access is not None else get_settings().default_unit
    items = []
    for item in sorted(NAV_ITEMS, key=lambda i: i.order):
        if access is not None and not access.can(item.action):
            continue
        href = item.path.format(unit=unit)
        items.append({"label": _(item.label_en), "href": href, "active": False})
    _mark_active(items, request.url.path)
    return items


def _mark_active(items: list[dict[str, object]], path: str) -> None:
    """The entry whose link is the longest prefix of the current path is the active one."""
    matches = [i for i in items if path.startswith(str(i["href"]).split("?")[0])]
    if matches:
        max(matches, key=lambda i: len(str(i["href"])))["active"] = True
