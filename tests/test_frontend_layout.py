"""Every page fits a phone (issue 14 item 1): signed in as the standing office, a leader, a
commune focal officer and a department focal officer on the demo province, a browser
follows every link each is shown and checks, at 390×844 and 1366×768, in Vietnamese and in
English, that no page is wider than the window (wide tables scroll in their own box). On
a phone the menu folds behind a button that opens it, by mouse and by keyboard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.frontend_support import (
    ROLES,
    DemoSite,
    crawl,
    page_overflow,
    sign_in,
    start_demo_site,
    widest,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SIZES = {"phone": (390, 844), "desktop": (1366, 768)}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    yield from start_demo_site(Path(tmp_path_factory.mktemp("demo-site")))


@pytest.mark.parametrize("role", list(ROLES))
def test_no_page_is_wider_than_the_window(site, browser, role: str) -> None:  # type: ignore[no-untyped-def]
    username = ROLES[role]
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    sign_in(page, site, username)
    pages = crawl(page, site)
    assert len(pages) >= 5, pages  # each role reaches its pages from the front door
    too_wide = []
    for language in ("vi", "en"):
        page.goto(f"{site.base_url}/?lang={language}")
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            for path in pages:
                page.goto(site.base_url + path)
                page.wait_for_load_state("networkidle")
                if (extra := page_overflow(page)) > 0:
                    too_wide.append(f"{language} {size} {path}: {extra} px too wide "
                                    f"({widest(page)})")
    context.close()
    assert not too_wide, f"{role} ({len(pages)} pages):\n" + "\n".join(too_wide)


def test_the_phone_menu_opens_with_its_button_and_the_keyboard(site, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, site, ROLES["standing office"])
    toggle, menu = page.locator("[data-menu-toggle]"), page.locator("#mainnav")
    assert toggle.is_visible() and not menu.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert menu.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    links = menu.locator("a")
    assert links.count() >= 5
    box = links.first.bounding_box()
    assert box is not None and box["height"] >= 44  # a thumb's target
    page.keyboard.press("Escape")
    assert not menu.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    toggle.focus()
    page.keyboard.press("Enter")
    assert menu.is_visible()
    # On a desktop the menu is simply there, and the button is not.
    page.set_viewport_size({"width": 1366, "height": 768})
    assert menu.is_visible() and not toggle.is_visible()
    context.close()


def test_an_officer_who_owes_a_report_lands_on_it(site, browser) -> None:  # type: ignore[no-untyped-def]
    """The commune officer whose quarterly report is late opens chiso and lands on the
    reporting page with the report and its link, not on an overview of zeros."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, site, ROLES["commune officer"])
    page.goto(site.base_url + "/")
    assert page.url.endswith("/collection"), page.url
    owed = page.locator("a[href^='/collection/CCHC_XA_QUY/']")
    assert owed.count() >= 1
    # The leader owes nothing and still lands on the province's overview.
    context.close()
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    sign_in(page, site, ROLES["leader"])
    page.goto(site.base_url + "/")
    assert "/units/20/overview" in page.url
    context.close()


@pytest.mark.parametrize("path", ["/units/20/overview",
                                  "/units/20/indicators/CQS.HS_TRUC_TUYEN?year=2026"])
def test_the_map_shows_each_commune_with_its_name(site, browser, path: str) -> None:  # type: ignore[no-untyped-def]
    """The overview and the indicator page draw the province's communes at their centroids
    (no boundaries file), and a commune's tooltip names it with its figure."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    refused: list[str] = []  # the CSP's refusals are logged to the console
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text
            else None)
    sign_in(page, site, ROLES["leader"])
    page.goto(site.base_url + path)
    chart = page.locator("#unit-map")
    page.wait_for_selector("#unit-map[data-drawn=points]", timeout=20000)
    assert int(chart.get_attribute("data-points") or 0) >= 60  # the demo's 65 communes
    assert chart.is_visible()
    names = page.evaluate("""() => {
      const chart = echarts.getInstanceByDom(document.getElementById('unit-map'));
      const points = chart.getOption().series[0].data;
      const shown = [];
      for (const i of [0, 7, 30]) {
        chart.dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: i});
        const tip = [...document.querySelectorAll('#unit-map div')]
          .find(d => d.innerText && d.innerText.includes(points[i].label));
        shown.push([points[i].label, tip ? tip.innerText : '']);
      }
      return shown;
    }""")
    for name, tooltip in names:
        assert name.startswith(("Xã", "Phường")), names
        assert name in tooltip, names
    # The page's other charts (the overview's donut, the indicator's trend) show a tip too:
    # ECharts' own tooltip markers are style attributes the CSP refuses.
    others = page.evaluate("""() => [...document.querySelectorAll('[data-chart],[data-chart-src]')]
      .filter(el => el.id !== 'unit-map').map(el => {
        const chart = echarts.getInstanceByDom(el);
        chart.dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 0});
        return el.querySelectorAll('i.swatch').length;
      })""")
    assert others and all(others), others  # each tip's marker is a .swatch
    page.wait_for_timeout(200)
    assert not refused, refused  # charts drawn with no inline style or script refused
    context.close()
