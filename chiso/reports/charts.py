"""Report charts as PNG bytes, drawn with matplotlib (DejaVu Sans has every Vietnamese glyph).

PNG metadata is stripped so the same data gives the same bytes (reproducible documents).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates
import matplotlib.pyplot as plt
import matplotlib.ticker

from chiso.text import format_number

STATUS_COLOURS = {"achieved": "#1b7f3b", "on_track": "#4caf50", "at_risk": "#f0a202",
                  "off_track": "#d64545", "no_data": "#9aa5b1"}
LINE_COLOURS = ["#0b5cad", "#b3261e", "#1b7f3b", "#8e44ad", "#f0a202", "#16a085"]


def _setup() -> None:
    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "chiso"})


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=130, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def _short(name: str, width: int = 48) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def completion(status: Any, value: float | None) -> float | None:
    """How far `value` is toward the target, in % of the target (inverted when lower is better)."""
    target = status.target_value
    if value is None or not target:
        return None
    if str(getattr(status, "direction", "higher")) == "lower":
        return 100.0 * target / value if value else None
    return 100.0 * value / target


def progress_chart(statuses: list[Any], title: str) -> bytes | None:
    """Tiến độ so với lộ trình: actual and expected, both as % of the year's target."""
    rows = [s for s in statuses if s.target_value]
    if not rows:
        return None
    _setup()
    fig, ax = plt.subplots(figsize=(7.2, 0.45 * len(rows) + 1.1))
    names = [_short(s.indicator_name_vi) for s in rows][::-1]
    actual = [completion(s, s.actual) or 0.0 for s in rows][::-1]
    expected = [completion(s, s.expected) for s in rows][::-1]
    colours = [STATUS_COLOURS.get(str(s.status), "#9aa5b1") for s in rows][::-1]
    ax.barh(names, actual, color=colours, height=0.55, label="Thực hiện (% mục tiêu)")
    for y, x in enumerate(expected):
        if x is not None:
            ax.plot([x, x], [y - 0.36, y + 0.36], color="#1d2733", linewidth=2)
    for y, x in enumerate(actual):
        ax.text(x + 1, y, format_number(x, 1) + "%", va="center", fontsize=8)
    ax.axvline(100, color="#5f6b7a", linestyle="--", linewidth=1)
    ax.set_xlim(0, max(110, max(actual) + 15))
    ax.set_xlabel("% mục tiêu năm (vạch đen: tiến độ kỳ vọng theo lộ trình)")
    ax.set_title(title, fontsize=10, loc="left")
    fig.tight_layout()
    return _png(fig)


def trend_chart(series: dict[str, list[tuple[dt.date, float]]], title: str,
                targets: dict[str, float] | None = None) -> bytes | None:
    """Xu hướng: the monthly values of a pillar's indicators since the start of the year."""
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    _setup()
    fig, ax = plt.subplots(figsize=(7.2, 2.7))
    for i, (name, points) in enumerate(sorted(series.items())):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        xs = [day.replace(day=1) for day, _v in points]  # plot a month at its own month
        ys = [value for _d, value in points]
        ax.plot(xs, ys, marker="o", markersize=3, color=colour,  # type: ignore[arg-type]
                label=_short(name, 40))
        if targets and name in targets:
            ax.axhline(targets[name], color=colour, linestyle=":", linewidth=1)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _p: format_number(v, 0)))
    ax.xaxis.set_major_locator(matplotlib.dates.MonthLocator())
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%m/%Y"))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.grid(axis="y", color="#dde3ea")
    fig.tight_layout()
    return _png(fig)
