"""Validation rules as data (YAML shipped, rows editable) and outlier detection.

A rule compares two expressions over the figures of one unit and one period; all rules
are evaluated at once on a wide frame (one row per unit × period, one column per term),
so a province's thousands of figures are checked in a few polars passes. Outliers are
found against the unit's own history and against its peers (same kind, same period) with
a robust z-score (median and MAD) and stored as follow-up flags; nothing is dropped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.collection.models import ValidationRule, ValueFlag
from chiso.errors import UserError
from chiso.text import nfc

RULES_FILE = Path(__file__).parent / "data" / "rules.yaml"
OPERATORS = {"<=": "le", "<": "lt", ">=": "ge", ">": "gt", "==": "eq", "!=": "ne"}
MISSING = ("skip_if_any_missing", "skip_if_all_missing", "never_skip")
IMPORTANCE = ("high", "medium", "low")
_TOKEN = re.compile(r"\s*(?:(\d+(?:[.,]\d+)?)|([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*"
                    r"(?:\.(?:numerator|denominator|value))?)|(.))")
EQUAL_TOLERANCE = 1e-6
Z_THRESHOLD = 3.5  # Iglewicz & Hoaglin's cut-off for the modified z-score
MIN_HISTORY = 4
MIN_PEERS = 5


class RuleError(UserError):
    """A validation rule spec that cannot be used (422)."""


# ------------------------------------------------------------------ parsing expressions


def terms_of(expression: str) -> list[str]:
    """Column names a side refers to: 'CODE.numerator', 'CODE.denominator', 'CODE.value'."""
    return [_term_column(term) for _number, term, _other in _TOKEN.findall(expression)
            if term]


def _term_column(term: str) -> str:
    if term.endswith((".numerator", ".denominator", ".value")):
        return term
    return f"{term}.value"


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens = []
    for number, term, other in _TOKEN.findall(expression):
        if number:
            tokens.append(("num", number.replace(",", ".")))
        elif term:
            tokens.append(("term", _term_column(term)))
        elif other.strip():
            if other not in "+-*/()":
                raise RuleError(f"ký tự '{other}' không hợp lệ trong '{expression}'",
                                f"character '{other}' is not allowed in '{expression}'")
            tokens.append(("op", other))
    return tokens


def to_expr(expression: str, fill_zero: bool = False) -> pl.Expr:
    """'CQS.X.numerator + 5' → a polars expression over the wide frame's columns."""
    tokens = _tokens(expression)
    position = 0

    def peek() -> tuple[str, str] | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal position
        if position >= len(tokens):
            raise RuleError(f"biểu thức '{expression}' chưa hết", f"'{expression}' is "
                            "incomplete")
        position += 1
        return tokens[position - 1]

    def atom() -> pl.Expr:
        kind, text = take()
        if kind == "num":
            return pl.lit(float(text))
        if kind == "term":
            column = pl.col(text)
            return column.fill_null(0.0) if fill_zero else column
        if text == "(":
            inner = sum_()
            take()
            return inner
        if text == "-":
            return -atom()
        raise RuleError(f"không hiểu '{text}' trong '{expression}'",
                        f"unexpected '{text}' in '{expression}'")

    def product() -> pl.Expr:
        left = atom()
        while (token := peek()) and token[1] in ("*", "/"):
            take()
            right = atom()
            left = left * right if token[1] == "*" else left / right
        return left

    def sum_() -> pl.Expr:
        left = product()
        while (token := peek()) and token[1] in ("+", "-"):
            take()
            right = product()
            left = left + right if token[1] == "+" else left - right
        return left

    result = sum_()
    if position != len(tokens):
        raise RuleError(f"thừa '{tokens[position][1]}' trong '{expression}'",
                        f"unexpected '{tokens[position][1]}' in '{expression}'")
    return result


# ------------------------------------------------------------------ rules as data


