"""The app's icon: ``resources/icons/lipschitz-playground.svg`` (the Lipschitz cone: a
1-Lipschitz function's graph never enters the two wedges above and below any of its points)
and PNGs of it at the sizes desktops ask for (``render_pngs`` draws them from the SVG; a test
checks the committed PNGs are its current drawing)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QImage, QPainter

from core.resource_paths import ICON_NAME, ICON_SIZES, icon_png, icon_svg, icons_dir


def app_icon() -> QIcon:
    """Every PNG size (crisp at small sizes, where a scaled SVG blurs) and the SVG for the rest."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(icon_png(size)))
    icon.addFile(str(icon_svg()))
    return icon


def render_png(size: int) -> QImage:
    """The SVG drawn at ``size`` x ``size`` pixels on a transparent background."""
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(icon_svg()))
    if not renderer.isValid():
        raise ValueError(f"{icon_svg()} is not a valid SVG")
    image = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def render_pngs(folder: Path | None = None) -> list[Path]:
    """Write every size's PNG (into the icons folder unless ``folder`` is given):
    ``python -c "from sngan_gui.icon import render_pngs; render_pngs()"`` after editing the SVG."""
    folder = icons_dir() if folder is None else Path(folder)
    written = []
    for size in ICON_SIZES:
        path = folder / f"{ICON_NAME}-{size}.png"
        if not render_png(size).save(str(path)):
            raise OSError(f"cannot write {path}")
        written.append(path)
    return written
