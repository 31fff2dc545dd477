"""`chiso demo`: a believable province to explore, built only through chiso's own services
(so the demo exercises the same paths as real use)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.accounts.models import Role, User
from chiso.accounts.passwords import generate_password
from chiso.accounts.service import create_user
from chiso.analytics.service import target_statuses
from chiso.collection.demo import build_cycle
from chiso.db import session_scope
from chiso.demo.dti import seed_dti
from chiso.demo.generate import (
    MERGER_DAY,
    Spec,
    commune_values,
    commune_weights,
    months_until,
    province_values,
    with_value,
)
from chiso.demo.history import by_entry_time, entered_at
from chiso.demo.monthly import seed_month_reports
from chiso.demo.provenance import Provenance
from chiso.demo.scoring import seed_scores
from chiso.demo.tasks import seed_meetings_and_tasks
from chiso.funding.demo import build as build_funding
from chiso.indicators.models import Indicator
from chiso.plans.models import Plan, Target
from chiso.plans.service import load_plan
from chiso.records.engine import INDICATORS as RECORDS_INDICATORS
from chiso.records.generator import Adoption
from chiso.records.service import load_generated_months
from chiso.reports.texts import save_texts
from chiso.setup import initialise
from chiso.units.models import OrgUnit, UnitKind
from chiso.units.service import descendant_ids, get_unit
from chiso.values.service import upsert_values

DATA_DIR = Path(__file__).parent / "data"
# The real 2023 plan, the illustrative 2024–2026 one, the real NQ 57 chain (documents only,
# each citing its public source) and three communes' illustrative plans, in load order (a
# plan's parent first).
PLAN_FILES = [Path(__file__).parent.parent / "plans" / "data" / "20-72-KH-BCD-2023.yaml",
              DATA_DIR / "plan-2024-2026.yaml", *sorted((DATA_DIR / "chain").glob("*.yaml")),
              *sorted((DATA_DIR / "communes").glob("*.yaml"))]
PROVINCE_CODE = "20"
SEED = 20230523  # the date of 72-KH/BCĐ

# Demo accounts: role, unit code (None = whole system), user name, full name.
DEMO_USERS = [
    (Role.STANDING_OFFICE, PROVINCE_CODE, "vanphong", "Văn phòng thường trực BCĐ (Sở KH&CN)"),
    (Role.LEADER, None, "lanhdao", "Lãnh đạo Ban Chỉ đạo"),
    (Role.FOCAL_OFFICER, None, "xa.dauMoi", "Cán bộ đầu mối cấp xã"),
    (Role.FOCAL_OFFICER, "20.SKHCN", "so.khcn", "Cán bộ đầu mối Sở Khoa học và Công nghệ"),
    (Role.FOCAL_OFFICER, "20.STC", "so.taichinh",
     "Cán bộ Sở Tài chính (nhập số liệu kinh phí)"),
]

Step = Callable[[str], None]


REAL_PLAN = "72-KH/BCĐ"
DEMO_PLAN = "DEMO-KH/BCĐ-2024-2026"


@dataclass
class DemoResult:
    credentials: list[tuple[str, str, str]] = field(default_factory=list)  # user, pw, role
    # What was built, real and invented (chiso/demo/provenance.py words it).
    provenance: Provenance = field(default_factory=Provenance)

    @property
    def values(self) -> int:
        return self.provenance.values


def build_demo(*, today: dt.date, step: Step = lambda _: None) -> DemoResult:
    """Build (or rebuild) the demo province. Deterministic for a given `today`."""
    result = DemoResult()
    step("Khởi tạo cơ sở dữ liệu, đơn vị hành chính, danh mục chỉ tiêu")
    init = initialise()
    if init.admin_password:
        result.credentials.append(("admin", init.admin_password, Role.ADMIN.value))
    with session_scope() as session:
        step("Nạp kế hoạch và mục tiêu 2023–2026")
        for path in PLAN_FILES:
            load_plan(session, path, access=Access.system(session, "demo"))
        step("Tạo tài khoản minh họa")
        result.credentials += _demo_users(session)
    facts = result.provenance
    with session_scope() as session:
        step("Sinh số liệu hằng tháng 2022 – nay (minh họa, ghi ngày nhập như thật)")
        facts.values = _demo_values(session, today)
    with session_scope() as session:
        step("Ghi các phiên họp, kết luận và nhiệm vụ")
        facts.tasks = seed_meetings_and_tasks(session, province_code=PROVINCE_CODE, today=today)
    with session_scope() as session:
        step("Sinh và nạp hồ sơ một cửa năm nay (chỉ tiêu tính trực tiếp từ hồ sơ)")
        facts.records = _records_feed(session, today)
    with session_scope() as session:
        step("Kỳ báo cáo: các đơn vị gửi, được duyệt, trả lại, gửi muộn")
        facts.submissions = build_cycle(session, today=today,
                                        access=Access.system(session, "demo")).submitted
    with session_scope() as session:
        step("Chấm điểm chuyển đổi số các sở, ngành năm 2025 (bộ chỉ số ví dụ, minh họa)")
        facts.scored_units = seed_scores(session, province_code=PROVINCE_CODE, today=today)
    with session_scope() as session:
        step("Báo cáo tháng về nhiệm vụ của các đơn vị")
        facts.month_reports = seed_month_reports(session, province_code=PROVINCE_CODE,
                                                 today=today)
    with session_scope() as session:
        step("Kết quả DTI đã công bố, phần minh họa và phiên tự đánh giá")
        dti = seed_dti(session, province_code=PROVINCE_CODE,
                       access=Access.system(session, "demo"))
        facts.dti_invented = dti.invented
    with session_scope() as session:
        step("Kinh phí minh họa: dự án hạ tầng CĐS 2021–2025, dự toán 2026")
        build_funding(session, today=today, access=Access.system(session, "demo"))
    with session_scope() as session:
        _report_texts(session)
        _count_facts(session, facts, today)
    return result


# The year's last reports wait for the year-end figures: December's (entered on 5 January),
# the fourth quarter's (10 January), the year's (20 January) and the year's budget values.
YEAR_END_CLOSING = {"2025Q4": "20/01/2026", "2025": "20/01/2026"}


def _report_texts(session: Session) -> None:
    """The closing dates (ngày chốt số liệu) the standing office set for the reports of
    2025's end (saving the same text again changes nothing)."""
    province = get_unit(session, PROVINCE_CODE)
    for period, closing in YEAR_END_CLOSING.items():
        save_texts(session, unit=province, period=period, texts={"closing_date": closing},
                   access=Access.system(session, "demo"))


