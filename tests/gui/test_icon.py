"""The app icon: the committed PNGs are the SVG's drawing at each size, and the app sets it."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from core.resource_paths import ICON_SIZES, icon_png
from sngan_gui.icon import render_png


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format_RGBA8888)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4)
    return pixels.copy()  # the buffer is the QImage's, freed with it


def test_committed_pngs_are_the_svg_drawn_at_each_size(qapp):
    for size in ICON_SIZES:
        committed = QImage(str(icon_png(size)))
        assert (committed.width(), committed.height()) == (size, size)
        drawn = _pixels(render_png(size)).astype(int)
        diff = np.abs(_pixels(committed).astype(int) - drawn)
        # Re-render after editing the SVG: python -c "from sngan_gui.icon import render_pngs;
        # render_pngs()" (a QGuiApplication is needed). Anti-aliasing may differ by a level.
        assert diff.max() <= 8 and diff.mean() < 0.5, size
        alpha = _pixels(committed)[..., 3]
        assert alpha[0, 0] == 0 and alpha[size // 2, size // 2] == 255  # transparent corners


def test_the_app_and_its_window_have_the_icon(window):
    from PySide6.QtWidgets import QApplication

    icon = QApplication.instance().windowIcon()
    assert not icon.isNull() and not window.windowIcon().isNull()
    assert {16, 32, 48, 256} <= {s.width() for s in icon.availableSizes()}
    assert QApplication.instance().desktopFileName() == "lipschitz-playground"
