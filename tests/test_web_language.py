"""Vietnamese first, names not codes (issue 14 item 5 and its done-when): a crawl signs in as
each role on the demo province (standing office, leader, commune and department focal
officers, administrator) and reads every page it is shown a link to, in Vietnamese; it fails
on a raw code of the catalogue (indicators, units, data sets, plans, rules, frameworks, period
ids, role and status codes) outside the places where a code is shown beside its name, and on
an English word of chiso's interface. Days are typed dd/mm/yyyy in every browser.

The reading rules are in tests/language_support.py and docs/guide/README.md ("Mã và tên").
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chiso.db import new_session
from chiso.indicators.models import Indicator
from chiso.plans.models import Target
from chiso.tasks.models import Task
from chiso.units.models import OrgUnit
from tests.accounts_support import make_units
from tests.conftest import browser_login, login
from tests.frontend_support import TODAY, DemoSite, start_demo_site
from tests.language_support import Catalogue, code_catalogue, crawl, problems_on

PACKAGE = Path(__file__).resolve().parent.parent / "chiso"
ROLES = {"standing office": "vanphong", "leader": "lanhdao", "commune officer": "xa.daumoi",
         "department officer": "so.khcn", "administrator": "admin"}


# ------------------------------------------------------------------ the reading rules


def _page(body: str) -> str:
    return f"<html><body><main>{body}</main></body></html>"


CATALOGUE = Catalogue({"CQS.HS_TRUC_TUYEN": frozenset({"Tỷ lệ hồ sơ trực tuyến"}),
                       "05977": frozenset({"Phường Đông Kinh"})})


def _found(body: str) -> list[tuple[str, list[str]]]:
    return [(p.kind, p.words) for p in problems_on("/", _page(body), CATALOGUE)]


def test_the_reading_rules_catch_codes_and_english_and_allow_a_code_beside_its_name() -> None:
    assert _found("<h1>CQS.HS_TRUC_TUYEN</h1>") == [("code", ["CQS.HS_TRUC_TUYEN"])]
    assert _found("<p>Báo cáo quý 2026Q3</p>") == [("code", ["2026Q3"])]
    assert _found("<td>Kỳ 202609</td>") == [("code", ["202609"])]
    assert _found("<span title='on_track'>Đúng tiến độ</span>") == [("code", ["on_track"])]
    assert _found("<p>Trạng thái: starting</p>") == [("english", ["starting"])]
    assert _found("<p>Số liệu minh họa / Illustrative figures</p>") == [
        ("english", ["Illustrative", "figures"])]
    # A code in a code element is allowed only with words beside it.
    assert _found('<p>Tỷ lệ hồ sơ trực tuyến <span class="code">CQS.HS_TRUC_TUYEN</span></p>'
                  ) == []
    assert _found('<p><span class="code">CQS.HS_TRUC_TUYEN</span></p>') == [
        ("lonely code", ["CQS.HS_TRUC_TUYEN"])]
    # In running text, in brackets right after its own name; literal text is left alone.
    assert _found("<p>Không có quyền xem Phường Đông Kinh (05977)</p>") == []
    assert _found("<p>Không có quyền xem đơn vị (05977)</p>") == [("code", ["05977"])]
    assert _found("<p>Cột <code>indicator_code</code> của tệp</p>") == []
    # Numbers and documents are not codes: 2.026 figures, Kế hoạch 72-KH/BCĐ, Quý III/2026.
    assert _found("<p>2.026 số liệu, Kế hoạch 72-KH/BCĐ, Quý III/2026, năm 2026</p>") == []


# ------------------------------------------------------------------ the command line

VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]",
                        re.IGNORECASE)
# Options Typer adds itself, in Click's words.
CLICK_OWN = {"install_completion", "show_completion"}


def _commands() -> list[Any]:
    from tests.test_docs_cli import COMMANDS

    return COMMANDS


def _english(text: str) -> bool:
    """Mostly words without Vietnamese marks (an English sentence may cite 'báo cáo năm')."""
    words = text.split()
    return (any(re.fullmatch(r"[A-Za-z][a-z-]{2,}[.,;:)]?", w) for w in words)
            and sum(bool(VIETNAMESE.search(w)) for w in words) <= len(words) // 2)


def test_every_command_helps_in_vietnamese_then_english() -> None:
    """Each command's help opens with a Vietnamese line (what `chiso --help` lists), then
    English, and keeps its `Example:`; each option says what it is in both languages."""
    problems = []
    for command in _commands():
        text = (command.command.help or "").strip()
        first, *rest = text.split("\n\n")
        if not VIETNAMESE.search(first) or "\n" in first:
            problems.append(f"{command.name}: the first line is not one Vietnamese line: {first!r}")
        if not any(_english(part) for part in [first.partition(" / ")[2], *rest]
                   if not part.startswith("Example:")):
            problems.append(f"{command.name}: no English after the Vietnamese")
        if "Example: chiso" not in text:
            problems.append(f"{command.name}: no Example")
        for param in command.command.params:
            words = getattr(param, "help", None)
            if words and param.name not in CLICK_OWN:
                vi, separator, en = words.partition(" / ")
                if not (VIETNAMESE.search(vi) and separator and en):
                    problems.append(f"{command.name} {param.name}: not 'Vietnamese / English': "
                                    f"{words!r}")
    assert not problems, "\n".join(problems)


def _chiso(site: DemoSite, *args: str, columns: int = 80) -> str:
    """A `chiso` command run on the demo province in a terminal `columns` wide."""
    env = {**os.environ, "CHISO_DATABASE_URL": f"sqlite:///{site.data_dir / 'chiso.sqlite'}",
           "CHISO_DATA_DIR": str(site.data_dir), "CHISO_TODAY": TODAY,
           "COLUMNS": str(columns)}
    done = subprocess.run([str(Path(sys.executable).parent / "chiso"), *args], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_tables_stay_readable_in_80_columns(demo_site) -> None:  # type: ignore[no-untyped-def]
    """At 80 columns a name is not wrapped over five to eleven lines: each indicator's and
    each unit's name is on one line (a row is a block: the name, then its figures)."""
    session = new_session(f"sqlite:///{demo_site.data_dir / 'chiso.sqlite'}")
    try:
        indicators = set(session.scalars(
            select(Indicator.name_vi).join(Target, Target.indicator_id == Indicator.id)
            .join(OrgUnit, OrgUnit.id == Target.unit_id)
            .where(OrgUnit.code == "20", Target.year == 2026)))
        # The communes `units list --parent 20` lists (the register holds every province's).
        province = session.scalars(select(OrgUnit.id).where(OrgUnit.code == "20")).first()
        communes = set(session.scalars(select(OrgUnit.name).where(
            OrgUnit.kind == "xa", OrgUnit.valid_to.is_(None), OrgUnit.parent_id == province)))
    finally:
        session.close()
    status = _chiso(demo_site, "status", "--unit", "20", "--year", "2026").splitlines()
    units = _chiso(demo_site, "units", "list", "--parent", "20").splitlines()
    for names, lines in ((indicators, status), (communes, units)):
        assert len(names) > 10
        broken = [n for n in names if len(n) < 76 and not any(n in line for line in lines)]
        assert not broken, "\n".join(lines[:60])
    assert max(len(line) for line in status + units) <= 80
    wide = _chiso(demo_site, "status", "--unit", "20", "--year", "2026", columns=160)
    assert "┃" in wide  # a table still where it fits


