"""How a report section writes: table cells, Markdown tables, source lines, and figures on
matplotlib's Agg canvas (no GUI backend: core never imports Qt)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..probes.weights import EDGE_TOLERANCE


@dataclass(frozen=True)
class Finding:
    """One row of "Findings at a glance": what was checked, the published figure, ours, and
    the verdict a section's named criterion gives."""

    finding: str
    published: str
    ours: str
    verdict: str

    def row(self) -> list[str]:
        return [self.finding, self.published, self.ours, self.verdict]


def mean_std(values: list[float | None], fmt: str = "{:.2f}", scale: float = 1.0) -> str:
    vals = [v * scale for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return "n/a"
    if len(vals) == 1:
        return fmt.format(vals[0])
    return f"{fmt.format(statistics.mean(vals))} ± {fmt.format(statistics.stdev(vals))}"


def num(value: float | None, fmt: str = "{:.3g}") -> str:
    return "n/a" if value is None or not math.isfinite(value) else fmt.format(value)


def table(header: list[str], rows: list[list[str]]) -> str:
    def line(cells):  # a "|" inside a cell (e.g. max|w|) would end the cell
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    lines = [line(header), "|" + "---|" * len(header)]
    lines += [line(r) for r in rows]
    return "\n".join(lines)


def source(*folders: str, fields: str) -> str:
    """The line under a table naming the files and fields its numbers come from."""
    return f"*Source: {', '.join(f'`{f}`' for f in folders)}; {fields}.*"


def matrix(w: np.ndarray, transposed: bool = False) -> np.ndarray:
    """A layer weight as the matrix SN normalizes: [out, in*kh*kw] (ConvTranspose: dim 1
    is out)."""
    if transposed:
        w = np.swapaxes(w, 0, 1)
    return w.reshape(w.shape[0], -1)


def edge_share(w: np.ndarray, bound: float) -> float:
    return float(np.mean(np.abs(w) >= (1 - EDGE_TOLERANCE) * bound))


def figure(ncols: int, nrows: int = 1, width: float = 4.0, height: float = 3.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), dpi=80)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save(fig, path: Path, alt: str) -> str:
    """Write the figure as PNG; the Markdown line that shows it."""
    fig.tight_layout()
    fig.savefig(path, format="png")
    return f"![{alt}]({path.name})"