def check_rule_spec(spec: dict[str, Any]) -> dict[str, Any]:
    operator = str(spec.get("operator", ""))
    if operator not in OPERATORS:
        raise RuleError(f"phép so sánh '{operator}' không hợp lệ",
                        f"operator '{operator}' is not one of {', '.join(OPERATORS)}")
    missing = spec.get("missing", "skip_if_any_missing")
    importance = spec.get("importance", "medium")
    if missing not in MISSING or importance not in IMPORTANCE:
        raise RuleError("giá trị 'missing' hoặc 'importance' không hợp lệ",
                        "'missing' or 'importance' is not valid")
    to_expr(str(spec["left"]))
    to_expr(str(spec["right"]))
    return {"code": nfc(spec["code"]).upper(), "left": str(spec["left"]),
            "operator": operator, "right": str(spec["right"]), "importance": importance,
            "message_vi": nfc(spec["message_vi"]), "message_en": nfc(spec["message_en"]),
            "missing_strategy": missing}


def load_rules(session: Session, path: Path = RULES_FILE, *, access: Access) -> int:
    """Create or update rules from YAML (idempotent); returns how many changed. Rules hold
    for every unit: MANAGE system-wide (the operator's CLI, the shipped loader)."""
    access.require(Action.MANAGE)
    changed = 0
    for spec in yaml.safe_load(path.read_text("utf-8")) or []:
        fields = check_rule_spec(spec)
        row = session.scalar(select(ValidationRule).where(ValidationRule.code == fields["code"]))
        if row is not None and all(getattr(row, k) == v for k, v in fields.items()):
            continue
        before = {k: getattr(row, k) for k in fields} if row is not None else None
        if row is None:
            row = ValidationRule(**fields)
            session.add(row)
        else:
            for key, value in fields.items():
                setattr(row, key, value)
        session.flush()
        record_event(session, action="rule.save", object_type="validation_rule",
                     object_id=row.id, actor=access.actor, before=before, after=fields)
        changed += 1
    return changed


def active_rules(session: Session) -> list[ValidationRule]:
    return list(session.scalars(select(ValidationRule).where(ValidationRule.active.is_(True))
                                .order_by(ValidationRule.code)))


# ------------------------------------------------------------------ evaluation

VIOLATION_SCHEMA = pl.Schema({"unit_id": pl.Int64(), "period": pl.String(), "rule": pl.String(),
                    "importance": pl.String(), "left_value": pl.Float64(),
                    "right_value": pl.Float64(), "message_vi": pl.String(),
                    "message_en": pl.String(), "indicators": pl.List(pl.String())})


def wide(values: pl.DataFrame) -> pl.DataFrame:
    """Long figures (unit_id, period, indicator_code, numerator, denominator, value) → one
    row per unit × period with columns 'CODE.numerator', 'CODE.denominator', 'CODE.value'."""
    long = values.select("unit_id", "period", "indicator_code", "numerator", "denominator",
                         "value").unpivot(index=["unit_id", "period", "indicator_code"],
                                          variable_name="part", value_name="number")
    long = long.with_columns(term=pl.col("indicator_code") + "." + pl.col("part"))
    return long.pivot(on="term", index=["unit_id", "period"], values="number",
                      aggregate_function="first")


def evaluate(rules: list[ValidationRule], values: pl.DataFrame) -> pl.DataFrame:
    """Every violation of every rule, one row per unit × period × rule."""
    if values.is_empty() or not rules:
        return pl.DataFrame(schema=VIOLATION_SCHEMA)
    frame = wide(values.with_columns(pl.col("numerator", "denominator", "value")
                                     .cast(pl.Float64)))
    found = [_violations(rule, frame) for rule in rules]
    return pl.concat([f for f in found if not f.is_empty()] or
                     [pl.DataFrame(schema=VIOLATION_SCHEMA)])


