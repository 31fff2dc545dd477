"""The user guide (docs/guide/*.md) names only pages, commands and screenshots that exist.

A path in backticks or in a link that starts with `/` must be a page of the app (a GET route,
`{param}` segments matching any value; `{id}` or `<mã>` in the guide stands for one); a
`chiso …` command, in backticks or at the start of a line in a code block, must parse as that
command's arguments (tests/test_docs_cli.py's resolver); an image or a link to another file
must point to a file that is there; and the text is NFC. So a renamed page or command fails
here until the guide says the new name.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from tests.test_docs_cli import _parses, _resolve
from tests.test_docs_routes import web_app  # noqa: F401 (the app, as a fixture)

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide"
PAGES = sorted(GUIDE.glob("*.md"))
CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"(!?)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
ENV_PREFIX = re.compile(r"^(?:\$\s+)?(?:[A-Z_][A-Z0-9_]*=\S+\s+)*")
PLACEHOLDER = re.compile(r"\{[^}/]*\}|<[^>/]*>")


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _page_paths(text: str) -> Iterator[str]:
    """Paths the guide tells a person to open: `/tasks`, [..](/units/20/overview?year=2025)."""
    for span in CODE_SPAN.findall(text):
        if span.startswith("/") and " " not in span:
            yield span
    for _, target in LINK.findall(text):
        if target.startswith("/"):
            yield target


def _commands(text: str) -> Iterator[str]:
    for span in CODE_SPAN.findall(text):
        if span.startswith("chiso ") or span == "chiso":
            yield span
    for block in FENCE.findall(text):
        for line in block.splitlines():
            line = ENV_PREFIX.sub("", line.strip())
            if line.startswith("chiso ") or line == "chiso":
                yield line.split(" #")[0].strip()


def _route_regex(path: str) -> re.Pattern[str]:
    """`/collection/{code}/{period}` → one segment per `{…}`; `{name:path}` takes several."""
    parts = re.split(r"(\{\w+(?::\w+)?\})", path)
    return re.compile("".join(
        (".+" if part.endswith(":path}") else "[^/]+") if part.startswith("{")
        else re.escape(part) for part in parts) + "/?")


@pytest.fixture(scope="module")
def page_patterns(web_app: Any) -> list[re.Pattern[str]]:  # noqa: F811
    """Every page of the app (a GET route), built as tests/test_docs_routes.py builds it."""
    return [_route_regex(context.path) for context in iter_route_contexts(web_app.routes)
            if isinstance(context.original_route, APIRoute) and "GET" in context.methods]


def test_the_guide_has_a_page_per_role_and_an_index() -> None:
    names = {page.name for page in PAGES}
    assert {"README.md", "van-phong-thuong-truc.md", "can-bo-dau-moi.md", "lanh-dao.md",
            "quan-tri.md"} <= names, names
    index = _text(GUIDE / "README.md")
    for page in names - {"README.md"}:
        assert f"]({page})" in index, f"docs/guide/README.md does not link to {page}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_guide_text_is_nfc(page: Path) -> None:
    text = _text(page)
    bad = [line for line in text.splitlines() if unicodedata.normalize("NFC", line) != line]
    assert not bad, f"{page.name}: not NFC (re-save as NFC): {bad[:3]}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_the_guide_names_exists(page: Path, page_patterns: Any) -> None:
    paths = list(_page_paths(_text(page)))
    assert paths, f"{page.name} names no page"
    missing = []
    for path in paths:
        bare = PLACEHOLDER.sub("x", path.split("?")[0].split("#")[0])
        if not any(pattern.fullmatch(bare) for pattern in page_patterns):
            missing.append(path)
    assert not missing, f"{page.name} names pages the app does not have: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_the_guide_names_exists(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # example input files are created (empty) here
    problems = []
    for command in _commands(_text(page)):
        path, found, rest = _resolve(shlex.split(command))
        if hasattr(found, "commands"):  # a group: the words left must not be a command
            if rest and not rest[0].startswith("-"):
                problems.append(f"`{command}`: no command `{rest[0]}` in `{' '.join(path)}`")
            continue
        error = _parses(found, path[-1], rest)
        if error:
            problems.append(f"`{command}`: {error}")
    assert not problems, f"{page.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_image_and_file_link_points_to_a_file(page: Path) -> None:
    missing = []
    for bang, target in LINK.findall(_text(page)):
        if target.startswith(("/", "http://", "https://", "#", "mailto:")):
            continue
        if not (page.parent / target.split("#")[0]).is_file():
            missing.append(target)
        elif bang and not target.endswith(".png"):
            missing.append(f"{target} (a screenshot is a .png from docs/screens)")
    assert not missing, f"{page.name} links to files that are not there: {missing}"


def test_the_scan_finds_pages_commands_and_screenshots() -> None:
    """Guard against a scanner that silently finds nothing."""
    text = "\n".join(_text(page) for page in PAGES)
    assert len(set(_page_paths(text))) > 30
    assert len(set(_commands(text))) > 15
    assert len([t for bang, t in LINK.findall(text) if bang]) >= 10
