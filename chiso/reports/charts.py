"""Report charts as PNG bytes, drawn with matplotlib (DejaVu Sans has every Vietnamese glyph).

What a reader must be able to trust in a chart:
- every indicator is named in full (long names wrap onto more lines, never "…");
- a target without a figure gets no bar at all and says "chưa có số liệu" (a 0,0 % bar
  reads as a result of zero);
- colours say the status, with a legend in the words of the moment (đạt / không đạt once
  the year is over), and the trend lines of one chart have colours that differ;
- nothing is cut at the edges (labels are measured into the figure).
PNG metadata is stripped so the same data gives the same bytes (reproducible documents).
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates
import matplotlib.pyplot as plt
import matplotlib.ticker
from matplotlib.patches import Patch

from chiso.analytics.status import Status
from chiso.text import format_number

STATUS_COLOURS = {"achieved": "#1b7f3b", "on_track": "#6abf69", "at_risk": "#f0a202",
                  "off_track": "#d64545", "no_data": "#9aa5b1", "met": "#1b7f3b",
                  "missed": "#d64545", "not_implemented": "#7a4fa3"}
# Okabe–Ito: eight colours that stay distinct for colour-blind readers and in grey print.
LINE_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                "#000000", "#8c6d31"]
LINE_STYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
NAME_WIDTH = 34  # characters per line of an indicator's name beside a bar


def _setup() -> None:
    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "chiso"})


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=130, metadata={"Software": None},
                bbox_inches="tight", pad_inches=0.08)
    plt.close(fig)
    return buffer.getvalue()


def wrapped(name: str, width: int = NAME_WIDTH) -> str:
    """The whole name, on as many lines as it needs."""
    return "\n".join(textwrap.wrap(name, width)) or name


def completion(status: Any, value: float | None) -> float | None:
    """How far `value` is toward the target, in % of the target (inverted when lower is better)."""
    target = status.target_value
    if value is None or not target:
        return None
    if str(getattr(status, "direction", "higher")) == "lower":
        return 100.0 * target / value if value else None
    return 100.0 * value / target


def progress_chart(statuses: list[Any], title: str) -> bytes | None:
    """Actual (bar) and, while the year runs, the expected value on the path (black tick),
    both as % of the target; a target without a figure has no bar, and a pillar without
    any figure no chart."""
    rows = [s for s in statuses if s.target_value]
    if not any(s.actual is not None for s in rows):
        return None  # a chart of nothing but "no data" says less than the table above it
    _setup()
    names = [wrapped(s.indicator_name_vi) for s in rows][::-1]
    lines = sum(n.count("\n") + 1 for n in names)
    fig, ax = plt.subplots(figsize=(7.2, 0.22 * lines + 0.3 * len(rows) + 1.0))
    actual = [completion(s, s.actual) for s in rows][::-1]
    expected = [None if s.closed else completion(s, s.expected) for s in rows][::-1]
    colours = [STATUS_COLOURS.get(str(s.status), "#9aa5b1") for s in rows][::-1]
    positions = list(range(len(rows)))
    drawn = [(y, a, c) for y, a, c in zip(positions, actual, colours, strict=True)
             if a is not None]
    ax.barh([y for y, _a, _c in drawn], [a for _y, a, _c in drawn],
            color=[c for _y, _a, c in drawn], height=0.55)
    top = max([110.0] + [a + 22 for a in actual if a is not None])
    for y, (a, e) in enumerate(zip(actual, expected, strict=True)):
        if a is None:
            ax.text(1, y, "chưa có số liệu", va="center", fontsize=8, style="italic",
                    color="#5f6b7a")
        else:
            ax.text(a + 1, y, format_number(a, 1) + "%", va="center", fontsize=8,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
        if e is not None:
            ax.plot([e, e], [y - 0.36, y + 0.36], color="#1d2733", linewidth=2)
    ax.set_yticks(positions, names)
    ax.axvline(100, color="#5f6b7a", linestyle="--", linewidth=1)
    ax.set_xlim(0, top)
    ax.set_xlabel("% mục tiêu năm" + ("" if all(e is None for e in expected) else
                                       " (vạch đen: tiến độ kỳ vọng theo lộ trình)"))
    ax.set_title(title, fontsize=10, loc="left", pad=14)
    ax.legend(handles=_status_legend(rows), fontsize=7, loc="lower right", frameon=False,
              bbox_to_anchor=(1.0, 1.0), ncol=4, borderaxespad=0.2)
    return _png(fig)


def _status_legend(rows: list[Any]) -> list[Patch]:
    present = dict.fromkeys(str(s.status) for s in rows)
    return [Patch(color=STATUS_COLOURS.get(code, "#9aa5b1"), label=Status(code).label("vi"))
            for code in present]


def trend_chart(series: dict[str, list[tuple[dt.date, float]]], title: str,
                targets: dict[str, float] | None = None) -> bytes | None:
    """The monthly values of a pillar's indicators since the start of the year; each line
    its own colour, line style and marker; the year's target dotted in the same colour."""
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    _setup()
    fig, ax = plt.subplots(figsize=(7.2, 2.9))
    for i, (name, points) in enumerate(sorted(series.items())):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        xs = [day.replace(day=1) for day, _v in points]  # plot a month at its own month
        ys = [value for _d, value in points]
        ax.plot(xs, ys, marker=MARKERS[i % len(MARKERS)], markersize=4,  # type: ignore[arg-type]
                linestyle=LINE_STYLES[i % len(LINE_STYLES)], color=colour,
                label=wrapped(name, 60))
        if targets and name in targets:
            ax.axhline(targets[name], color=colour, linestyle=":", linewidth=1)
    low, high = ax.get_ylim()
    decimals = 0 if high - low >= 10 else 1 if high - low >= 1 else 2  # no "2, 2, 1, 1"
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _p: format_number(v, decimals)))
    ax.xaxis.set_major_locator(matplotlib.dates.MonthLocator())
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%m/%Y"))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False,
              ncol=1)
    ax.grid(axis="y", color="#dde3ea")
    return _png(fig)
