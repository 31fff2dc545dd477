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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from chiso.db import new_session
from chiso.tasks.models import Task
from tests.accounts_support import make_units
from tests.conftest import browser_login, login
from tests.frontend_support import DemoSite, start_demo_site
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
