"""UI translations from gettext .po catalogs: chiso/web/locale/<lang>.po and each domain's
chiso/<domain>/locale/<lang>.po, merged (so domains never edit one shared file).

Message ids are English; Vietnamese is the default locale. Catalogs are read with Babel at
start-up, so there is no compile step to forget.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

PACKAGE_DIR = Path(__file__).parent.parent
SUPPORTED_LOCALES = ("vi", "en")


@lru_cache
def catalog(locale: str) -> dict[str, str]:
    """msgid → msgstr for every translated message of `locale` (empty for English)."""
    messages: dict[str, str] = {}
    for path in catalog_files(locale):
        with path.open("rb") as handle:
            po = read_po(handle, locale=locale)
        messages.update(
            {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}
        )
    return messages


def catalog_files(locale: str) -> list[Path]:
    return sorted(PACKAGE_DIR.glob(f"*/locale/{locale}.po"))


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


def one_language(text: str, locale: str) -> str:
    """The reader's half of a text kept in both languages as "vi / en" (a report job's step
    or warning, a history note): "Xong / done" reads "Xong" in Vietnamese, "done" in
    English. A text in one language comes back as it is."""
    vi, separator, en = text.partition(" / ")
    if not separator:
        return text
    return en if locale == "en" else vi
