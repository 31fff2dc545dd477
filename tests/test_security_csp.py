"""The Content-Security-Policy still allows inline scripts and styles (the front-end clean-up
comes later, issue 12); until then no template may ADD any. This ratchet lists what remains,
template by template: lower a count when you move code to chiso/web/static/, never raise
one, and a template not listed here may hold none."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "chiso"
KINDS = ("<script> without src", "<style> block", "style= attribute", "on…= handler")
# A <script> with src, or a JSON data block (never executed), is not inline code.
PATTERNS = (re.compile(r'<script(?![^>]*\b(?:src=|type="application/(?:ld\+)?json"))[^>]*>'),
            re.compile(r"<style\b"),
            re.compile(r"\sstyle=\""), re.compile(r"\son[a-z]+=\""))

# As counted on 2026-12-05 (issue 12's Low "the CSP allows inline scripts"); see
# docs/security.md. Each: (scripts, style blocks, style attributes, event handlers).
REMAINING: dict[str, tuple[int, int, int, int]] = {
    "dashboard/templates/dashboard/indicator.html": (0, 0, 1, 0),
    "dashboard/templates/dashboard/overview_content.html": (0, 0, 2, 1),
    "extract/templates/extract/_style.html": (0, 1, 0, 0),
    "funding/templates/funding/_parts.html": (0, 0, 0, 1),
    "funding/templates/funding/_style.html": (0, 1, 0, 0),
    "funding/templates/funding/approvals.html": (0, 0, 3, 0),
    "funding/templates/funding/import.html": (0, 1, 0, 0),
    "funding/templates/funding/unit.html": (0, 0, 1, 0),
    "indicators/templates/indicators/catalog.html": (1, 1, 7, 0),
    "meetings/templates/meetings/_style.html": (0, 1, 0, 0),
    "meetings/templates/meetings/list.html": (0, 0, 1, 0),
    "meetings/templates/meetings/meeting.html": (0, 0, 5, 0),
    "plans/templates/plans/list.html": (0, 0, 1, 0),
    "plans/templates/plans/plan.html": (1, 1, 9, 0),
    "reports/templates/reports/_job_status.html": (0, 0, 3, 0),
    "reports/templates/reports/_style.html": (0, 1, 0, 0),
    "reports/templates/reports/index.html": (0, 0, 4, 0),
    "scoring/templates/scoring/_style.html": (0, 1, 0, 0),
    "tasks/templates/tasks/_style.html": (0, 1, 0, 0),
    "tasks/templates/tasks/board.html": (0, 0, 3, 0),
    "tasks/templates/tasks/import.html": (0, 0, 1, 0),
    # new on 2026-12-05 (the monthly report): to move to the tasks stylesheet
    "tasks/templates/tasks/monthly.html": (0, 0, 1, 0),
    "tasks/templates/tasks/new.html": (0, 0, 1, 0),
    "tasks/templates/tasks/task.html": (0, 0, 5, 0),
    "units/templates/units/unit.html": (0, 1, 0, 0),
    "values/templates/values/import.html": (0, 1, 0, 0),
}


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
