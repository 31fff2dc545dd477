"""What the extractor proposes: plain data, the same for the CLI, the page and the bench."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("target", "value", "rank", "task")


@dataclass
class Proposal:
    """One proposed fact, with the sentence it came from. `start`/`end` place the sentence
    in the document's text; `mark_start`/`mark_end` the words it rests on, in the sentence."""

    kind: str
    sentence: str
    start: int
    end: int
    mark_start: int
    mark_end: int
    fields: dict[str, Any]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def before(self) -> str:
        return self.sentence[:self.mark_start]

    @property
    def marked(self) -> str:
        return self.sentence[self.mark_start:self.mark_end]

    @property
    def after(self) -> str:
        return self.sentence[self.mark_end:]


@dataclass
class DocumentMeta:
    """Số hiệu, kind (KH, NQ, CT, BC, TB …), date, issuer, province and title."""

    code: str = ""
    kind: str = ""
    date: str | None = None  # ISO
    issuer: str = ""
    province_code: str = ""
    province_name: str = ""
    title: str = ""
    year: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Extraction:
    meta: DocumentMeta
    proposals: list[Proposal] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Proposal]:
        return [p for p in self.proposals if p.kind == kind]
