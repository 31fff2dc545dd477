"""An illustrative DTI table (DTI 922 main indicators, 63 provinces, 2022–2023) so the DTI
pages have a field to rank in, and Lạng Sơn's self-assessment round for 2023.

These numbers are invented for the demo and the files say so; they are not the ministry's
published results (chiso ships only a two-province sample of those: dti_2022_mau.csv)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.dti.assessment import open_assessment, update_criterion
from chiso.dti.service import get_framework, import_results, result_years
from chiso.settings import get_settings
from chiso.units.models import OrgUnit, UnitKind

FRAMEWORK = "DTI_TINH_922"
MAIN = ["NTS", "TCS", "HTS", "NLS", "ATTT", "CQS", "KTS", "XHS"]
YEARS = (2022, 2023)
BEFORE_MERGER = dt.date(2025, 6, 30)
SEED = 16063  # Lạng Sơn ranked 16/63 in 2021


def seed_dti(session: Session, *, province_code: str) -> int:
    """Import the illustrative tables once; returns the number of provinces ranked."""
    if set(YEARS) <= set(result_years(session)):
        return 0
    provinces = _provinces(session)
    rng = np.random.default_rng(SEED)
    skill = rng.normal(0, 1, len(provinces))
    folder = get_settings().data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    for offset, year in enumerate(YEARS):
        path = _write_table(folder / f"dti_{year}_minh_hoa.csv", provinces, skill, offset, rng)
        import_results(session, path, framework_code=FRAMEWORK, year=year,
                       access=Access.system(session, "demo"),
                       source="demo: dữ liệu minh họa / illustrative demo data")
    _assessment(session, province_code)
    return len(provinces)


def _provinces(session: Session) -> list[tuple[str, str]]:
    """The 63 provinces valid before 1/7/2025 (DTI 922 years), by code."""
    level_one = select(UnitKind.code).where(UnitKind.level == 1)
    rows = session.execute(select(OrgUnit.code, OrgUnit.name).where(
        OrgUnit.kind.in_(level_one), OrgUnit.valid_from <= BEFORE_MERGER,
        (OrgUnit.valid_to.is_(None)) | (OrgUnit.valid_to >= BEFORE_MERGER))
        .order_by(OrgUnit.code)).all()
    return [(code, name) for code, name in rows]


def _write_table(path: Path, provinces: list[tuple[str, str]], skill: np.ndarray,
                 offset: int, rng: np.random.Generator) -> Path:
    base = np.array([0.62, 0.70, 0.58, 0.45, 0.50, 0.60, 0.42, 0.40]) + 0.03 * offset
    values = base + 0.11 * skill[:, None] + rng.normal(0, 0.05, (len(provinces), len(MAIN)))
    values = np.clip(values, 0.05, 1.0)
    lines = ["# DỮ LIỆU MINH HỌA, không phải kết quả công bố / ILLUSTRATIVE, not published",
             "ma_tinh,ten_tinh," + ",".join(MAIN)]
    for (code, name), row in zip(provinces, values, strict=True):
        lines.append(f"{code},{name}," + ",".join(f"{v:.4f}" for v in row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _assessment(session: Session, province_code: str) -> None:
    """Lạng Sơn's 2023 self-assessment round, half filled in."""
    access = Access.system(session, "demo")
    assessment = open_assessment(session, get_framework(session, FRAMEWORK), 2023,
                                 province_code, access=access)
    for position, criterion in enumerate(sorted(assessment.criteria, key=lambda c: c.code)):
        if position % 2 == 0:
            update_criterion(session, criterion, access=access,
                             self_score=round(criterion.max_points * 0.7),
                             status="in_progress")
