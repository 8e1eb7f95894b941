"""steady_range: plot ranges that move in jumps (few axis repaints) yet follow the data."""

from __future__ import annotations

import pytest

from sngan_gui.panels.base import RANGE_SLACK, steady_range


def test_first_range_pads_the_data():
    assert steady_range(None, 0.0, 10.0, 1e-3) == pytest.approx((-1.5, 11.5))


def test_kept_while_the_data_stay_inside_and_fill_it():
    view = (-1.5, 11.5)
    assert steady_range(view, 0.0, 10.0, 1e-3) is None
    assert steady_range(view, 2.0, 9.0, 1e-3) is None  # 7 of 13: more than half


def test_follows_data_that_leave_it():
    assert steady_range((-1.5, 11.5), 0.0, 12.0, 1e-3) == pytest.approx((-1.8, 13.8))


def test_shrinks_to_data_that_fill_less_than_half():
    # G's first spread set a wide view (-13, 11); the 25 grid modes span [-4.2, 4.2].
    new = steady_range((-13.0, 11.0), -4.2, 4.2, 1e-3)
    assert new is not None and new[1] - new[0] < 24 / RANGE_SLACK
    assert new[0] <= -4.2 and 4.2 <= new[1]


def test_min_span_and_nan():
    # a flat line gets min_span around it (and the padding): it was 0.3 x min_span wide
    assert steady_range(None, 1.0, 1.0, 0.5) == pytest.approx((0.675, 1.325))
    assert steady_range((0.0, 1.0), float("nan"), 1.0, 1e-3) is None
