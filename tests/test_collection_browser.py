"""Browser: a focal officer fills the web form and submits; the standing office opens the
review view from the list and approves it after confirming; a form in progress survives a
lost connection (kept in the browser, sent when the connection returns) and a reload."""

from __future__ import annotations

import pytest
from collection_support import CURRENT_QUARTER, build_province, fill_template
from sqlalchemy import select

from chiso.accounts.models import Role
from chiso.collection.legacy import to_tcvn3
from chiso.collection.models import Submission
from chiso.values.models import DataValue
from tests.conftest import browser_login

pytestmark = pytest.mark.browser
P = CURRENT_QUARTER


def test_focal_officer_submits_and_standing_office_approves(session, live_server, page,
                                                            make_user, tmp_path) -> None:
    province = build_province(session)
    session.commit()
    w = province.world
    focal, focal_pw = make_user(Role.FOCAL_OFFICER, w.commune_a.id)
    office, office_pw = make_user(Role.STANDING_OFFICE, w.province.id)

    browser_login(page, live_server, focal.username, focal_pw)
    page.goto(f"{live_server}/collection/CCHC_QUY/{P}/06001")
    page.fill(f"input[name=numerator_{w.ratio.id}]", "766")
    page.keyboard.press("Tab")
    page.keyboard.type("1.000")  # the denominator, reached from the keyboard
    page.fill(f"input[name=value_{w.count.id}]", "12")
    page.fill(f"input[name=comment_{w.count.id}]", "Theo Cổng dịch vụ công")
    page.click("#save-draft")
    page.wait_for_load_state("networkidle")
    assert page.locator(".alert.ok").first.is_visible()
    assert "76,6" in page.content()
    page.screenshot(path="/tmp/collection-form.png", full_page=True)

    # The Excel way: download the template, fill it, upload, see the diff, confirm.
    with page.expect_download() as download:
        page.click("text=Tải biểu mẫu Excel")
    template = tmp_path / "mau.xlsx"
    download.value.save_as(template)
    fill_template(template.read_bytes(), {"H8": 45, "I8": 50, "K8": to_tcvn3("Đúng hạn")},
                  template)
    page.set_input_files("input[name=file][accept]", str(template))
    page.click("text=Kiểm tra tệp")
    page.wait_for_load_state("networkidle")
    assert page.locator("#confirm-upload").is_visible()
    page.screenshot(path="/tmp/collection-upload.png", full_page=True)
    page.click("#confirm-upload")
    page.wait_for_load_state("networkidle")
    page.click("#save-submit")
    page.wait_for_load_state("networkidle")
    assert page.locator("#status").inner_text() in ("Đã gửi", "Submitted")

    page.context.clear_cookies()
    browser_login(page, live_server, office.username, office_pw)
    page.goto(f"{live_server}/collection?data_set=CCHC_QUY&period={P}")
    row = page.locator("#submissions tr[data-unit='06001']")
    assert "Đã gửi" in row.inner_text()
    page.screenshot(path="/tmp/collection-list.png", full_page=True)
    row.locator("text=Xem và duyệt").click()
    page.wait_for_load_state("networkidle")
    review = page.locator("#review")
    assert "76,6%" in review.inner_text() and "Theo Cổng dịch vụ công" in review.inner_text()
    page.screenshot(path="/tmp/collection-review.png", full_page=True)
    _review_buttons_are_styled(page)
    page.check("#confirm")
    page.click("#approve")
    page.wait_for_load_state("networkidle")
    assert "Đã duyệt" in page.locator("#submissions tr[data-unit='06001']").inner_text()

    page.goto(f"{live_server}/collection/quality?data_set=CCHC_QUY&period={P}")
    page.wait_for_selector("#unit-chart svg")
    assert "06002" not in page.locator("#late-units").inner_text()  # not yet due
    page.screenshot(path="/tmp/collection-quality.png", full_page=True)

    session.expire_all()
    status = session.scalar(select(Submission.status).where(
        Submission.unit_id == w.commune_a.id, Submission.period == P))
    assert status == "approved"
    value = session.scalar(select(DataValue.value).where(DataValue.indicator_id == w.ratio.id))
    assert value == pytest.approx(76.6)


def _review_buttons_are_styled(page) -> None:  # type: ignore[no-untyped-def]
    """"Duyệt báo cáo" is the page's primary button and "Trả lại đơn vị" a red one (they
    were browser-default buttons 20 px tall): 44 px and the card's width on a phone."""
    def colour(selector: str) -> str:
        return page.locator(selector).evaluate("b => getComputedStyle(b).backgroundColor")

    assert colour("#approve") == "rgb(11, 92, 173)"  # --accent
    assert colour("#return") == "rgb(214, 69, 69)"  # --off-track
    for width, height in ((1366, 38), (390, 44)):
        page.set_viewport_size({"width": width, "height": 844})
        for button in ("#approve", "#return"):
            box, card = (page.locator(button).bounding_box(),
                         page.locator(f"{button}-form").bounding_box())
            assert box is not None and card is not None
            assert box["height"] >= height, (button, width, box)
            if width == 390:
                assert box["width"] >= card["width"] - 40, (button, box, card)
    page.screenshot(path="/tmp/collection-review-390.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def test_a_form_in_progress_survives_a_lost_connection(session, live_server, page,
                                                       make_user) -> None:
    province = build_province(session)
    session.commit()
    w = province.world
    focal, focal_pw = make_user(Role.FOCAL_OFFICER, w.commune_b.id)
    browser_login(page, live_server, focal.username, focal_pw)
    form = f"{live_server}/collection/CCHC_QUY/{P}/06002"
    page.goto(form)
    page.fill(f"input[name=numerator_{w.ratio.id}]", "500")
    page.fill(f"input[name=denominator_{w.ratio.id}]", "1000")

    page.context.set_offline(True)  # the commune's connection drops
    page.fill(f"input[name=value_{w.count.id}]", "7")
    state = page.locator("#offline-state")
    assert "is-offline" in (state.get_attribute("class") or "")
    page.click("#save-draft")  # held on the device, not lost
    assert "sẽ tự gửi" in state.inner_text()
    session.expire_all()
    assert session.scalar(select(DataValue).where(DataValue.unit_id == w.commune_b.id)) \
        is None

    with page.expect_navigation():
        page.context.set_offline(False)  # back: the form is sent by itself
    page.wait_for_load_state("networkidle")
    assert "saved=1" in page.url
    session.expire_all()
    stored = {v.indicator_id: v for v in session.scalars(select(DataValue).where(
        DataValue.unit_id == w.commune_b.id))}
    assert stored[w.ratio.id].value == pytest.approx(50.0) and stored[w.count.id].value == 7

    # Typed, then the tab is closed before saving: opening the form again restores it.
    page.fill(f"input[name=comment_{w.count.id}]", "Số liệu tạm")
    page.close()
    again = page.context.new_page()
    again.goto(form)
    again.wait_for_load_state("networkidle")
    assert again.input_value(f"input[name=comment_{w.count.id}]") == "Số liệu tạm"
    assert "khôi phục" in again.locator("#offline-state").inner_text()