# ------------------------------------------------------------------ days


def test_no_page_asks_for_a_day_in_the_browsers_format() -> None:
    """<input type="date"> shows mm/dd/yyyy in an English browser: every day is typed as
    dd/mm/yyyy through the `day_input` macro of chiso/web/templates/_macros.html."""
    found = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("templates/**/*.html")
             if 'type="date"' in p.read_text(encoding="utf-8")
             and p.name != "_macros.html"]
    assert found == []


@pytest.mark.browser
def test_a_day_typed_dd_mm_yyyy_in_an_english_browser_is_that_day(
        browser, live_server, make_user, session, db_url) -> None:  # type: ignore[no-untyped-def]
    units = make_units(session)
    user, password = make_user("standing_office", units.province.id)
    context = browser.new_context(locale="en-US", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        browser_login(page, live_server, user.username, password)
        page.goto(f"{live_server}/tasks/new")
        due = page.locator("input[name=due_date]")
        assert due.get_attribute("placeholder") == "dd/mm/yyyy"
        page.fill("input[name=title]", "Ban hành kế hoạch chuyển đổi số năm 2027")
        due.fill("05/06/2026")  # 5 June, as the province writes it
        page.fill("input[name=assigned_doc_date]", "2026-04-01")  # ISO is read too
        with page.expect_navigation():
            page.click("main button[type=submit]")
        shown = page.locator("main").inner_text()
    finally:
        context.close()
    session.expire_all()
    task = session.scalars(select(Task)).one()
    assert task.due_date == dt.date(2026, 6, 5) and task.assigned_doc_date == dt.date(2026, 4, 1)
    assert "05/06/2026" in shown or "2026-06-05" in shown


# ------------------------------------------------------------------ the crawl


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    yield from start_demo_site(tmp_path_factory.mktemp("language-demo"))


@pytest.fixture(scope="module")
def catalogue(demo_site: DemoSite) -> Catalogue:
    session = new_session(f"sqlite:///{demo_site.data_dir / 'chiso.sqlite'}")
    try:
        return code_catalogue(session)
    finally:
        session.close()


@pytest.fixture(scope="module")
def routes() -> Any:
    from chiso.web.app import create_app

    return create_app(check_migrations=False)


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_every_page_shows_names_in_vietnamese(demo_site, catalogue, routes, role) -> None:  # type: ignore[no-untyped-def]
    username = ROLES[role]
    with httpx.Client(base_url=demo_site.base_url, timeout=60) as client:
        client.get("/", params={"lang": "vi"})
        login(client, username, demo_site.passwords[username])
        found = crawl(client, routes, role, catalogue, base=demo_site.base_url)
    assert len(found.visited) > 20, found.report()
    assert not found.problems and not found.failures, found.report()