def _count_facts(session: Session, facts: Provenance, today: dt.date) -> None:
    """The counts the summary names: units, targets, the months generated, and the 2025
    statuses (a closed year: its year-end words)."""
    facts.communes = _communes(session, today).height
    department = select(UnitKind.code).where(UnitKind.code == "so_ban_nganh")
    province = get_unit(session, PROVINCE_CODE)
    facts.departments = len(session.scalars(select(OrgUnit.id).where(
        OrgUnit.kind.in_(department), OrgUnit.parent_id == province.id,
        (OrgUnit.valid_to.is_(None)) | (OrgUnit.valid_to >= today))).all())
    facts.real_targets, facts.demo_targets = (_target_count(session, code)
                                              for code in (REAL_PLAN, DEMO_PLAN))
    months = months_until(today)
    facts.first_month, facts.last_month = (f"{m[4:]}/{m[:4]}" for m in (months[0], months[-1]))
    for row in target_statuses(session, unit_code=PROVINCE_CODE, year=2025):
        facts.statuses_2025[str(row.status)] = facts.statuses_2025.get(str(row.status), 0) + 1


def _target_count(session: Session, plan_code: str) -> int:
    return len(session.scalars(select(Target.id).join(Plan, Plan.id == Target.plan_id).where(
        Plan.code == plan_code)).all())


def _records_indicator_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Indicator.id).where(Indicator.code.in_(RECORDS_INDICATORS))))


