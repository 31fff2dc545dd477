"""A realistic, deterministic synthetic one-stop feed for a province or the whole country.

Volumes follow the size of each commune (population, else area); the online share grows
over the months from about a third to about three quarters, unevenly between communes;
the month of Tết has about half the dossiers and December is busy; some dossiers finish
late, recent ones are still open, and a share is sent twice (first while in progress,
then finished) in shuffled order, so only `updated_at` tells which version is current.
Generated month by month with a seeded generator, so memory stays at one month's rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.errors import NotFound, UnsupportedType
from chiso.units.models import OrgUnit, UnitKind

# (name, field, service level, processing days, fee in VND or 0)
COMMUNE_PROCEDURES = [
    ("Đăng ký khai sinh", "Hộ tịch", "toan_trinh", 1, 0),
    ("Đăng ký khai tử", "Hộ tịch", "toan_trinh", 1, 0),
    ("Đăng ký kết hôn", "Hộ tịch", "mot_phan", 3, 0),
    ("Cấp bản sao trích lục hộ tịch", "Hộ tịch", "toan_trinh", 1, 8000),
    ("Xác nhận tình trạng hôn nhân", "Hộ tịch", "toan_trinh", 3, 0),
    ("Đăng ký thay đổi, cải chính hộ tịch", "Hộ tịch", "mot_phan", 3, 15000),
    ("Liên thông khai sinh, thường trú, bảo hiểm y tế", "Hộ tịch", "toan_trinh", 5, 0),
    ("Chứng thực bản sao từ bản chính", "Chứng thực", "toan_trinh", 1, 2000),
    ("Chứng thực chữ ký", "Chứng thực", "khong", 1, 10000),
    ("Chứng thực hợp đồng, giao dịch", "Chứng thực", "khong", 2, 50000),
    ("Đăng ký biến động đất đai", "Đất đai", "mot_phan", 10, 30000),
    ("Cấp giấy chứng nhận quyền sử dụng đất lần đầu", "Đất đai", "mot_phan", 15, 100000),
    ("Chuyển mục đích sử dụng đất", "Đất đai", "mot_phan", 15, 0),
    ("Cấp giấy phép xây dựng nhà ở riêng lẻ", "Xây dựng", "mot_phan", 15, 75000),
    ("Đăng ký hộ kinh doanh", "Thành lập và hoạt động hộ kinh doanh", "toan_trinh", 3,
     100000),
    ("Thay đổi nội dung đăng ký hộ kinh doanh", "Thành lập và hoạt động hộ kinh doanh",
     "toan_trinh", 3, 50000),
    ("Trợ cấp xã hội hằng tháng", "Bảo trợ xã hội", "mot_phan", 15, 0),
    ("Hỗ trợ chi phí mai táng", "Bảo trợ xã hội", "mot_phan", 5, 0),
    ("Xác nhận hộ nghèo, hộ cận nghèo", "Bảo trợ xã hội", "khong", 7, 0),
    ("Giải quyết khiếu nại lần đầu", "Giải quyết khiếu nại", "khong", 30, 0),
]
PROVINCE_PROCEDURES = [
    ("Cấp lý lịch tư pháp", "Lý lịch tư pháp", "toan_trinh", 10, 200000),
    ("Đăng ký thành lập doanh nghiệp", "Thành lập và hoạt động doanh nghiệp", "toan_trinh",
     3, 50000),
    ("Đăng ký thay đổi nội dung doanh nghiệp", "Thành lập và hoạt động doanh nghiệp",
     "toan_trinh", 3, 50000),
    ("Cấp giấy phép lái xe", "Đường bộ", "mot_phan", 10, 135000),
    ("Đổi giấy phép lái xe", "Đường bộ", "toan_trinh", 5, 135000),
    ("Cấp giấy phép xây dựng công trình", "Xây dựng", "mot_phan", 20, 150000),
    ("Thẩm định thiết kế xây dựng", "Xây dựng", "mot_phan", 20, 500000),
    ("Cấp chứng chỉ hành nghề khám chữa bệnh", "Khám bệnh, chữa bệnh", "mot_phan", 20,
     360000),
    ("Cấp giấy phép kinh doanh thuốc", "Dược phẩm", "mot_phan", 20, 500000),
    ("Cấp giấy phép lao động cho người nước ngoài", "Việc làm", "toan_trinh", 5, 400000),
    ("Giải quyết hưởng trợ cấp thất nghiệp", "Việc làm", "mot_phan", 20, 0),
    ("Cấp phép khai thác nước mặt", "Tài nguyên nước", "khong", 30, 600000),
    ("Thẩm định báo cáo đánh giá tác động môi trường", "Môi trường", "mot_phan", 30, 0),
    ("Công nhận trường đạt chuẩn quốc gia", "Giáo dục", "khong", 30, 0),
    ("Cấp giấy phép hoạt động xuất bản bản tin", "Báo chí, xuất bản", "toan_trinh", 10,
     0),
    ("Cấp chứng nhận đủ điều kiện an toàn thực phẩm", "An toàn thực phẩm", "mot_phan", 15,
     700000),
]
# Tết Nguyên đán: its month has about half the usual dossiers.
TET = {2022: 2, 2023: 1, 2024: 2, 2025: 1, 2026: 2, 2027: 2, 2028: 1, 2029: 2, 2030: 2}
SEASON = np.array([1.05, 1.0, 1.05, 1.0, 1.0, 0.95, 0.9, 1.0, 1.05, 1.05, 1.1, 1.2])
ONLINE_CHANNEL, DIRECT, POSTAL = "truc_tuyen", "truc_tiep", "buu_chinh"


@dataclass
class GenerateResult:
    path: Path
    procedures_path: Path
    rows: int
    units: int
    months: list[int]


@dataclass
class Receiver:
    code: str
    weight: float
    level: str  # procedure level it handles: xa | tinh
    fields: tuple[str, ...]  # a department handles a few fields; a commune all


def procedure_catalogue() -> pl.DataFrame:
    rows = [(f"1.00{i:04d}.000.00.00.H{'X' if lvl == 'xa' else 'T'}", name, lvl, level,
             field, days, fee)
            for lvl, table in (("xa", COMMUNE_PROCEDURES), ("tinh", PROVINCE_PROCEDURES))
            for i, (name, field, level, days, fee) in enumerate(table, 1 if lvl == "xa"
                                                                  else 501)]
    return pl.DataFrame(rows, orient="row", schema={
        "code": pl.String, "name": pl.String, "level": pl.String, "service_level": pl.String,
        "field": pl.String, "days": pl.Int32, "fee": pl.Int64})


def write_procedure_csv(path: Path) -> Path:
    catalogue = procedure_catalogue()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "name", "level", "service_level", "field"])
        writer.writerows(catalogue.select("code", "name", "level", "service_level",
                                          "field").rows())
    return path


def receivers(session: Session, *, province: str | None, on: dt.date) -> list[Receiver]:
    """Communes (kind level 3) and departments (level 2) valid on `on`, of one province or
    of all; sized by population, else area, else equally."""
    kinds = {k.code: k.level for k in session.scalars(select(UnitKind))}
    units = session.scalars(select(OrgUnit).where(
        OrgUnit.valid_from <= on, (OrgUnit.valid_to.is_(None)) | (OrgUnit.valid_to >= on))).all()
    by_id = {u.id: u for u in units}
    fields = sorted({p[1] for p in PROVINCE_PROCEDURES})
    found, departments = [], 0
    for unit in units:
        level = kinds.get(unit.kind, 0)
        if level not in (2, 3) or not _under(unit, province, by_id):
            continue
        if level == 3:
            size = unit.population or (unit.area_km2 or 50.0) * 120
            found.append(Receiver(unit.code, float(size), "xa", ()))
        elif _is_leaf(unit, units):
            chosen = tuple(fields[(departments + i) % len(fields)] for i in range(3))
            departments += 1
            found.append(Receiver(unit.code, 40000.0, "tinh", chosen))
    return sorted(found, key=lambda r: r.code)


def _under(unit: OrgUnit, province: str | None, by_id: dict[int, OrgUnit]) -> bool:
    if province is None:
        return True
    current: OrgUnit | None = unit
    while current is not None:
        if current.code == province and current.parent_id is None:
            return True
        current = by_id.get(current.parent_id) if current.parent_id else None
    return False


def _is_leaf(unit: OrgUnit, units: Sequence[OrgUnit]) -> bool:
    return not any(u.parent_id == unit.id for u in units)


def month_list(end: dt.date, count: int) -> list[int]:
    year, month = end.year, end.month
    months = []
    for _ in range(count):
        months.append(year * 100 + month)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def month_weights(months: list[int]) -> np.ndarray:
    weights = []
    for index, month in enumerate(months):
        year, mon = divmod(month, 100)
        weight = SEASON[mon - 1] * (1 + 0.01 * index)
        if TET.get(year) == mon:
            weight *= 0.55
        weights.append(weight)
    array = np.array(weights)
    return array / array.sum()


@dataclass(frozen=True)
class Adoption:
    """How far the province has come over the feed's months: the share of dossiers filed
    online and the share digitised, at the first and the last month (a logistic curve
    between them for online filing, a straight line for digitisation)."""

    online: tuple[float, float] = (0.31, 0.77)
    digitised: tuple[float, float] = (0.35, 0.85)


def generate(session: Session, out: Path, *, province: str | None, months: int, seed: int,
             rows: int | None = None, end: dt.date, progress: Callable[[int], None] | None = None,
             adoption: Adoption = Adoption()) -> GenerateResult:
    """Write the feed to `out` (.parquet, .csv or .jsonl) and the procedure catalogue to
    `<out>.procedures.csv`. `rows` defaults to about 25 dossiers per 1,000 people a month."""
    units = receivers(session, province=province, on=end)
    if not units:
        raise NotFound(f"Không có xã/sở nào thuộc '{province}'",
                       f"no communes or departments under '{province}'")
    month_ids = month_list(end, months)
    weights = np.array([u.weight for u in units])
    total = rows or int(weights.sum() * 0.025 * months)
    per_month = np.floor(month_weights(month_ids) * total).astype(int)
    per_month[-1] += total - per_month.sum()
    catalogue = procedure_catalogue()
    procedures_path = write_procedure_csv(out.with_name(out.name.split(".")[0]
                                                        + ".procedures.csv"))
    writer = _Writer(out)
    written = 0
    try:
        for index, (month, count) in enumerate(zip(month_ids, per_month, strict=True)):
            rng = np.random.default_rng([seed, index])
            frame = _month_frame(rng, units, weights, catalogue, month, index, len(month_ids),
                                 int(count), end, adoption)
            writer.write(frame)
            written += frame.height
            if progress:
                progress(frame.height)
    finally:
        writer.close()
    return GenerateResult(out, procedures_path, written, len(units), month_ids)


def _month_frame(rng: np.random.Generator, units: list[Receiver], weights: np.ndarray,
                 catalogue: pl.DataFrame, month: int, index: int, n_months: int, count: int,
                 end: dt.date, adoption: Adoption) -> pl.DataFrame:
    unit_idx = rng.choice(len(units), size=count, p=weights / weights.sum())
    proc_idx = _procedures_for(rng, units, unit_idx, catalogue)
    level = catalogue.get_column("service_level").to_numpy()[proc_idx]
    days = catalogue.get_column("days").to_numpy()[proc_idx]
    fee = catalogue.get_column("fee").to_numpy()[proc_idx]
    received = _received_times(rng, month, count)
    progress_share = index / max(n_months - 1, 1)
    # Each unit has its own pace of adoption around the province-wide curve.
    unit_effect = np.random.default_rng(len(units)).normal(0, 0.6, len(units))[unit_idx]
    first, last = (math.log(p / (1 - p)) for p in adoption.online)
    logit = first + (last - first) * progress_share + unit_effect
    online_p = 1 / (1 + np.exp(-logit))
    capable = level != "khong"
    draw = rng.random(count)
    channel = np.where(capable & (draw < online_p), ONLINE_CHANNEL,
                       np.where(rng.random(count) < 0.06, POSTAL, DIRECT))
    online = channel == ONLINE_CHANNEL
    due = received + (days * 86400 * 1.4).astype("timedelta64[s]")
    age_days = (np.datetime64(end) - received.astype("datetime64[D]")).astype(int)
    finished_mask = rng.random(count) < np.clip(age_days / (days * 2.0 + 5), 0, 0.985)
    spent = days * 86400 * rng.lognormal(-0.35, 0.45, count)
    finished = received + spent.astype("timedelta64[s]")
    finished_mask &= finished < np.datetime64(end)
    low, high = adoption.digitised
    digitised = rng.random(count) < (low + (high - low) * progress_share)
    e_result = finished_mask & (rng.random(count) < np.where(online, 0.85, 0.4))
    fee_due = np.where(fee > 0, fee, 0)
    paid_online = (fee_due > 0) & (rng.random(count) < np.where(online, 0.7, 0.03))
    codes = np.array([u.code for u in units])[unit_idx]
    frame = pl.DataFrame({
        "dossier_code": pl.Series(np.arange(count)).cast(pl.String),
        "procedure_code": catalogue.get_column("code").to_numpy()[proc_idx],
        "unit_code": codes,
        "received_at": received.astype("datetime64[us]"),
        "channel": channel,
        "service_level": level,
        "status": np.where(finished_mask, "da_tra_ket_qua", "dang_xu_ly"),
        "due_at": due.astype("datetime64[us]"),
        "finished_at": np.where(finished_mask, finished, np.datetime64("NaT")).astype(
            "datetime64[us]"),
        "electronic_result": e_result,
        "digitised": digitised,
        "paid_online": paid_online,
        "fee_due": fee_due.astype(float),
    }).with_columns(
        pl.concat_str([pl.lit("H"), pl.col("unit_code"), pl.lit(f"-{month}-"),
                       pl.col("dossier_code").str.zfill(7)]).alias("dossier_code"),
        pl.coalesce("finished_at", "received_at").alias("updated_at"),
    )
    return _with_resent_versions(rng, frame)


def _procedures_for(rng: np.random.Generator, units: list[Receiver], unit_idx: np.ndarray,
                    catalogue: pl.DataFrame) -> np.ndarray:
    """A popular-first (Zipf-like) choice among the procedures each receiver handles."""
    levels = catalogue.get_column("level").to_numpy()
    fields = catalogue.get_column("field").to_numpy()
    result = np.empty(len(unit_idx), dtype=np.int64)
    groups: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for position, unit in enumerate(units):
        groups.setdefault((unit.level, unit.fields), []).append(position)
    for (level, wanted), members in groups.items():
        allowed = np.flatnonzero((levels == level) & (
            np.isin(fields, list(wanted)) if wanted else True))
        popularity = 1 / np.arange(1, len(allowed) + 1) ** 0.9
        rows = np.flatnonzero(np.isin(unit_idx, members))
        result[rows] = rng.choice(allowed, size=len(rows), p=popularity / popularity.sum())
    return result


def _received_times(rng: np.random.Generator, month: int, count: int) -> np.ndarray:
    year, mon = divmod(month, 100)
    start = np.datetime64(dt.date(year, mon, 1), "s")
    days = (dt.date(year + mon // 12, mon % 12 + 1, 1) - dt.date(year, mon, 1)).days
    offsets = (rng.integers(0, days, count) * 86400 + rng.integers(7 * 3600 + 1800,
                                                                    17 * 3600, count))
    return start + offsets.astype("timedelta64[s]")


def _with_resent_versions(rng: np.random.Generator, frame: pl.DataFrame) -> pl.DataFrame:
    """About 8 % of finished dossiers were first sent while in progress; shuffle so the
    old version often comes after the new one."""
    finished = frame.filter(pl.col("finished_at").is_not_null())
    picked = finished.filter(pl.Series(rng.random(finished.height) < 0.08))
    earlier = picked.with_columns(
        pl.lit("dang_xu_ly").alias("status"), pl.lit(None, pl.Datetime("us")).alias(
            "finished_at"), pl.lit(False).alias("electronic_result"),
        pl.col("received_at").alias("updated_at"))
    both = pl.concat([frame.with_columns(pl.col("finished_at").cast(pl.Datetime("us")),
                                         pl.col("received_at", "due_at", "updated_at")
                                         .cast(pl.Datetime("us"))),
                      earlier.with_columns(pl.col("received_at", "due_at", "updated_at")
                                           .cast(pl.Datetime("us")))])
    order = rng.permutation(both.height)
    return both[order]


def monthly_batches(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """The feed as a province's one-stop system sends it month by month: a dossier is sent
    in the month it is received — still in progress unless it also finished that month —
    and again in the month it finishes; each month's batch (yyyymm → frame) holds the
    versions updated in that month, so no batch knows what happened after it. Ingested in
    order, the batches leave the same dossiers as the whole feed at once."""
    finished_later = pl.col("finished_at").is_not_null() & (
        _civil_month("finished_at") != _civil_month("received_at"))
    as_received = frame.filter(finished_later).with_columns(
        pl.lit("dang_xu_ly").alias("status"), pl.lit(None, pl.Datetime("us")).alias(
            "finished_at"), pl.lit(False).alias("electronic_result"),
        pl.col("received_at").alias("updated_at"))
    # A dossier the generator already sent while in progress has that version once.
    versions = pl.concat([frame, as_received]).unique(
        subset=["dossier_code", "updated_at"], keep="first", maintain_order=True)
    parts = versions.with_columns(_civil_month("updated_at").alias("_month")).partition_by(
        "_month", as_dict=True, include_key=False)
    return {int(month): parts[(month,)] for (month,) in sorted(parts)}


def _civil_month(column: str) -> pl.Expr:
    return pl.col(column).dt.year() * 100 + pl.col(column).dt.month().cast(pl.Int32)


class _Writer:
    """Appends month frames to one Parquet, CSV or JSON Lines file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kind = path.suffix.lower().lstrip(".")
        self.parquet: pq.ParquetWriter | None = None
        self.first = True
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.kind not in ("parquet", "csv", "jsonl"):
            raise UnsupportedType("Chỉ ghi .parquet, .csv hoặc .jsonl",
                                  "only .parquet, .csv or .jsonl can be written")
        if self.kind != "parquet":
            path.write_bytes(b"")

    def write(self, frame: pl.DataFrame) -> None:
        if self.kind == "parquet":
            table = frame.to_arrow()
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self.parquet.write_table(table, row_group_size=262144)
        else:
            text = frame.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S"))
            with self.path.open("a", encoding="utf-8") as handle:
                if self.kind == "csv":
                    text.write_csv(handle, include_header=self.first)
                else:
                    text.write_ndjson(handle)
        self.first = False

    def close(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
