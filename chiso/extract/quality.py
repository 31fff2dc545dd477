"""Precision and recall of the extractor against the labelled set in tests/extract_data/
(`tuning/`: the seed articles and documents the rules were tuned on; `heldout/`: written
before any rule and never tuned on). A numeric fact counts as found when kind (target or
value), indicator (catalogue code, or 'new') and value all agree; a rank when rank, total
and year agree; a task when its lead unit agrees and, where the label has one, its
deadline (date, or recurrence)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chiso.extract.pipeline import RuleExtractor
from chiso.extract.proposals import Extraction, Proposal
from chiso.text import name_key

MEASURES = ("numeric facts", "numeric facts (kind and value only)", "ranks", "tasks")


@dataclass
class Score:
    found: int = 0  # true positives
    proposed: int = 0
    labelled: int = 0

    @property
    def precision(self) -> float | None:
        return self.found / self.proposed if self.proposed else None

    @property
    def recall(self) -> float | None:
        return self.found / self.labelled if self.labelled else None

    def add(self, other: Score) -> None:
        self.found += other.found
        self.proposed += other.proposed
        self.labelled += other.labelled


@dataclass
class SplitResult:
    documents: list[str] = field(default_factory=list)
    scores: dict[str, Score] = field(default_factory=lambda: {m: Score() for m in MEASURES})


def evaluate(extractor: RuleExtractor, folder: Path) -> dict[str, SplitResult]:
    results: dict[str, SplitResult] = {}
    for label_path in sorted(folder.glob("*/*.yaml")):
        label = yaml.safe_load(label_path.read_text("utf-8"))
        text = (label_path.parent / label["document"]).read_text("utf-8")
        extraction = extractor.extract(text)
        split = results.setdefault(label_path.parent.name, SplitResult())
        split.documents.append(label["document"])
        for measure, score in score_document(extraction, label).items():
            split.scores[measure].add(score)
    return results


def score_document(extraction: Extraction, label: dict[str, Any]) -> dict[str, Score]:
    facts = [p for p in extraction.proposals if p.kind in ("target", "value")]
    gold = label.get("facts") or []
    return {
        "numeric facts": _match(facts, gold, _same_fact),
        "numeric facts (kind and value only)": _match(facts, gold, _same_value),
        "ranks": _match(extraction.of_kind("rank"), label.get("ranks") or [], _same_rank),
        "tasks": _match(extraction.of_kind("task"), label.get("tasks") or [], _same_task),
    }


def _match(proposals: list[Proposal], gold: list[dict[str, Any]], same: Any) -> Score:
    unused = list(proposals)
    found = 0
    for expected in gold:
        hit = next((p for p in unused if same(p.fields | {"kind": p.kind}, expected)), None)
        if hit is not None:
            unused.remove(hit)
            found += 1
    return Score(found, len(proposals), len(gold))


def _same_value(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    return got["kind"] == expected["kind"] and abs(float(got["value"]) -
                                                  float(expected["value"])) < 1e-9


def _same_fact(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    code = got.get("indicator_code") or "new"
    return _same_value(got, expected) and code == expected["indicator"]


def _same_rank(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    return (got["rank"], got["total"], got["year"]) == (expected["rank"], expected["total"],
                                                        expected["year"])


def _same_task(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    if name_key(got["lead_name"]) != name_key(expected["lead"]):
        return False
    if "due" in expected and got.get("due") != _iso(expected["due"]):
        return False
    return "recurrence" not in expected or got.get("recurrence") == {
        "quarterly": "Q", "monthly": "M", "yearly": "Y"}[expected["recurrence"]]


def _iso(day: object) -> str:
    return day.isoformat() if isinstance(day, dt.date) else str(day)
