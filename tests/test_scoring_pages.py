"""The scoring pages in a real browser: departments score themselves with evidence, the
standing office appraises, the ranking page ranks them; and the pages fit a phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chiso.accounts.models import Role
from chiso.db import new_session
from tests.conftest import browser_login
from tests.scoring_support import FRAMEWORK, build

SCREENS = Path(os.environ.get("CHISO_SCREENS", "/tmp/screens/nq57"))


@pytest.fixture
def world(db_url):  # type: ignore[no-untyped-def]
    session = new_session(db_url)
    built = build(session)
    session.close()
    return built


def _self_score(page, base: str, unit: str, criterion: str, answer: str, evidence: Path  # type: ignore[no-untyped-def]
                ) -> None:
    page.goto(f"{base}/scoring/{FRAMEWORK}/2025/{unit}")
    escaped = criterion.replace(".", "\\.")
    row = page.locator(f"tr#c-{escaped} + tr.form-row")
    row.locator("details.score-form summary").first.click()
    form = row.locator("form.self-form")
    answer_field = form.locator("[name=answer]")
    if answer_field.evaluate("e => e.tagName") == "SELECT":
        answer_field.select_option(answer)
    else:
        answer_field.fill(answer)
    form.locator("[name=evidence_number]").fill("15/KH-UBND")
    form.locator("[name=evidence_date]").fill("20/02/2025")
    form.locator("[name=evidence_summary]").fill("Kế hoạch chuyển đổi số năm 2025")
    form.locator("[name=file]").set_input_files(str(evidence))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")


@pytest.mark.browser
def test_a_department_ranking_from_rubric_scores_with_evidence(live_server, page, make_user,
                                                               world, tmp_path) -> None:
    evidence = tmp_path / "ke-hoach-15.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% ke hoach 15\n")
    for unit, answers in ((world.science, [("1.1", "có"), ("6.1", "85%")]),
                          (world.home, [("1.1", "có"), ("6.1", "65%")])):
        officer, password = make_user(Role.FOCAL_OFFICER, unit_id=unit.id)
        page.context.clear_cookies()
        browser_login(page, live_server, officer.username, password)
        for criterion, answer in answers:
            _self_score(page, live_server, unit.code, criterion, answer, evidence)
        assert page.locator("#self-total").inner_text() in ("140,00", "110,00")
    assert "15/KH-UBND" in page.locator("tr#c-1\\.1").inner_text()
    # A self score above zero without its evidence is refused, saying what is missing.
    page.goto(f"{live_server}/scoring/{FRAMEWORK}/2025/20.SNV")
    row = page.locator("tr#c-2\\.1 + tr.form-row")
    row.locator("details.score-form summary").first.click()
    row.locator("form.self-form [name=answer]").select_option("có")
    row.locator("form.self-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "số hiệu, ngày và trích yếu" in page.locator(".alert.error").inner_text()

    office, password = make_user(Role.STANDING_OFFICE, unit_id=world.province.id)
    page.context.clear_cookies()
    browser_login(page, live_server, office.username, password)
    page.goto(f"{live_server}/scoring/{FRAMEWORK}/2025/20.SKHCN")
    row = page.locator("tr#c-6\\.1 + tr.form-row")
    row.locator("details.score-form summary").last.click()
    row.locator("form.appraise-form [name=answer]").fill("62%")
    row.locator("form.appraise-form [name=note]").fill("Số liệu hệ thống một cửa: 62%")
    row.locator("form.appraise-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#appraised-total").inner_text() == "70,00"

    page.goto(f"{live_server}/scoring/{FRAMEWORK}/2025?group=departments")
    ranks = [(r.locator("td.rank").inner_text(), r.get_attribute("data-unit"))
             for r in page.locator("tr.rank-row").all()]
    assert ranks == [("1", "20.SNV"), ("2", "20.SKHCN"), ("–", "20.STC")]
    assert "thẩm định" in page.locator("tr.rank-row[data-unit='20.SKHCN']").inner_text()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "scoring-ranking-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    page.screenshot(path=str(SCREENS / "scoring-ranking-390.png"), full_page=True)
    page.goto(f"{live_server}/scoring/{FRAMEWORK}/2025/20.SKHCN")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENS / "scoring-card-390.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.reload()
    page.screenshot(path=str(SCREENS / "scoring-card-1366.png"), full_page=True)
