"""UI translations from gettext .po catalogs (chiso/web/locale/<lang>.po).

Message ids are English; Vietnamese is the default locale. Catalogs are read with Babel at
start-up, so there is no compile step to forget.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED_LOCALES = ("vi", "en")


@lru_cache
def catalog(locale: str) -> dict[str, str]:
    """msgid → msgstr for every translated message of `locale` (empty for English)."""
    path = LOCALE_DIR / f"{locale}.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def gettext_for(locale: str) -> Callable[..., str]:
    """A `_()` for templates and routes: `_("Overview")`, `_("{n} units", n=3)`."""
    messages = catalog(locale)

    def translate(message: str, **params: object) -> str:
        text = messages.get(message, message)
        return text.format(**params) if params else text

    return translate


def pick(locale: str, vi: str, en: str) -> str:
    """Choose between a record's own Vietnamese and English fields (names from data)."""
    return en if locale == "en" and en else vi
