"""The Content-Security-Policy forbids inline scripts and styles (no 'unsafe-inline', issue 14
item 6): no template may hold any. Behaviour is declared with attributes and wired by
chiso/web/static/chiso.js, charts by charts.js, styles live in chiso.css (docs/frontend.md).
A JSON data block (type="application/json") is data, not code."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "chiso"
KINDS = ("<script> without src", "<style> block", "style= attribute", "on…= handler")
# A <script> with src, or a JSON data block (never executed), is not inline code.
PATTERNS = (re.compile(r'<script(?![^>]*\b(?:src=|type="application/(?:ld\+)?json"))[^>]*>'),
            re.compile(r"<style\b"),
            re.compile(r"\sstyle=\""), re.compile(r"\son[a-z]+=\""))

# Each: (scripts, style blocks, style attributes, event handlers) a template may hold: none.
REMAINING: dict[str, tuple[int, int, int, int]] = {}


def _inline(path: Path) -> tuple[int, ...]:
    text = path.read_text(encoding="utf-8")
    return tuple(len(pattern.findall(text)) for pattern in PATTERNS)


def test_no_template_adds_inline_script_or_style() -> None:
    grown = []
    for path in sorted(PACKAGE.rglob("templates/**/*.html")):
        name = path.relative_to(PACKAGE).as_posix()
        allowed = REMAINING.get(name, (0, 0, 0, 0))
        for kind, found, limit in zip(KINDS, _inline(path), allowed, strict=True):
            if found > limit:
                grown.append(f"{name}: {found} {kind} (at most {limit}); put it in "
                             "chiso/web/static/ instead")
    assert not grown, "\n".join(grown)


def test_the_pages_every_user_sees_are_inline_free() -> None:
    for name in ("web/templates/base.html", "web/templates/error.html",
                 "web/templates/login.html", "accounts/templates/accounts/forgot.html",
                 "accounts/templates/accounts/reset.html",
                 "accounts/templates/accounts/password.html",
                 "admin/templates/admin/users.html", "admin/templates/admin/tokens.html",
                 "audit/templates/audit/search.html"):
        assert _inline(PACKAGE / name) == (0, 0, 0, 0), name
