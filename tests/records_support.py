"""Hand-made units, indicators, procedures and dossiers for the records tests.

Province 20 has, before 1/7/2025, a district H01 with communes 06001 and 06002; on
1/7/2025 both merge into a new commune that re-uses the code 06001 (as the reform did),
directly under the province. Communes 06200 and 06300 exist throughout.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.indicators.models import Indicator
from chiso.records.engine import INDICATORS
from chiso.units.models import OrgUnit, UnitKind, UnitLineage

MERGER = dt.date(2025, 7, 1)
COLUMNS = ["dossier_code", "procedure_code", "unit_code", "received_at", "channel",
           "service_level", "status", "due_at", "finished_at", "electronic_result",
           "digitised", "paid_online", "fee_due", "updated_at"]
PROCEDURES = [
    ("code", "name", "level", "service_level", "field"),
    ("P1", "Đăng ký khai sinh", "xa", "toàn trình", "Hộ tịch"),
    ("P2", "Đăng ký kết hôn", "xa", "một phần", "Hộ tịch"),
    ("P3", "Cấp bản sao trích lục hộ tịch", "xa", "không", "Hộ tịch"),
    ("P4", "Chứng thực bản sao từ bản chính", "xa", "toàn trình", "Chứng thực"),
]


def make_units(session: Session) -> dict[str, OrgUnit]:
    for code, vi, en, level in (("tinh", "tỉnh", "province", 1), ("huyen", "huyện", "district", 2),
                                ("xa", "xã", "commune", 3)):
        session.add(UnitKind(code=code, name_vi=vi, name_en=en, level=level))
    session.flush()
    province = OrgUnit(code="20", name="Tỉnh Lạng Sơn", kind="tinh")
    session.add(province)
    session.flush()
    district = OrgUnit(code="H01", name="Huyện Cũ", kind="huyen", parent_id=province.id,
                       valid_to=MERGER - dt.timedelta(days=1))
    session.add(district)
    session.flush()
    old_a = OrgUnit(code="06001", name="Xã An Cũ", kind="xa", parent_id=district.id,
                    valid_to=MERGER - dt.timedelta(days=1))
    old_b = OrgUnit(code="06002", name="Xã Bình Cũ", kind="xa", parent_id=district.id,
                    valid_to=MERGER - dt.timedelta(days=1))
    merged = OrgUnit(code="06001", name="Xã An Bình", kind="xa", parent_id=province.id,
                     valid_from=MERGER)
    c200 = OrgUnit(code="06200", name="Xã Hữu Lũng", kind="xa", parent_id=province.id)
    c300 = OrgUnit(code="06300", name="Phường Đông Kinh", kind="xa", parent_id=province.id)
    session.add_all([old_a, old_b, merged, c200, c300])
    session.flush()
    for old in (old_a, old_b):
        session.add(UnitLineage(predecessor_id=old.id, successor_id=merged.id,
                                event_date=MERGER, kind="merge"))
    session.flush()
    return {"20": province, "H01": district, "old_a": old_a, "old_b": old_b,
            "merged": merged, "06200": c200, "06300": c300}


def feed_access(session: Session) -> Access:
    """The authority of the province's one-stop feed (a system job)."""
    return Access.system(session, "records-feed")


def make_indicators(session: Session) -> dict[str, int]:
    ids = {}
    for code in INDICATORS:
        indicator = Indicator(code=code, name_vi=f"Tỷ lệ {code}", name_en=f"Share {code}",
                              kind="ratio", unit_aggregation="ratio_of_sums",
                              time_aggregation="sum", scale=100.0, unit_vi="%",
                              unit_en="%")
        if code == "CQS.DVCTT_PHAT_SINH_HS":
            indicator.unit_aggregation = "none"
        session.add(indicator)
        session.flush()
        ids[code] = indicator.id
    return ids


def write_procedures(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(PROCEDURES)
    return path


def record(code: str, procedure: str, unit: str, received: str, channel: str, *,
           level: str = "", status: str = "dang_xu_ly", due: str = "", finished: str = "",
           e_result: str = "0", digitised: str = "0", paid: str = "0", fee: str = "0",
           updated: str = "") -> dict[str, str]:
    return {"dossier_code": code, "procedure_code": procedure, "unit_code": unit,
            "received_at": received, "channel": channel, "service_level": level,
            "status": status, "due_at": due, "finished_at": finished,
            "electronic_result": e_result, "digitised": digitised, "paid_online": paid,
            "fee_due": fee, "updated_at": updated or received}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def august_records() -> list[dict[str, str]]:
    """Two communes in 08/2025 sharing online service P1 (see test expectations)."""
    return [
        record("D1", "P1", "06200", "2025-08-04 08:00", "Trực tuyến", level="toàn trình",
               status="da_tra_ket_qua", due="2025-08-10 17:00", finished="2025-08-06 10:00",
               e_result="1", digitised="1"),
        record("D2", "P2", "06200", "05/08/2025 09:00", "truc_tuyen", level="một phần",
               status="da_tra_ket_qua", due="2025-08-08 17:00", finished="2025-08-12 10:00",
               digitised="có", paid="1", fee="50.000"),
        record("D3", "P3", "06200", "2025-08-06 10:00", "Trực tiếp", level="không",
               status="da_tra_ket_qua", due="2025-08-09 17:00", finished="2025-08-07 15:00",
               fee="20000"),
        record("D4", "P1", "06200", "2025-08-07 14:00", "trực tiếp", level="toàn trình"),
        record("D5", "P1", "06300", "2025-08-08 08:30", "Trực tuyến", level="toàn trình",
               status="da_tra_ket_qua", due="2025-08-15 17:00", finished="2025-08-09 08:00",
               e_result="1"),
        record("D6", "P3", "06300", "2025-08-11 07:45", "Bưu chính công ích",
               level="không", fee="10000"),
    ]


def put_on_calendar(session: Session, calendar: str, codes: list[str]) -> None:
    """A reporting form (data set) on `calendar` holding these indicators: their dossiers
    are then placed in that calendar's periods."""
    from chiso.collection.models import DataSet, DataSetIndicator

    data_set = DataSet(code=f"HS_{calendar.upper()}", name_vi="Hồ sơ một cửa",
                       period_type="M", calendar=calendar)
    session.add(data_set)
    session.flush()
    ids = dict(session.execute(select(Indicator.code, Indicator.id)
                               .where(Indicator.code.in_(codes))).all())
    session.add_all(DataSetIndicator(data_set_id=data_set.id, indicator_id=ids[code])
                    for code in codes)
    session.flush()


def make_world(session: Session, tmp_path: Path) -> dict[str, OrgUnit]:
    """Units, the seven indicators and the procedure catalogue, committed."""
    from chiso.records.service import load_procedures

    units = make_units(session)
    make_indicators(session)
    load_procedures(session, write_procedures(tmp_path / "procedures.csv"),
                    access=feed_access(session))
    session.commit()
    return units


def post_batch(client, records: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    """POST a batch as a signed-in browser session would (with its CSRF token)."""
    from tests.accounts_support import csrf_of

    return client.post("/api/records/batches", json={"records": records},
                       headers={"X-CSRF-Token": csrf_of(client)})
