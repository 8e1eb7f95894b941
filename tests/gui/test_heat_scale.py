"""The 2D samples panel shows the heat map's scale: a colour bar whose levels are the map's, and
which moves in jumps, as the axes do."""

from __future__ import annotations

import numpy as np

from core import contract
from core.config import Config
from sngan_gui.panels.snapshots import QtSamplesPanel
from sngan_gui.run_model import RunModel


def _landscape(step: int, values: np.ndarray) -> contract.RunProgress:
    n = values.shape[0]
    grid = np.linspace(-3.0, 3.0, n)
    samples = np.random.default_rng(step).normal(0.0, 1.0, (200, 2)).astype(np.float32)
    land = contract.Landscape(step, grid, grid, values, (-3.0, 3.0, -3.0, 3.0), samples,
                              modes=3, hq=0.5, mode_counts=np.zeros(8, dtype=np.int64))
    return contract.RunProgress(step, True, 100.0, 1.0, False,
                                snapshot=contract.ProbeSnapshot(landscape=land))


def _critic(scale: float, n: int = 40) -> np.ndarray:
    x = np.linspace(-3.0, 3.0, n)
    return (scale * (np.hypot(*np.meshgrid(x, x)) - 2.0)).astype(np.float32)


def test_colour_bar_shows_the_heat_maps_levels_and_moves_in_jumps(qtbot):
    panel = QtSamplesPanel()
    qtbot.addWidget(panel)
    model = RunModel(Config())
    values = _critic(2.0)
    model.apply(_landscape(100, values))
    panel.refresh(model)
    bar = panel.colorbar
    levels = bar.levels()
    assert bar.isVisible()
    assert np.allclose(panel.image.getLevels(), levels)
    assert tuple(bar.axis.range) == tuple(levels)
    lo, hi = np.percentile(values, [2, 98])
    assert levels[0] <= lo and hi <= levels[1]

    model.apply(_landscape(200, _critic(2.1)))  # D barely changed: same scale, same colours
    panel.refresh(model)
    assert bar.levels() == levels and np.allclose(panel.image.getLevels(), levels)

    grown = _critic(6.0)  # D's values spread: the scale follows
    model.apply(_landscape(300, grown))
    panel.refresh(model)
    lo, hi = np.percentile(grown, [2, 98])
    assert bar.levels()[0] <= lo and hi <= bar.levels()[1]
    assert np.allclose(panel.image.getLevels(), bar.levels())


def test_no_colour_bar_over_an_image_grid(qtbot):
    panel = QtSamplesPanel()
    qtbot.addWidget(panel)
    model = RunModel(Config())
    pixels = np.zeros((20, 30, 3), dtype=np.uint8)
    model.apply(contract.RunProgress(5, True, 10.0, 1.0, False, snapshot=contract.ProbeSnapshot(
        samples=contract.SampleGrid(5, pixels))))
    panel.refresh(model)
    assert not panel.colorbar.isVisible()
