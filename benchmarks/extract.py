"""`chiso bench extract`: precision and recall of the extractor on the labelled set, the
held-out part apart from the part the rules were tuned on."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from chiso.errors import UserError
from chiso.extract.pipeline import RuleExtractor
from chiso.extract.quality import MEASURES, Score, SplitResult, evaluate
from chiso.extract.registers import Registers

# The labelled set ships with the tests of a checkout; found from any working directory.
DEFAULT_DATA = Path(__file__).resolve().parent.parent / "tests" / "extract_data"


def register_bench(bench: typer.Typer) -> None:
    bench.command("extract")(bench_extract)


def bench_extract(
    data: Path = typer.Option(None, help="Thư mục bộ dữ liệu gán nhãn (mặc định: "
                                         "tests/extract_data của mã nguồn) / labelled set "
                                         "(default: the checkout's tests/extract_data)"),
) -> None:
    """Độ chính xác và độ phủ của trích xuất / precision and recall of extraction.

    Numeric facts, ranks and tasks, on the held-out documents (never tuned on) and on the
    tuning documents (the seed articles and others the rules were tuned on), separately.

    Example: chiso bench extract --data tests/extract_data
    """
    data = data or DEFAULT_DATA
    if not any(data.glob("*/*")):
        raise UserError(f"Không có tài liệu gán nhãn trong '{data}' (cần heldout/ và tuning/)",
                        f"no labelled documents in '{data}' (heldout/ and tuning/ expected)")
    extractor = RuleExtractor(Registers.from_shipped_files())
    began = time.perf_counter()
    results = evaluate(extractor, data)
    seconds = time.perf_counter() - began
    console = Console()
    for split in ("heldout", "tuning"):
        if split in results:
            console.print(_table(split, results[split]))
    console.print(f"{sum(len(r.documents) for r in results.values())} tài liệu / documents "
                  f"in {seconds:.2f} s")


def _table(split: str, result: SplitResult) -> Table:
    title = {"heldout": "Held out (không dùng để tinh chỉnh / never tuned on)",
             "tuning": "Tuning (dùng để tinh chỉnh / rules tuned on these)"}[split]
    table = Table(title=f"{title}: {len(result.documents)} documents")
    for column in ("measure", "found", "proposed", "labelled", "precision", "recall"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for measure in MEASURES:
        score = result.scores[measure]
        table.add_row(measure, str(score.found), str(score.proposed), str(score.labelled),
                      _ratio(score.precision), _ratio(score.recall))
    return table


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}".replace(".", ",")


__all__ = ["Score", "bench_extract", "register_bench"]
