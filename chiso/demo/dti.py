"""The demo's DTI: the published results chiso ships (real, each with its document) and,
where the ministry's figures were not transcribed, invented main-indicator values so that
the ranking, profile, what-if and bottleneck pages have a field to work in — plus Lạng
Sơn's self-assessment round for 2023.

Invented figures are stored with the source "demo: …", so every page, the API and the CLI
mark them "Số liệu minh họa / illustrative". They are made to agree with what was
published: a province's invented values add up to an index that falls in its published
rank (and to its published index where one is known, e.g. Trà Vinh 2022), so the real and
the invented columns never contradict each other. 2024 (DTI 405, points unknown) stays
real only: nothing is invented for it."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.dti.assessment import open_assessment, update_criterion
from chiso.dti.framework import Framework
from chiso.dti.models import DtiResult
from chiso.dti.service import (
    ILLUSTRATIVE,
    ResultMatrix,
    get_framework,
    import_results,
    is_illustrative,
    load_published_results,
    rank_matrix,
    register_names,
    result_matrix,
)
from chiso.settings import get_settings
from chiso.text import spreadsheet_safe
from chiso.units.models import OrgUnit, UnitKind

FRAMEWORK = "DTI_TINH_922"
YEARS = (2022, 2023)
SEED = 16063
SOURCE = f"{ILLUSTRATIVE}: số liệu minh họa của bản demo, không phải kết quả công bố / " \
    "invented by the demo, not published"
# Where a year's invented indices run between (top of the invented part, bottom rank).
SPAN = {2022: (None, 0.45), 2023: (0.79, 0.50)}
# Relative strength of the eight main indicators, from the published 2022 top five.
PROFILE = np.array([0.92, 0.88, 0.76, 0.70, 0.64, 0.82, 0.71, 0.39])


@dataclass
class DemoDti:
    provinces: int  # provinces in the demo's 922 tables
    invented: int  # province-years whose main indicators the demo invented
    published_files: int  # shipped published tables loaded


def seed_dti(session: Session, *, province_code: str, access: Access) -> DemoDti:
    """Load the shipped published tables, invent what is missing for 2022–2023 (once),
    and open the province's 2023 self-assessment round."""
    loaded = load_published_results(session)
    framework = get_framework(session, FRAMEWORK)
    provinces = _provinces(session, dt.date(2023, 12, 31))
    rng = np.random.default_rng(SEED)
    invented = 0
    for year in YEARS:
        invented += _invent_year(session, framework, year, provinces, rng, access)
    _assessment(session, framework, province_code, access)
    return DemoDti(len(provinces), invented, loaded)


def _provinces(session: Session, day: dt.date) -> list[str]:
    """The provinces valid on a day (the 63 of DTI 922's years), by code."""
    level_one = select(UnitKind.code).where(UnitKind.level == 1)
    return sorted(set(session.scalars(select(OrgUnit.code).where(
        OrgUnit.kind.in_(level_one), OrgUnit.valid_from <= day,
        (OrgUnit.valid_to.is_(None)) | (OrgUnit.valid_to >= day)))))


def _invent_year(session: Session, framework: Framework, year: int, provinces: list[str],
                 rng: np.random.Generator, access: Access) -> int:
    """Invent the main indicators of the provinces that have none for `year`."""
    known = result_matrix(session, framework, year)
    if any(is_illustrative(s) for s in _sources(session, framework, year)):
        return 0  # invented on an earlier run: a rebuild changes nothing
    missing = [p for p in provinces if p not in known.unit_codes
               or np.isnan(known.raw[known.unit_codes.index(p)]).all()]
    if not missing:
        return 0
    targets = _target_indices(known, provinces, year, rng)
    names = register_names(session, missing, dt.date(year, 12, 31))
    rows = [(code, names.get(code, code), _values(framework, targets[code], rng))
            for code in missing]
    path = _write(rows, framework, year)
    import_results(session, path, framework_code=framework.code, year=year, source=SOURCE,
                   access=access)
    return len(rows)


def _sources(session: Session, framework: Framework, year: int) -> set[str]:
    return set(session.scalars(select(DtiResult.source).where(
        DtiResult.framework_code == framework.code, DtiResult.year == year,
        DtiResult.is_current).distinct()))


