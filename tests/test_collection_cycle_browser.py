"""Browser: the whole reporting cycle, on a phone and on a desktop (issue 14, first "Done
when"). A department officer and a commune officer each open their own late report from
the page chiso lands them on, type figures, lose the connection half-way and recover (the
department's draft is held on the device and sent by itself when the connection returns;
the commune's tab is closed while offline and the figures are put back when the form is
opened again), and submit. The standing office opens each report from its worklist, sees
it beside the previous quarter and the same quarter last year with the validation results,
returns the department's with a reason after confirming and approves the commune's. Each
officer signs in again and sees the outcome: the bell counts the notice, the notice names
the reason, the returned form is open for correction and the approved one is locked.

The page never scrolls sideways at any step. Screenshots: /tmp/cycle-<viewport>-<step>.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from collection_support import CURRENT_QUARTER, add_department, build_province
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.collection import capture, service
from chiso.collection.models import DataSet, Submission
from chiso.periods import Period, parse_period
from chiso.units.models import OrgUnit
from chiso.values.models import DataValue
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPORTED = parse_period(CURRENT_QUARTER).previous()  # ended, so owed (and late) now
PREVIOUS = REPORTED.previous()
LAST_YEAR = Period(REPORTED.year - 1, REPORTED.type, REPORTED.index)
REASON = "Tổng số hồ sơ ở chỉ tiêu toàn trình khác chỉ tiêu trực tuyến, đề nghị rà soát"


@pytest.fixture(params=[pytest.param((390, 844), id="phone"),
                        pytest.param((1366, 768), id="desktop")])
def viewport(request: pytest.FixtureRequest) -> tuple[int, int]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def people(browser: Any, live_server: str, viewport: tuple[int, int]
           ) -> Iterator[Any]:
    """sign_in(user, password) → a page of a fresh browser (each person their own device)
    at the viewport, signed in through the login form."""
    contexts: list[Any] = []
    phone = viewport[0] < 600

    def sign_in(user: Any, password: str) -> Any:
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                      locale="vi-VN", is_mobile=phone, has_touch=phone)
        contexts.append(context)
        page = context.new_page()
        browser_login(page, live_server, user.username, password)
        return page

    yield sign_in
    for context in contexts:
        context.close()


def test_the_whole_cycle_on_a_phone_and_a_desktop(session, live_server, people, viewport,
                                                  make_user) -> None:
    province = build_province(session)
    department = add_department(session, province)
    w = province.world
    ratio, full, on_time, count = (w.ratio.id, province.full_online.id, province.on_time.id,
                                   w.count.id)
    _seed_earlier_quarters(session, province.data_set, w.commune_a, {
        LAST_YEAR: {ratio: ("600", "1000"), full: ("300", "1000"), on_time: ("900", "1000"),
                    count: "10"},
        PREVIOUS: {ratio: ("720", "1000"), full: ("380", "1000"), on_time: ("930", "1000"),
                   count: "11"}})
    _seed_earlier_quarters(session, department.data_set, department.unit, {
        LAST_YEAR: {ratio: ("1200", "1500"), full: ("700", "1500"), on_time: ("1400", "1500")},
        PREVIOUS: {ratio: ("1300", "1500"), full: ("800", "1500"),
                   on_time: ("1450", "1500")}})
    session.commit()
    dept_officer, dept_pw = make_user(Role.FOCAL_OFFICER, department.unit.id)
    commune_officer, commune_pw = make_user(Role.FOCAL_OFFICER, w.commune_a.id)
    office, office_pw = make_user(Role.STANDING_OFFICE, w.province.id)
    shot = _Shots("phone" if viewport[0] < 600 else "desktop")
    q = REPORTED.id
    dept_form = f"/collection/CCHC_SO_QUY/{q}/20.SKHCN"
    commune_form = f"/collection/CCHC_QUY/{q}/06001"

    # ---- The department officer: lands on what they owe, opens the form from it.
    page = people(dept_officer, dept_pw)
    assert page.url.endswith("/collection"), page.url
    owed = page.locator("#to-send li", has_text="sở, ban, ngành")
    assert "chậm" in owed.inner_text()  # the quarter ended: the report is late
    shot(page, "1-department-owes")
    owed.get_by_role("link", name="Nhập số liệu").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(dept_form), page.url
    assert page.locator("h1").inner_text() == "Sở Khoa học và Công nghệ"
    state = _type_losing_the_connection(
        page, {f"numerator_{ratio}": "1400", f"denominator_{ratio}": "1.600"},
        {f"numerator_{full}": "900", f"denominator_{full}": "1500",
         f"numerator_{on_time}": "1580", f"denominator_{on_time}": "1600",
         f"comment_{on_time}": "Theo Hệ thống thông tin giải quyết TTHC"})
    page.locator("#save-draft").click()  # held on the device, nothing is lost
    assert "sẽ tự gửi" in state.inner_text()
    shot(page, "2-department-offline")
    assert _stored(session, department.unit, q) == {}
    with page.expect_navigation():
        page.context.set_offline(False)  # back: the held draft is sent by itself
    page.wait_for_load_state("networkidle")
    assert "saved=1" in page.url and page.locator(".alert.ok").first.is_visible()
    assert page.input_value(f"input[name=denominator_{on_time}]") == "1600"
    stored = _stored(session, department.unit, q)
    assert stored[ratio].value == pytest.approx(87.5) and stored[full].denominator == 1500
    shot(page, "3-department-sent-back-online")
    page.locator("#save-submit").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#status").inner_text() == "Đã gửi"
    assert page.locator("#locked").is_visible()
    assert page.locator(f"input[name=numerator_{ratio}]").is_disabled()
    shot(page, "4-department-submitted")

    # ---- The commune officer: the tab is lost while offline, the figures are not.
    page = people(commune_officer, commune_pw)
    assert page.url.endswith("/collection"), page.url
    owed = page.locator("#to-send li", has_text="Báo cáo quý thủ tục hành chính")
    shot(page, "5-commune-owes")
    owed.get_by_role("link", name="Nhập số liệu").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(commune_form), page.url
    _type_losing_the_connection(
        page, {f"numerator_{ratio}": "766", f"denominator_{ratio}": "1000"},
        {f"numerator_{full}": "400", f"denominator_{full}": "1000",
         f"numerator_{on_time}": "950", f"denominator_{on_time}": "1000",
         f"value_{count}": "12", f"comment_{count}": "Theo Cổng dịch vụ công"})
    shot(page, "6-commune-offline")
    context = page.context
    page.close()  # the phone's battery, a closed tab: nothing was sent
    context.set_offline(False)
    assert _stored(session, w.commune_a, q) == {}
    page = context.new_page()
    page.goto(live_server)  # opens chiso again, back on what is owed
    page.wait_for_load_state("networkidle")
    page.locator("#to-send li", has_text="Báo cáo quý thủ tục hành chính").get_by_role(
        "link", name="Nhập số liệu").click()
    page.wait_for_load_state("networkidle")
    assert "khôi phục" in page.locator("#offline-state").inner_text()
    assert page.input_value(f"input[name=comment_{count}]") == "Theo Cổng dịch vụ công"
    assert page.input_value(f"input[name=denominator_{on_time}]") == "1000"
    shot(page, "7-commune-restored")
    page.locator("#save-submit").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#status").inner_text() == "Đã gửi"
    assert page.locator("#locked").is_visible()
    assert _stored(session, w.commune_a, q)[ratio].value == pytest.approx(76.6)
    shot(page, "8-commune-submitted")

    # ---- The standing office: the worklist, the review with comparisons, return/approve.
    page = people(office, office_pw)
    _open_menu_item(page, "Báo cáo định kỳ")
    waiting = page.locator("#to-review")
    assert "Sở Khoa học và Công nghệ" in waiting.inner_text()
    assert "Xã Đồng Đăng" in waiting.inner_text()
    shot(page, "9-office-worklist")
    waiting.locator("li", has_text="Sở Khoa học và Công nghệ").get_by_role(
        "link", name="Xem và duyệt").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(dept_form + "/review"), page.url
    headers = page.locator("#review thead").inner_text()
    assert "Kỳ trước" in headers and "Cùng kỳ năm trước" in headers
    online = _review_row(page, "Tỷ lệ hồ sơ trực tuyến")
    assert online[1].startswith("87,5%") and "1.400 / 1.600" in online[1]
    assert online[2:4] == ["86,7%", "80%"]  # previous quarter, same quarter last year
    # The validation results: the two totals differ (a rule of medium importance, so the
    # form took it), shown on both figures the rule compares.
    assert "2 số liệu cần kiểm tra" in page.locator("#problems").inner_text()
    for indicator in ("Tỷ lệ hồ sơ trực tuyến", "toàn trình"):
        assert "Tổng số hồ sơ ở hai chỉ tiêu" in _review_row(page, indicator)[5]
    # Seen, not only present: on a phone the comparisons and the checks are on screen
    # without scrolling the table sideways.
    row = page.locator("#review tbody tr").first
    _on_screen(page, row.locator("td").nth(3))
    _on_screen(page, row.locator(".problem"))
    shot(page, "10-office-reviews-department")
    dialogs: list[str] = []
    answers = [False, True]  # "Cancel" the first time, then "OK"

    def answer(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept() if answers.pop(0) else dialog.dismiss()

    page.on("dialog", answer)
    page.locator("#reason").fill(REASON)
    _reachable(page, "#return")
    page.locator("#return").click()  # asked first; cancelled, nothing happens
    assert dialogs and "Trả lại báo cáo này" in dialogs[0], dialogs
    assert page.url.endswith("/review") and page.locator("#status").inner_text() == "Đã gửi"
    page.locator("#return").click()
    page.wait_for_load_state("networkidle")
    assert len(dialogs) == 2 and not answers
    returned = page.locator("#submissions tr[data-unit='20.SKHCN']")
    assert "Bị trả lại" in returned.inner_text() and REASON in returned.inner_text()
    shot(page, "11-office-returned-department")

    page.locator("#to-review li", has_text="Xã Đồng Đăng").get_by_role(
        "link", name="Xem và duyệt").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(commune_form + "/review"), page.url
    online = _review_row(page, "Tỷ lệ hồ sơ trực tuyến")
    assert online[1].startswith("76,6%") and online[2:4] == ["72%", "60%"]
    assert "Theo Cổng dịch vụ công" in _review_row(page, "Số dịch vụ công")[5]
    assert "Không vi phạm" in page.locator("#problems").inner_text()
    shot(page, "12-office-reviews-commune")
    _reachable(page, "#approve")
    page.locator("#approve").click()  # not before the box is ticked
    assert page.url.endswith("/review")
    page.locator("#confirm").check()
    page.locator("#approve").click()
    page.wait_for_load_state("networkidle")
    assert "Đã duyệt" in page.locator("#submissions tr[data-unit='06001']").inner_text()
    assert page.locator("#to-review").count() == 0  # nothing waits any more
    shot(page, "13-office-approved-commune")

    # ---- Each officer sees the outcome: the bell, the notice, the form.
    page = people(dept_officer, dept_pw)
    assert page.url.endswith("/collection"), page.url  # the report is owed again
    assert "Bị trả lại" in page.locator("#to-send li", has_text="sở, ban, ngành").inner_text()
    _bell_counts(page, 1)
    shot(page, "14-department-told")
    page.locator("a.bell").click()
    page.wait_for_load_state("networkidle")
    notice = page.locator("table.notices tbody tr").first
    assert "Bị trả lại" in notice.inner_text() and REASON in notice.inner_text()
    shot(page, "15-department-notice")
    notice.get_by_role("link").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(dept_form), page.url
    assert page.locator("#status").inner_text() == "Bị trả lại"
    assert REASON in page.locator(".alert.error").inner_text()
    assert page.locator("#locked").count() == 0
    assert page.locator(f"input[name=denominator_{full}]").is_editable()
    _reachable(page, "#save-submit")
    shot(page, "16-department-returned-form")

    page = people(commune_officer, commune_pw)
    assert "/collection" not in page.url  # owes nothing now: lands on the overview
    _bell_counts(page, 1)
    shot(page, "17-commune-told")
    page.locator("a.bell").click()
    page.wait_for_load_state("networkidle")
    notice = page.locator("table.notices tbody tr").first
    assert "Đã duyệt" in notice.inner_text()
    shot(page, "18-commune-notice")
    notice.get_by_role("link").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(commune_form), page.url
    assert page.locator("#status").inner_text() == "Đã duyệt"
    assert "đã được duyệt" in page.locator("#locked").inner_text()
    assert page.locator(f"input[name=numerator_{ratio}]").is_disabled()
    assert page.locator("#save-submit, #save-draft").count() == 0
    shot(page, "19-commune-approved-form")

    session.expire_all()
    statuses = {unit_id: status for unit_id, status in session.execute(select(
        Submission.unit_id, Submission.status).where(Submission.period == q))}
    assert statuses[department.unit.id] == "returned"
    assert statuses[w.commune_a.id] == "approved"


class _Shots:
    """Screenshot each step (full page) after checking it does not scroll sideways."""

    def __init__(self, viewport: str) -> None:
        self.viewport = viewport

    def __call__(self, page: Any, step: str) -> None:
        page.wait_for_load_state("networkidle")
        wide = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], (step, page.url, wide)
        page.screenshot(path=f"/tmp/cycle-{self.viewport}-{step}.png", full_page=True)


def _seed_earlier_quarters(session: Session, data_set: DataSet, unit: OrgUnit,
                           figures: dict[Period, dict[int, Any]]) -> None:
    """The unit's earlier reports, sent and approved, so the review has something to
    compare with; the other quarters still on the worklist are approved empty (they are
    not what this walk is about)."""
    system = Access.system(session, "test")
    period = REPORTED
    for _ in range(4):
        period = period.previous()
        entries = []
        for indicator_id, figure in figures.get(period, {}).items():
            if isinstance(figure, tuple):
                entries.append(capture.FormEntry(indicator_id, figure[0], figure[1]))
            else:
                entries.append(capture.FormEntry(indicator_id, value=figure))
        capture.save_and_maybe_submit(session, data_set, unit, period.id, entries,
                                      access=system, submit=True)
        service.approve(session, service.submission_for(session, data_set, unit.id,
                                                        period.id), access=system,
                        tell=False)


def _type_losing_the_connection(page: Any, before: dict[str, str], after: dict[str, str]
                                ) -> Any:
    """Type `before` into the form's fields, lose the connection, type `after`: the form
    says the figures are kept on the device. Returns that notice's box."""
    for figures in (before, after):
        for name, text in figures.items():
            page.locator(f"input[name={name}]").fill(text)
        if figures is before:
            page.context.set_offline(True)  # the connection drops half-way through
    state = page.locator("#offline-state")
    assert "is-offline" in (state.get_attribute("class") or "")
    assert state.is_visible() and "Mất kết nối" in state.inner_text()
    return state


