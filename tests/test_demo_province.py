"""`chiso demo` on SQLite and PostgreSQL: the summary says what is real (with its document)
and what is invented, in words and not codes, and speaks of 2025 — a closed year — in its
year-end words; the current year shows every in-year status in the CLI and the API; every
figure is dated when a province would have entered it (a past quarter's report has
content); the DTI pages and CLI mark the invented rows and name the published sources; a
rebuild changes nothing."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from docx import Document
from sqlalchemy import func, select
from typer.testing import CliRunner

from chiso.cli.main import app
from chiso.dti.models import DtiResult
from chiso.indicators.models import Indicator
from chiso.tasks.models import TaskMonthReport
from chiso.values.models import DataValue, DataValueVersion
from tests.conftest import login

IN_YEAR = {"achieved", "on_track", "at_risk", "off_track", "no_data"}
VI_LABELS = ["Đã đạt", "Đúng tiến độ", "Có nguy cơ chậm", "Chậm tiến độ", "Chưa có số liệu"]


def _versions_of(session, code: str, period: str) -> list[dt.datetime]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(DataValueVersion.changed_at).join(
        DataValue, DataValue.id == DataValueVersion.data_value_id).join(
        Indicator, Indicator.id == DataValue.indicator_id).where(
        DataValue.period == period, Indicator.code == code)))


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@pytest.mark.slow
def test_demo_says_what_is_real_and_what_is_invented(db_url, monkeypatch, session,  # type: ignore[no-untyped-def]
                                                     tmp_path) -> None:
    monkeypatch.setenv("CHISO_TODAY", "2026-11-22")
    monkeypatch.setenv("COLUMNS", "200")
    from chiso.settings import reset_settings_cache

    reset_settings_cache()
    runner = CliRunner()
    built = runner.invoke(app, ["demo"])
    assert built.exit_code == 0, built.output
    summary = " ".join(built.output.split())
    password = re.search(r"admin\s*│\s*(\S+)", built.output)
    assert password, built.output
    # Real facts, each with its document; invented parts said to be invented.
    assert "Số liệu thật, có nguồn / real, with their source" in summary
    assert "72-KH/BCĐ ngày 23/5/2023" in summary and "16/63 — DTI 2020" in summary
    assert "dti.gov.vn/xep-hang-2022" in summary
    assert "Số liệu minh họa (bịa, có đánh dấu)" in summary
    assert "DEMO-KH/BCĐ-2024-2026" in summary
    # 2025 is over: its year-end words, never a raw code or an in-year word.
    line = summary[summary.index("Mục tiêu năm 2025"):]
    assert "Đạt / Met" in line and "Không đạt / Missed" in line
    assert "achieved" not in summary and "{" not in summary
    assert not any(word in line for word in ("Đúng tiến độ", "Có nguy cơ chậm"))

    shown = runner.invoke(app, ["status", "--unit", "20", "--year", "2026"])
    assert shown.exit_code == 0, shown.output
    for label in VI_LABELS:
        assert label in shown.output, shown.output

    from fastapi.testclient import TestClient

    from chiso.web.app import create_app

    with TestClient(create_app()) as client:
        login(client, "admin", password.group(1))
        body = client.get("/api/status", params={"unit": "20", "year": 2026}).json()
        dti = client.get("/api/dti/ranking", params={"year": 2022}).json()
        merged = client.get("/api/dti/ranking", params={"year": 2024, "merged": True}).json()
    assert set(Counter(row["status"] for row in body["targets"])) == IN_YEAR
    real = [row["indicator_code"] for row in body["targets"]
            if row["actual"] is not None and not row["illustrative"]]
    assert real == [], f"invented figures shown as real: {real}"
    rows = {r["unit_code"]: r for r in dti["rows"]}
    assert not rows["48"]["illustrative"] and rows["48"]["total"] == 0.8002
    assert rows["20"]["illustrative"] and rows["20"]["rank"] == 6  # invented, rank real
    assert all(c["total_ok"] and c["rank_ok"] for c in dti["published_check"])
    assert not merged["illustrative"] and merged["rows"][0]["total"] == 0.8241

    ranked = runner.invoke(app, ["dti", "rank", "--year", "2022"])
    assert "minh họa / illustrative" in ranked.output and "Nguồn / source" in ranked.output

    # A month's figures are entered on the 5th of the next month, 09:00 Vietnam time.
    september = {_utc(m) for m in _versions_of(session, "CQS.HS_TRUC_TUYEN", "202509")}
    assert september == {dt.datetime(2025, 10, 5, 2, 0, tzinfo=dt.UTC)}
    quarter = {_utc(m) for m in _versions_of(session, "KTS.HOA_DON_DT", "2025Q3")}
    assert quarter == {dt.datetime(2025, 10, 10, 2, 0, tzinfo=dt.UTC)}

    # Accounts are named by their role, not its code; the finance officer captures money.
    assert "Cơ quan thường trực / standing office" in built.output
    assert "standing_office" not in built.output and "so.taichinh" in built.output
    ranked = runner.invoke(app, ["scoring", "rank", "VD-CDS-1000", "2025"])
    assert ranked.exit_code == 0 and "(thẩm định)" in ranked.output, ranked.output
    month_reports = session.scalar(select(func.count()).select_from(TaskMonthReport))
    assert month_reports > 0
    versions_before = session.scalar(select(func.count()).select_from(DataValueVersion))
    results_before = session.scalar(select(func.count()).select_from(DtiResult))
    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 0, again.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(DataValueVersion)) == \
        versions_before, "rebuilding the demo must change nothing"
    assert session.scalar(select(func.count()).select_from(DtiResult)) == results_before
    assert session.scalar(select(func.count()).select_from(TaskMonthReport)) == month_reports

    _the_year_end_and_third_quarter_reports_read_whole(runner, tmp_path)


def _report_lines(runner: CliRunner, tmp_path, period: str) -> list[str]:  # type: ignore[no-untyped-def]
    out = tmp_path / period
    made = runner.invoke(app, ["report", "quarterly", "--period", period, "--out", str(out),
                               "--no-pdf"])
    assert made.exit_code == 0, made.output
    path = next(out.glob("*.docx"))
    return [p.text for p in Document(str(path)).paragraphs if p.text.strip()]


def _the_year_end_and_third_quarter_reports_read_whole(runner: CliRunner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The demo's Q4/2025 report (closing date 20/01/2026, when the year's figures are in)
    and Q3/2026 report: no "chưa có số liệu" but for the two indicators the demo leaves
    without figures (devices protected in 2025, the digital economy's share of GRDP), the
    units that had not reported and those late by name (not "0/65"), the money, and tasks
    counted by who assigned them."""
    for period, gaps in (("2025Q4", "Tỷ lệ thiết bị đầu cuối được cài đặt giải pháp bảo vệ; "
                                    "Tỷ trọng kinh tế số trong GRDP."),
                         ("2026Q3", "Tỷ trọng kinh tế số trong GRDP.")):
        lines = _report_lines(runner, tmp_path, period)
        no_data = [t for t in lines if "chưa có số liệu để đánh giá" in t]
        assert len(no_data) == 1 and no_data[0].endswith(gaps), (period, no_data)
        commune_form = [t for t in lines if "(cấp xã)" in t]
        assert any("đơn vị chưa gửi báo cáo: Phường" in t or "đơn vị chưa gửi báo cáo: Xã" in t
                   for t in commune_form), commune_form
        assert any("báo cáo gửi muộn: Xã" in t for t in commune_form), commune_form
        assert not any("0/65" in t for t in lines)
        assert any(t.endswith("KINH PHÍ THỰC HIỆN") for t in lines)
        assert any(t.startswith("+ Nhiệm vụ do Trung ương giao:") for t in lines)
        assert any(t.startswith("- Báo cáo tháng") for t in lines)