def _target_indices(known: ResultMatrix, provinces: list[str], year: int,
                    rng: np.random.Generator) -> dict[str, float]:
    """An index for every province that agrees with what was published: real indices
    where known, else a value between its published neighbours' (ties share a value),
    provinces without a published rank put in the places nobody published."""
    result = rank_matrix(known)
    published = {c: (result.published_rank[i], result.published_total[i])
                 for i, c in enumerate(result.unit_codes)}
    real = {c: float(result.total[i]) for i, c in enumerate(result.unit_codes)
            if not np.isnan(result.total[i])}
    real |= {c: float(t) for c, (_, t) in published.items() if not np.isnan(t)}
    order = _order(provinces, published, rng)
    top, bottom = SPAN[year]
    anchors = {position: real[c] for position, c in enumerate(order) if c in real}
    first = top if top is not None else max(anchors.values())
    anchors.setdefault(0, first)
    anchors.setdefault(len(order) - 1, bottom)
    positions = sorted(anchors)
    curve = np.interp(np.arange(len(order)), positions, [anchors[p] for p in positions])
    targets = {c: round(float(v), 4) for c, v in zip(order, curve, strict=True)}
    for rank in {r for r, _ in published.values() if not np.isnan(r)}:
        tied = [c for c, (r, _) in published.items() if r == rank]
        for code in tied[1:]:  # published ties ("15, 15, 17") share an index
            targets[code] = targets[tied[0]]
    return targets | {c: round(v, 4) for c, v in real.items()}


def _order(provinces: list[str], published: dict[str, tuple[float, float]],
           rng: np.random.Generator) -> list[str]:
    """Provinces from first to last: by published rank, the unranked ones shuffled into
    the places nobody published."""
    ranked = sorted((c for c in provinces if c in published and not np.isnan(published[c][0])),
                    key=lambda c: published[c][0])
    others = [c for c in provinces if c not in ranked]
    rng.shuffle(others)
    slots: list[str | None] = [None] * len(provinces)
    last = -1
    for code in ranked:  # tied ranks ("15, 15, 17") take consecutive places
        last = min(max(int(published[code][0]) - 1, last + 1), len(slots) - 1)
        slots[last] = code
    fill = iter(others)
    order = [code if code is not None else next(fill) for code in slots]
    return order + list(fill)


def _values(framework: Framework, target: float, rng: np.random.Generator) -> list[float]:
    """Eight main-indicator values in [0, 1] whose index is `target` at four decimals:
    a profile scaled until the index reaches the target (values capped at 1), then the
    heaviest indicator below 1 corrected by the rounding remainder."""
    mains = [n for n in framework.main_indicators if n.weight]
    weights = np.array([float(n.weight or 0) for n in mains]) / framework.total_points
    shape = np.clip(PROFILE * rng.uniform(0.85, 1.15, len(mains)), 0.05, None)
    low, high = 0.0, 1.0 / float(shape.min())
    for _ in range(60):  # bisection on the scale: the index rises with it
        scale = (low + high) / 2
        if float(np.minimum(shape * scale, 1.0) @ weights) < target:
            low = scale
        else:
            high = scale
    values = np.round(np.minimum(shape * high, 1.0), 4)
    free = [i for i in np.argsort(-weights) if values[i] < 1.0]
    if free:
        k = int(free[0])
        correction = (target - float(values @ weights)) / weights[k]
        values[k] = round(float(np.clip(values[k] + correction, 0.0, 1.0)), 4)
    return [float(v) for v in values]


def _write(rows: list[tuple[str, str, list[float]]], framework: Framework, year: int) -> Path:
    folder = get_settings().data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"dti_{year}_minh_hoa.csv"
    codes = [n.code for n in framework.main_indicators if n.weight]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("# DỮ LIỆU MINH HỌA, không phải kết quả công bố / ILLUSTRATIVE, not "
                     "published\n")
        writer = csv.writer(handle)
        writer.writerow(["Mã tỉnh", "Tỉnh", *codes])
        for code, name, values in rows:
            writer.writerow([spreadsheet_safe(code), spreadsheet_safe(name),
                             *(f"{v:.4f}" for v in values)])
    return path


def _assessment(session: Session, framework: Framework, province_code: str,
                access: Access) -> None:
    """Lạng Sơn's 2023 self-assessment round, half filled in (scores invented: the pages
    mark the round illustrative while the demo's entries stand)."""
    assessment = open_assessment(session, framework, 2023, province_code, access=access)
    for position, criterion in enumerate(sorted(assessment.criteria, key=lambda c: c.code)):
        if position % 2 == 0:
            update_criterion(session, criterion, access=access,
                             self_score=round(criterion.max_points * 0.7),
                             status="in_progress")
