"""Cumulative periods (lũy kế) in the roll-up: '9 tháng đầu năm 2025' for a report's table
and a year-to-date dashboard, for a flow, a ratio and a stock, on SQLite and PostgreSQL.

The province (20) has two communes since 1/7/2025: A (06001) sent its 9-month figures as
such; B (06002) inherits commune Z's months January–June and sent July and August itself.
"""

from __future__ import annotations

import datetime as dt

import pytest

from chiso.analytics import service
from chiso.settings import reset_settings_cache
from tests.analytics_world import World, build_world

DOSSIERS = "CQS.SO_HS"  # a flow: counts add up over the months
ONLINE = "CQS.HS_TRUC_TUYEN"  # a flow ratio: Σnumerator / Σdenominator
SUBSCRIBERS = "XHS.THUE_BAO"  # a stock: the latest level
NINE_MONTHS = "9 tháng đầu năm 2025"


@pytest.fixture
def world(session, monkeypatch) -> World:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_TODAY", "2025-10-20")
    reset_settings_cache()
    world = build_world(session)
    rows: list[tuple[str, str, str, float | None, float | None, float | None]] = [
        # A: its 9-month report, and two months that the 9-month figure stands above.
        ("06001", DOSSIERS, "2025C09", None, None, 900),
        ("06001", DOSSIERS, "202507", None, None, 100),
        ("06001", DOSSIERS, "202508", None, None, 100),
        ("06001", ONLINE, "2025C09", 450, 500, None),
        ("06001", SUBSCRIBERS, "2025C09", None, None, 800),
        # Z's five months as a span (inside the months it also sent: not added again).
        ("06201", DOSSIERS, "2025C05", None, None, 999),
        ("06002", SUBSCRIBERS, "202510", None, None, 1300),  # after the span: not in it
    ]
    for month in range(1, 7):  # commune Z, merged into B on 1/7/2025
        rows += [("06201", DOSSIERS, f"2025{month:02d}", None, None, 40),
                 ("06201", ONLINE, f"2025{month:02d}", 30, 60, None),
                 ("06201", SUBSCRIBERS, f"2025{month:02d}", None, None, 1000 + month)]
    for month in (7, 8):
        rows += [("06002", DOSSIERS, f"2025{month:02d}", None, None, 50),
                 ("06002", ONLINE, f"2025{month:02d}", 40, 50, None),
                 ("06002", SUBSCRIBERS, f"2025{month:02d}", None, None, 1100 + month)]
    world.save(rows)
    return world


def _breakdown(session, indicator: str) -> dict[str, float | None]:  # type: ignore[no-untyped-def]
    frame = service.subunit_breakdown(session, unit_code="20", indicator_code=indicator,
                                      period=NINE_MONTHS)
    return dict(zip(frame["unit_code"].to_list(), frame["value"].to_list(), strict=True))


def test_a_nine_month_report_figure_for_a_flow_a_ratio_and_a_stock(world, session) -> None:
    """The flow adds January–September (A's own 9-month figure beats its months; B's
    predecessor's 5-month span is not added to its months); the ratio divides the sums; the stock is
    the latest level by September."""
    assert _breakdown(session, DOSSIERS) == {"06001": 900, "06002": 6 * 40 + 2 * 50}
    assert service.rolled_up_value(session, unit_code="20", indicator_code=DOSSIERS,
                                   period=NINE_MONTHS) == 1240
    online = _breakdown(session, ONLINE)
    assert online["06001"] == pytest.approx(90.0)
    assert online["06002"] == pytest.approx(100 * (6 * 30 + 2 * 40) / (6 * 60 + 2 * 50))
    assert service.rolled_up_value(session, unit_code="20", indicator_code=ONLINE,
                                   period="2025C09") == pytest.approx(100 * 710 / 960)
    assert _breakdown(session, SUBSCRIBERS) == {"06001": 800, "06002": 1108}
    # As a report reads it at its cut-off: the same figure, reproducibly.
    assert service.rolled_up_value(session, unit_code="20", indicator_code=DOSSIERS,
                                   period=NINE_MONTHS,
                                   known_at=dt.datetime.now(dt.UTC)) == 1240


def test_the_province_own_nine_month_figure_wins_over_its_communes(world, session) -> None:
    world.save([("20", DOSSIERS, "2025C09", None, None, 1500)])
    assert service.rolled_up_value(session, unit_code="20", indicator_code=DOSSIERS,
                                   period=NINE_MONTHS) == 1500
    assert _breakdown(session, DOSSIERS)["06001"] == 900  # each commune still its own


def test_a_year_to_date_dashboard_for_a_flow_and_a_ratio(world, session, admin_client
                                                          ) -> None:
    """On 20/10/2025 the flow's year to date is 1.240, judged at 30/09 — the last month
    reported, counting A's 9-month figure (the months alone reach only August) — and the
    ratio is Σ710/Σ960; the overview and /api/status say so."""
    world.target(DOSSIERS, 2000.0)
    world.target(ONLINE, 80.0, baseline_value=0.0, baseline_date=dt.date(2025, 1, 1))
    body = admin_client.get("/api/status", params={"unit": "20", "year": 2025}).json()
    rows = {t["indicator_code"]: t for t in body["targets"]}
    flow, ratio = rows[DOSSIERS], rows[ONLINE]
    assert (flow["actual"], flow["year_to_date"]) == (1240, "2025-09-30")
    assert flow["expected"] == pytest.approx(2000 * 273 / 365)
    assert ratio["actual"] == pytest.approx(100 * 710 / 960)
    assert ratio["year_to_date"] is None  # a ratio is judged as a level
    page = admin_client.get("/units/20/overview", params={"year": 2025})
    assert page.status_code == 200
    assert "1.240" in page.text and "30/09/2025" in page.text
    nine = admin_client.get("/api/breakdown", params={"unit": "20", "indicator": DOSSIERS,
                                                      "period": NINE_MONTHS})
    assert nine.status_code == 200, nine.text
    assert [(r["unit_code"], r["value"]) for r in nine.json()["rows"]] == [
        ("06001", 900), ("06002", 340)]
