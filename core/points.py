"""Drawn 2D data: the points a user paints (or loads from CSV), as plain Python (no torch).

A ``drawn`` dataset (``data.dataset = "drawn"``) is a mixture of equal-weight Gaussians, one
at each drawn point, each with standard deviation ``data.drawn.std`` per coordinate. Its
points live in the config (``[data.drawn] points = [[x, y], ...]``), so a run folder's
``config.toml`` holds the whole dataset and the run is reproducible from its folder alone.

Mode coverage needs modes, and a painted stroke is one shape, not a hundred modes: the
**modes of a drawing are its connected pieces at the 3σ scale** — two points belong to the
same mode when a chain of points links them with steps of at most ``2 · 3σ`` (their 3σ discs
touch). Separate dots are separate modes; a stroke, a filled blob or a closed curve is one.
For the built-in mixtures (ring8, grid25: centres far apart) every centre is its own mode, so
the definition agrees with theirs.

CSV files have one point per line, ``x,y``, with an optional header line ``x,y``.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Iterable

from .errors import read_text_file

MAX_POINTS = 5000         # a drawing larger than this is refused (one line)
MAX_ABS = 1000.0          # coordinates beyond this are refused
MODE_LINK_STDS = 6.0      # 2 x 3 sigma: points closer than this belong to one mode


class PointsError(ValueError):
    """Points that cannot be a drawn dataset, phrased as one line."""


def check_points(points: Any, where: str = "points") -> list[list[float]]:
    """``points`` as a list of [x, y] floats; PointsError names what is wrong."""
    if not isinstance(points, (list, tuple)):
        raise PointsError(f"{where} must be a list of [x, y] pairs, got {points!r}")
    if len(points) > MAX_POINTS:
        raise PointsError(f"{where} has {len(points)} points; at most {MAX_POINTS}")
    out = []
    for i, p in enumerate(points):
        if (not isinstance(p, (list, tuple)) or len(p) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)):
            raise PointsError(f"{where}[{i}] must be a pair of numbers [x, y], got {p!r}")
        x, y = float(p[0]), float(p[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise PointsError(f"{where}[{i}] must be finite, got [{x}, {y}]")
        if abs(x) > MAX_ABS or abs(y) > MAX_ABS:
            raise PointsError(f"{where}[{i}] = [{x:g}, {y:g}] is outside "
                              f"[-{MAX_ABS:g}, {MAX_ABS:g}]")
        out.append([x, y])
    return out


def parse_points_csv(text: str, where: str) -> list[list[float]]:
    """Points from CSV text (``x,y`` per line, optional header); PointsError names the line."""
    points = []
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if len(cells) != 2:
            raise PointsError(f"{where}, line {lineno}: expected two columns x,y, got "
                              f"{','.join(row)!r}")
        try:
            points.append([float(cells[0]), float(cells[1])])
        except ValueError:
            if lineno == 1 and not points:  # a header such as "x,y"
                continue
            raise PointsError(f"{where}, line {lineno}: not two numbers: "
                              f"{','.join(row)!r}") from None
    return check_points(points, where)


def read_points_csv(path: str | Path) -> list[list[float]]:
    """Points from a CSV file; PointsError (one line naming the file) when unusable."""
    path = Path(path)
    text = read_text_file(path, "points file", PointsError)
    points = parse_points_csv(text, str(path))
    if not points:
        raise PointsError(f"{path} holds no points (expected lines x,y)")
    return points


def points_csv_text(points: Iterable[Iterable[float]]) -> str:
    """CSV text with a header ``x,y`` and one point per line (repr precision: round trips)."""
    lines = ["x,y"] + [f"{float(x)!r},{float(y)!r}" for x, y in points]
    return "\n".join(lines) + "\n"


def write_points_csv(path: str | Path, points: Iterable[Iterable[float]]) -> Path:
    path = Path(path)
    path.write_text(points_csv_text(points), encoding="utf-8")
    return path


def parse_points_text(text: str, where: str) -> list[list[float]]:
    """Command-line text for a points key: a CSV file's path, or inline ``x,y;x,y;...``."""
    raw = text.strip()
    if raw.lower().endswith(".csv") or Path(raw).is_file():
        return read_points_csv(raw)
    return parse_points_csv(raw.replace(";", "\n"), where)


def mode_labels(points, std: float):
    """The mode (connected piece at the 3σ scale, see the module docstring) of every point:
    an int array [N] of labels 0..K-1, numbered in order of first appearance."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    n = len(pts)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pairs = cKDTree(pts).query_pairs(MODE_LINK_STDS * std, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # renumber in order of first appearance, so the modes follow the drawing's order
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse].astype(np.int64)