def _stored(session: Session, unit: OrgUnit, period: str) -> dict[int, DataValue]:
    session.expire_all()
    return {v.indicator_id: v for v in session.scalars(select(DataValue).where(
        DataValue.unit_id == unit.id, DataValue.period == period))}


def _review_row(page: Any, indicator: str) -> list[str]:
    """The review table's row of an indicator, one text per cell."""
    row = page.locator("#review tbody tr", has=page.locator("td:first-child",
                                                               has_text=indicator)).first
    return [cell.strip() for cell in row.locator("td").all_inner_texts()]


def _open_menu_item(page: Any, label: str) -> None:
    """Click a menu entry as a person does: on a phone the menu opens first."""
    toggle = page.locator("[data-menu-toggle]")
    if toggle.is_visible():
        toggle.click()
    page.locator("#mainnav").get_by_role("link", name=label, exact=True).click()
    page.wait_for_load_state("networkidle")


def _reachable(page: Any, selector: str) -> None:
    """A button a thumb can reach: visible, inside the page's width, tall enough."""
    button = page.locator(selector)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    width = page.evaluate("window.innerWidth")
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert box["height"] >= (44 if width < 600 else 30), box


def _on_screen(page: Any, locator: Any) -> None:
    """Inside the window's width as the page opens (no box scrolled sideways)."""
    left, right = locator.evaluate(
        "e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; }")
    width = page.evaluate("window.innerWidth")
    assert left >= 0 and right <= width, (left, right, width)


def _bell_counts(page: Any, unread: int) -> None:
    bell = page.locator("a.bell")
    assert bell.is_visible()
    count = bell.locator(".bell-count")
    count.wait_for(state="visible")
    assert count.inner_text() == str(unread)
