"""The extractor: text in, proposals out. Rules only, offline, on a CPU; any learned
model would sit behind `Extractor` and return the same `Extraction`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from chiso.extract.facts import FactReader, sentence_mode
from chiso.extract.matching import IndicatorMatcher, UnitFinder
from chiso.extract.metadata import document_meta
from chiso.extract.proposals import DocumentMeta, Extraction, Proposal
from chiso.extract.registers import Registers
from chiso.extract.segments import Mode, Sentence, sentences
from chiso.extract.tasks import TaskReader, read_ranks
from chiso.extract.text import normalize_document

Progress = Callable[[int, int], None]  # (sentences done, sentences in all)
_PLAN_KINDS = {"KH", "NQ", "CT", "QĐ", "ĐA", "CTr"}


class Extractor(Protocol):
    def extract(self, text: str, progress: Progress | None = None) -> Extraction: ...


class RuleExtractor:
    """Vietnamese plans and reports read by rules against chiso's own registers."""

    def __init__(self, registers: Registers) -> None:
        self.registers = registers
        self.indicators = IndicatorMatcher(registers.indicators)
        self.units = UnitFinder(registers)

    def extract(self, text: str, progress: Progress | None = None) -> Extraction:
        text = normalize_document(text)
        meta = document_meta(text, self.units)
        default = Mode.TARGET if _is_plan(text, meta) else Mode.VALUE
        facts = FactReader(self.indicators, meta, default, _scope(meta))
        tasks = TaskReader(self.units, meta)
        found: list[Proposal] = []
        all_sentences = sentences(text)
        for done, sentence in enumerate(all_sentences, start=1):
            found += _read_sentence(sentence, facts, tasks, meta, default)
            if progress is not None and (done % 50 == 0 or done == len(all_sentences)):
                progress(done, len(all_sentences))
        return Extraction(meta, found)


def _read_sentence(sentence: Sentence, facts: FactReader, tasks: TaskReader,
                   meta: DocumentMeta, default: str) -> list[Proposal]:
    mode = sentence_mode(sentence.text, sentence.section if sentence.section in
                         (Mode.TARGET, Mode.VALUE) else default)
    found: list[Proposal] = []
    for clause in sentence.clauses():
        ranks = read_ranks(clause, meta)
        found += ranks
        task = tasks.read(clause)
        if task is not None:
            found.append(task)
        elif not ranks:
            found += facts.read(clause, mode)
    return found


def _is_plan(text: str, meta: DocumentMeta) -> bool:
    """A plan's own header ('Số: 35-KH/BCĐ', 'KẾ HOẠCH') makes its numbers targets by
    default; a news article that merely names a plan keeps its numbers as values."""
    header = "\n".join(text.split("\n")[:12])
    return meta.kind in _PLAN_KINDS and ("Số:" in header or (meta.kind in header.upper()
                                         and any(w in header for w in ("KẾ HOẠCH", "NGHỊ QUYẾT",
                                                                        "CHỈ THỊ", "ĐỀ ÁN"))))


def _scope(meta: DocumentMeta) -> dict[str, str]:
    if not meta.province_code:
        return {}
    return {"scope_unit_code": meta.province_code, "scope_unit_name": meta.province_name}
