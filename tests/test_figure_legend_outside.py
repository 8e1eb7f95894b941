"""A report figure's legend never covers the data (issue 21): a few entries sit inside where
the curves are not; the many of a comparison (runs and their series) go under the axes."""

from __future__ import annotations

import numpy as np

from core.figures import LegendEntry, Line, PlotSpec, draw_figure


def _spec(runs: int, series: int) -> PlotSpec:
    x = np.arange(0, 500, 20.0)
    colors = ("#4477aa", "#ee6677", "#228833")[:runs]
    dashes = ("solid", "dash", "dot", "dashdot")[:series]
    lines = [Line(x, np.sin(x / 100 + r) + k, f"run {r} · s{k}", c, d)
             for r, c in enumerate(colors) for k, d in enumerate(dashes)]
    legend = [LegendEntry(f"spectral off, batch_size 256, run {r}", c)
              for r, c in enumerate(colors)]
    legend += [LegendEntry(f"series {k}", "#888888", d) for k, d in enumerate(dashes)]
    return PlotSpec(title="Losses", xlabel="generator step", ylabel="loss", lines=lines,
                    legend=legend)


def test_a_comparison_legend_goes_under_the_axes():
    fig = draw_figure([_spec(3, 4), _spec(3, 4)])
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend().get_window_extent(renderer)
        assert not legend.overlaps(ax.get_window_extent(renderer))
        assert legend.y1 < ax.xaxis.label.get_window_extent(renderer).y0  # under the label
        assert legend.y0 >= 0  # and on the figure


def test_a_short_legend_stays_inside():
    fig = draw_figure([_spec(1, 2)])
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)
    assert ax.get_window_extent(renderer).contains(legend.x0 + 1, legend.y0 + 1)


def test_a_heat_maps_legend_goes_under_it():
    """The real/generated legend cut a dark notch into the 2D critic's heat map."""
    from core.figures import Heatmap, Points

    heat = Heatmap(np.zeros((8, 8)), (-2.0, 2.0, -2.0, 2.0), (0.0, 1.0),
                   ((0.0, "#000000"), (1.0, "#ffffff")))
    spec = PlotSpec(title="Samples", equal_aspect=True, heatmap=heat, legend_loc="below",
                    points=[Points(np.zeros((4, 2)), "real", "#4477aa"),
                            Points(np.ones((4, 2)), "generated", "#ee6677")])
    fig = draw_figure([spec])
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    assert not ax.get_legend().get_window_extent(renderer).overlaps(
        ax.get_window_extent(renderer))