def _violations(rule: ValidationRule, frame: pl.DataFrame) -> pl.DataFrame:
    terms = terms_of(rule.left) + terms_of(rule.right)
    missing_columns = [t for t in terms if t not in frame.columns]
    frame = frame.with_columns(pl.lit(None, pl.Float64).alias(t) for t in missing_columns)
    present = [pl.col(t).is_not_null() for t in terms]
    if rule.missing_strategy == "skip_if_any_missing":
        applies = pl.all_horizontal(present) if present else pl.lit(True)
    elif rule.missing_strategy == "skip_if_all_missing":
        applies = pl.any_horizontal(present) if present else pl.lit(True)
    else:
        applies = pl.lit(True)
    fill = rule.missing_strategy != "skip_if_any_missing"
    left, right = to_expr(rule.left, fill), to_expr(rule.right, fill)
    holds = _compare(left, rule.operator, right)
    hits = frame.with_columns(left_value=left, right_value=right).filter(
        applies & ~holds.fill_null(True))
    codes = sorted({t.rsplit(".", 1)[0] for t in terms})
    return hits.select(
        pl.col("unit_id").cast(pl.Int64), pl.col("period").cast(pl.String),
        pl.lit(rule.code).alias("rule"), pl.lit(rule.importance).alias("importance"),
        pl.col("left_value").cast(pl.Float64), pl.col("right_value").cast(pl.Float64),
        pl.lit(rule.message_vi).alias("message_vi"), pl.lit(rule.message_en).alias("message_en"),
        pl.lit(codes, pl.List(pl.String)).alias("indicators"))


def _compare(left: pl.Expr, operator: str, right: pl.Expr) -> pl.Expr:
    tolerance = EQUAL_TOLERANCE * pl.max_horizontal(pl.lit(1.0), left.abs(), right.abs())
    return {
        "<=": left <= right + tolerance, "<": left < right, ">=": left + tolerance >= right,
        ">": left > right, "==": (left - right).abs() <= tolerance,
        "!=": (left - right).abs() > tolerance,
    }[operator]


# ------------------------------------------------------------------ outliers


def robust_z(column: str, over: list[str]) -> pl.Expr:
    """Modified z-score 0.6745·(x − median)/MAD within each group; null when MAD is 0."""
    median = pl.col(column).median().over(over)
    mad = (pl.col(column) - median).abs().median().over(over)
    return pl.when(mad > 0).then(0.6745 * (pl.col(column) - median) / mad)


def outliers(values: pl.DataFrame) -> pl.DataFrame:
    """values: unit_id, unit_kind, indicator_id, period, period_type, value → rows flagged
    as outlier_history (vs the unit's own periods of the same type) or outlier_peers (vs
    units of the same kind in the same period), with the score."""
    frame = values.filter(pl.col("value").is_not_null())
    history = frame.with_columns(
        n=pl.len().over("unit_id", "indicator_id", "period_type"),
        score=robust_z("value", ["unit_id", "indicator_id", "period_type"]),
    ).filter((pl.col("n") >= MIN_HISTORY) & (pl.col("score").abs() > Z_THRESHOLD)
             ).with_columns(kind=pl.lit("outlier_history"))
    peers = frame.with_columns(
        n=pl.len().over("indicator_id", "period", "unit_kind"),
        score=robust_z("value", ["indicator_id", "period", "unit_kind"]),
    ).filter((pl.col("n") >= MIN_PEERS) & (pl.col("score").abs() > Z_THRESHOLD)
             ).with_columns(kind=pl.lit("outlier_peers"))
    columns = ["unit_id", "indicator_id", "period", "kind", "score", "value"]
    return pl.concat([history.select(columns), peers.select(columns)])


def store_flags(session: Session, found: pl.DataFrame) -> int:
    """Open a follow-up flag for each new outlier (an existing flag is kept as it is)."""
    created = 0
    for row in found.iter_rows(named=True):
        exists = session.scalar(select(ValueFlag.id).where(
            ValueFlag.unit_id == row["unit_id"], ValueFlag.indicator_id == row["indicator_id"],
            ValueFlag.period == row["period"], ValueFlag.kind == row["kind"]))
        if exists is None:
            session.add(ValueFlag(unit_id=row["unit_id"], indicator_id=row["indicator_id"],
                                  period=row["period"], kind=row["kind"],
                                  score=round(float(row["score"]), 3)))
            created += 1
    session.flush()
    return created
