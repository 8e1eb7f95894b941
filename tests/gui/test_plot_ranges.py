"""The y range a plot fits to its data (sngan_gui.panels.base: min_span, steady_range)."""

from __future__ import annotations

from sngan_gui.panels.base import min_span, steady_range


def test_constant_data_get_a_readable_range():
    # one quality line with modes = 0 drew ticks "(x1e-09)" from -100 to 100
    lo, hi = steady_range(None, 0.0, 0.0, min_span(0.0, 0.0, log=False))
    assert hi - lo >= 1.0 and lo < 0.0 < hi
    lo, hi = steady_range(None, 4.0, 4.0, min_span(4.0, 4.0, log=False))
    assert 0.5 < hi - lo < 2.0 and lo < 4.0 < hi
    # changing data keep a fine span: a D loss moving around 1e-3 is still seen to move
    assert min_span(0.0009, 0.0011, log=False) < 1e-5
    assert min_span(0.1, 3.0, log=True) == 0.05