def _records_feed(session: Session, today: dt.date) -> int:
    """This year's one-stop dossiers, sent by the province's one-stop system month by month
    from January to the last full month (like every other figure of the demo), each month's
    batch ingested — and the dossier indicators computed from it — on the 5th of the next
    month (`entered_at`), so the current year's figures of those indicators come only from
    the records and a past quarter's report reads what its closing date knew (earlier years
    stay as reported, which keeps the 2025 story intact). A month already ingested is
    skipped by its batch's hash. Returns the dossiers received in those months."""
    months = [int(m) for m in months_until(today) if m.startswith(str(today.year))]
    if not months:
        return 0  # January: no full month of this year yet
    # A province already past 75 % online filing in 2025 keeps climbing slowly in 2026.
    mature = Adoption(online=(0.79, 0.86), digitised=(0.90, 0.97))
    feed = load_generated_months(
        session, access=Access.system(session, "demo"), province=PROVINCE_CODE,
        year=today.year, seed=SEED, adoption=mature,
        sent_at={m: entered_at(str(m), today=today) for m in months})
    return feed.dossiers


def _demo_users(session: Session) -> list[tuple[str, str, str]]:
    created = []
    first_commune = _communes(session, MERGER_DAY).row(0, named=True)["unit_id"]
    for role, unit_code, username, full_name in DEMO_USERS:
        if session.scalar(select(User).where(User.username == username.lower())):
            continue
        unit_id = get_unit(session, unit_code).id if unit_code else first_commune
        if role is Role.LEADER:
            unit_id = None
        password = generate_password()
        create_user(session, username=username, password=password, role=role, unit_id=unit_id,
                    full_name=full_name, access=Access.system(session, "setup"))
        created.append((username.lower(), password, role.value))
    return created


def _specs(session: Session) -> list[Spec]:
    story = yaml.safe_load((DATA_DIR / "scenario.yaml").read_text(encoding="utf-8"))
    indicators = {i.code: i for i in session.scalars(select(Indicator))}
    return [Spec(code=code, indicator_id=indicators[code].id, scale=indicators[code].scale,
                 **entry) for code, entry in story["indicators"].items()]


def _communes(session: Session, day: dt.date) -> pl.DataFrame:
    """Commune-level units of the province valid on `day`, with their area."""
    province = get_unit(session, PROVINCE_CODE)
    ids = descendant_ids(session, province.id, on=day)
    commune_kinds = select(UnitKind.code).where(UnitKind.level == 3)
    rows = session.execute(
        select(OrgUnit.id, OrgUnit.area_km2).where(OrgUnit.id.in_(ids),
                                                    OrgUnit.kind.in_(commune_kinds))
        .order_by(OrgUnit.code)).all()
    return pl.DataFrame(rows, schema={"unit_id": pl.Int64, "area_km2": pl.Float64},
                        orient="row")


def _demo_values(session: Session, today: dt.date) -> int:
    rng = np.random.default_rng(SEED)
    old = commune_weights(_communes(session, MERGER_DAY - dt.timedelta(days=1)), rng)
    new = commune_weights(_communes(session, MERGER_DAY), rng)
    # Merged communes are bigger: keep the province's total size continuous.
    new = new.with_columns(pl.col("weight") * old.height / new.height)
    province_id = get_unit(session, PROVINCE_CODE).id
    months = months_until(today)
    frames = []
    for spec in _specs(session):
        if spec.level == "commune":
            frame = commune_values(spec, old, new, months, rng)
        else:
            frame = province_values(spec, province_id, today, rng)
        frames.append(with_value(frame, spec))
    # This year's dossier indicators come from the one-stop records (_records_feed).
    from_records = pl.col("indicator_id").is_in(_records_indicator_ids(session)) & (
        pl.col("period") >= f"{today.year}01")
    rows = pl.concat(frames).filter(~from_records)
    # Each period's figures dated when a province would have entered them (history.py),
    # so a report for a past quarter sees what was known at its cut-off.
    access = Access.system(session, "demo")
    for entered, batch in by_entry_time(rows, today=today):
        upsert_values(session, batch, source="demo", access=access, recorded_at=entered)
    return rows.height
