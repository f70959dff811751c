"""The progress chart: lead (task, agency) pairs by verdict, per area and per kind of agency.

Percent-stacked horizontal bars, so a small area and a big one compare at a glance; the
number of pairs stands at the end of each bar. The title is the plan's name; an area's name
is wrapped over lines, never cut, and the bars are spaced for the lines it takes. Drawn with
matplotlib's Agg canvas directly (no pyplot global state, safe in a worker thread) in DejaVu
Sans, which ships with matplotlib and has every Vietnamese glyph.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.report_model import CompiledReport, Tally, Verdict
from messages.render import render
from messages.reports.labels import kind_label, labels

FONT = "DejaVu Sans"
LABEL_CHARS = 42  # characters per line of an area's name beside its bar
TITLE_CHARS = 90
COLOURS = {
    Verdict.DONE_ON_TIME: "#2e7d32",
    Verdict.DONE_LATE: "#9ccc65",
    Verdict.IN_PROGRESS: "#fbc02d",
    Verdict.OVERDUE: "#d32f2f",
    Verdict.NOT_REPORTED: "#9e9e9e",
}


def _bars(axes: Axes, title: str, rows: list[tuple[str, Tally]], axis_label: str) -> None:
    names = [name for name, _ in rows][::-1]
    tallies = [tally for _, tally in rows][::-1]
    left = [0.0] * len(rows)
    words = labels()
    for verdict in Verdict:
        shares = [100 * t.counts[verdict] / t.total if t.total else 0.0 for t in tallies]
        axes.barh(
            names,
            shares,
            left=left,
            color=COLOURS[verdict],
            label=str(words.verdict[verdict]),
            edgecolor="white",
            linewidth=0.5,
        )
        left = [a + b for a, b in zip(left, shares, strict=True)]
    for y, tally in enumerate(tallies):
        axes.text(
            101, y, f"{tally.total:,}".replace(",", "."), va="center", fontsize=8, family=FONT
        )
    axes.set_xlim(0, 110)
    axes.set_xticks(range(0, 101, 20))
    axes.set_xticklabels([f"{x}%" for x in range(0, 101, 20)], family=FONT, fontsize=8)
    axes.set_title(title, family=FONT, fontsize=11, loc="left", fontweight="bold")
    axes.set_xlabel(axis_label, family=FONT, fontsize=8)
    for label in axes.get_yticklabels():
        label.set_fontfamily(FONT)
        label.set_fontsize(8)
    axes.spines[["top", "right"]].set_visible(False)


def chart_title(report: CompiledReport) -> str:
    """The plan's name and the evaluation date, wrapped over lines."""
    title = render(
        "report/chart_title.j2",
        plan=report.data.plan,
        as_of=report.data.as_of,
        round=report.data.round,
    )
    return "\n".join(textwrap.fill(line, TITLE_CHARS) for line in title.splitlines())


def area_labels(report: CompiledReport) -> list[str]:
    """Each area's code and whole name, wrapped over lines of LABEL_CHARS (never cut)."""
    return [textwrap.fill(f"{a.area.code}. {a.area.title}", LABEL_CHARS) for a in report.areas]


def write_chart(report: CompiledReport, path: Path | str, dpi: int = 120) -> None:
    """Write the PNG chart of `report` to `path`."""
    words = labels()
    area_rows = list(zip(area_labels(report), [a.agency_tally for a in report.areas], strict=True))
    kind_rows = [(kind_label(kind), tally) for kind, tally in report.by_kind.items()]
    title = chart_title(report)
    area_lines = sum(name.count("\n") + 1 for name, _ in area_rows)
    top_lines = title.count("\n") + 1
    height = 1.6 + 0.3 * top_lines + 0.22 * area_lines + 0.2 * len(area_rows)
    height += 0.38 * len(kind_rows)
    figure = Figure(figsize=(11, max(height, 4)), dpi=dpi)
    FigureCanvasAgg(figure)
    figure.suptitle(title, family=FONT, fontsize=12, fontweight="bold")
    if not area_rows:
        figure.text(0.5, 0.5, render("report/chart_empty.j2"), ha="center", family=FONT)
        figure.savefig(str(path), format="png")
        return
    ratios = [max(area_lines * 0.55 + len(area_rows) * 0.5, 1), max(len(kind_rows), 1)]
    grid = figure.add_gridspec(2, 1, height_ratios=ratios)
    top, bottom = figure.add_subplot(grid[0]), figure.add_subplot(grid[1])
    _bars(top, str(words.chart["by_area"]), area_rows, str(words.chart["axis"]))
    _bars(bottom, str(words.chart["by_kind"]), kind_rows, str(words.chart["axis"]))
    handles, names = top.get_legend_handles_labels()
    figure.legend(
        handles,
        names,
        loc="lower center",
        ncol=len(Verdict),
        prop={"family": FONT, "size": 8},
        frameon=False,
    )
    inches = figure.get_figheight()
    figure.tight_layout(rect=(0, 0.35 / inches, 1, 1 - (0.1 + 0.28 * top_lines) / inches))
    figure.savefig(str(path), format="png")
