"""Every JSON route is documented in the OpenAPI schema, and every UI text has Vietnamese.

No database: the app is built without the migration check, and message ids are read from the
source (templates' `_("…")`, Python's `_("…")` and `NavItem("…")`) and looked up in the merged
Vietnamese catalog that the running app uses (`chiso/web/i18n.py`).
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi.routing import APIRoute, iter_route_contexts

from chiso.accounts.access import Action
from chiso.accounts.models import Role
from chiso.web.app import create_app
from chiso.web.i18n import catalog, catalog_files

PACKAGE = Path(__file__).resolve().parent.parent / "chiso"
TEMPLATE_MSGID = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
PYTHON_TRANSLATORS = {"_", "NavItem"}
# Texts translated with a variable, `_(role)`, `_(a.value)`, `_(bottlenecks.caps)`: their values.
DYNAMIC_MSGIDS = {
    **{role.value: "chiso/admin/templates/admin/users.html (Role)" for role in Role},
    **{action.value: "chiso/admin/templates/admin/tokens.html (Action)" for action in Action},
    "best peer": "chiso/dti/templates/dti/profile.html (caps)",
    "maximum": "chiso/dti/templates/dti/profile.html (caps)",
}

# Known gaps, reported to their owners. This list may only shrink: a route documented since is
# flagged so the entry is removed, and any other undocumented /api route fails at once.
UNDOCUMENTED_API_ROUTES_KNOWN: set[tuple[str, str]] = set()
# One English msgid translated differently by two domains: the merged catalog keeps only the
# last (by path), so one domain's screens show the other's word. Also reported; may only shrink.
CONFLICTING_MSGIDS_KNOWN: set[str] = set()


@pytest.fixture(scope="module")
def web_app() -> Any:
    return create_app(check_migrations=False)


def _api_operations(app: Any) -> Iterator[tuple[str, str, APIRoute]]:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path.startswith("/api/"):
            for method in sorted(context.methods - {"HEAD"}):
                yield method, context.path, route


def _openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)  # {code:path} is {code} in the schema


def _is_documented(route: APIRoute) -> bool:
    return bool(route.summary or (route.description or "").strip())


def test_every_api_route_is_in_the_openapi_schema(web_app: Any) -> None:
    paths = web_app.openapi()["paths"]
    operations = list(_api_operations(web_app))
    assert len(operations) > 20
    missing = [f"{method} {path}" for method, path, _ in operations
               if method.lower() not in paths.get(_openapi_path(path), {})]
    assert not missing, f"/api routes missing from the OpenAPI schema: {missing}"


def test_every_api_route_has_a_summary_or_docstring(web_app: Any) -> None:
    undocumented = {(method, path): route for method, path, route in _api_operations(web_app)
                    if not _is_documented(route)}
    new = [f"{m} {p} ({r.endpoint.__module__}.{r.endpoint.__name__})"
           for (m, p), r in undocumented.items() if (m, p) not in UNDOCUMENTED_API_ROUTES_KNOWN]
    assert not new, f"give these /api routes a docstring (it becomes the OpenAPI text): {new}"
    fixed = UNDOCUMENTED_API_ROUTES_KNOWN - set(undocumented)
    assert not fixed, f"documented now, remove from UNDOCUMENTED_API_ROUTES_KNOWN: {fixed}"


def _template_msgids() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.glob("**/templates/**/*.html")):
        for match in TEMPLATE_MSGID.finditer(path.read_text(encoding="utf-8")):
            raw = match.group(1) if match.group(1) is not None else match.group(2)
            yield re.sub(r"\\(.)", r"\1", raw), str(path.relative_to(PACKAGE.parent))


def _python_msgids() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.glob("**/*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in PYTHON_TRANSLATORS and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                yield node.args[0].value, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"


@lru_cache(maxsize=1)
def all_msgids() -> dict[str, set[str]]:
    """msgid → the files (and lines) that use it."""
    found: dict[str, set[str]] = {}
    for msgid, where in [*_template_msgids(), *_python_msgids(), *DYNAMIC_MSGIDS.items()]:
        found.setdefault(msgid, set()).add(where)
    return found


@pytest.mark.slow
def test_the_scan_finds_the_ui_texts() -> None:
    found = all_msgids()
    assert len(found) > 300
    assert any("chiso/web/templates/base.html" in w for w in found.get("Sign out", set()))


def test_every_ui_text_has_a_vietnamese_translation() -> None:
    vietnamese = catalog("vi")
    missing = sorted(f"{sorted(where)[0]}: {msgid!r}" for msgid, where in all_msgids().items()
                     if not vietnamese.get(msgid, "").strip())
    assert not missing, (
        "no Vietnamese in any chiso/*/locale/vi.po for:\n" + "\n".join(missing)
    )


def _catalog_entries() -> Iterator[tuple[Path, Any]]:
    for path in catalog_files("vi"):
        with path.open("rb") as handle:
            for message in read_po(handle, locale="vi"):
                if message.id:
                    yield path, message


def test_vietnamese_catalogs_are_complete_nfc_and_not_fuzzy() -> None:
    problems = []
    for path, message in _catalog_entries():
        text = str(message.string)
        where = f"{path.relative_to(PACKAGE.parent)}: {message.id!r}"
        if not text.strip():
            problems.append(f"{where} has no translation")
        elif unicodedata.normalize("NFC", text) != text:
            problems.append(f"{where} is not NFC")
        if message.fuzzy:
            problems.append(f"{where} is fuzzy (ignored by chiso)")
    assert not problems, "\n".join(problems)


def test_one_english_text_has_one_vietnamese_text() -> None:
    translations: dict[str, set[str]] = {}
    for _, message in _catalog_entries():
        translations.setdefault(str(message.id), set()).add(str(message.string))
    conflicting = {msgid for msgid, texts in translations.items() if len(texts) > 1}
    new = {m: sorted(translations[m]) for m in conflicting - CONFLICTING_MSGIDS_KNOWN}
    assert not new, f"translated differently by two domains (the merge keeps one): {new}"
    settled = CONFLICTING_MSGIDS_KNOWN - conflicting
    assert not settled, f"agreed now, remove from CONFLICTING_MSGIDS_KNOWN: {settled}"
