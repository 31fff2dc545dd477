"""The main navigation. Each domain with pages declares its entries in its routes module
(`NAV = [NavItem(...)]`); the web boot step (`chiso.boot.boot_web`) collects them through
`chiso.web.routers` into `MENU`. Nothing is added by importing a module. Entries a user
may not use are hidden (the routes still check permissions themselves)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
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


class NavRegistry:
    """The menu's entries, filled once by the boot step (filling again replaces them)."""

    def __init__(self) -> None:
        self._items: tuple[NavItem, ...] = ()
        self._lock = threading.Lock()

    def fill(self, items: Iterable[NavItem]) -> None:
        ordered = sorted(dict.fromkeys(items), key=lambda item: (item.order, item.label_en))
        with self._lock:
            self._items = tuple(ordered)

    def items(self) -> tuple[NavItem, ...]:
        return self._items


MENU = NavRegistry()

# Deprecated: entries appended here at import time are still shown (the boot step merges
# them) so that a domain not yet converted keeps its menu entry, but declare `NAV = [...]`
# in the routes module instead; tests/test_web_nav.py fails while anything appends here.
NAV_ITEMS: list[NavItem] = []


def nav_items(request: Request, access: Access | None) -> list[dict[str, object]]:
    """The entries this user may see, labelled in the request's locale: those whose action
    they may do on some unit (a focal officer captures for their own unit only)."""
    _ = gettext_for(getattr(request.state, "locale", "vi"))
    unit = access.home_unit_code() if access is not None else get_settings().default_unit
    items = []
    for item in MENU.items():
        if access is not None and not access.can_somewhere(item.action):
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
