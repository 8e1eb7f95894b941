"""``sngan-gui install-desktop [--uninstall]``: put the app in this user's desktop menu (Linux
and other freedesktop.org desktops): a ``.desktop`` entry in ``$XDG_DATA_HOME/applications``
and the icon in every size under ``$XDG_DATA_HOME/icons/hicolor`` (``~/.local/share`` when
``XDG_DATA_HOME`` is not set). ``make install-desktop`` runs it.

The entry starts the app with the Python that ran this command (``python -m sngan_gui``), so
it opens the installation it was made from, whatever ``PATH`` holds; run it again after moving
the environment. Writes no file outside those two folders; needs no Qt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from core.cli_parser import OneLineParser
from core.contract import EXIT_BAD_INPUT
from core.resource_paths import ICON_NAME as NAME
from core.resource_paths import ICON_SIZES as SIZES
from core.resource_paths import MissingResource, icon_png, icon_svg


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _exec_quote(arg: str) -> str:
    """An Exec argument quoted as the Desktop Entry spec asks (then escaped for the file)."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg
    quoted = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return quoted.replace("\\", "\\\\")  # a string value's own escape of the backslash


def desktop_entry(python: str = sys.executable) -> str:
    command = " ".join(_exec_quote(a) for a in (python, "-m", "sngan_gui"))
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.5",
        "Name=Lipschitz Playground",
        "GenericName=GAN training playground",
        "Comment=Train a small GAN and switch Lipschitz constraints on its discriminator live",
        f"Exec={command} %F",  # %F: run folders dropped on the launcher are opened
        f"TryExec={python}",
        f"Icon={NAME}",
        "Terminal=false",
        "Categories=Education;Science;ArtificialIntelligence;",
        "Keywords=GAN;spectral normalization;Lipschitz;WGAN;machine learning;",
        "StartupNotify=true",
        "",
    ])


def installed_files(home: Path) -> list[Path]:
    icons = home / "icons" / "hicolor"
    return [home / "applications" / f"{NAME}.desktop",
            icons / "scalable" / "apps" / f"{NAME}.svg",
            *(icons / f"{n}x{n}" / "apps" / f"{NAME}.png" for n in SIZES)]


def install(home: Path) -> list[Path]:
    desktop, svg, *pngs = installed_files(home)
    sources = [icon_svg(), *(icon_png(n) for n in SIZES)]
    for source, target in zip(sources, [svg, *pngs]):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    desktop.parent.mkdir(parents=True, exist_ok=True)
    desktop.write_text(desktop_entry(), encoding="utf-8")
    _refresh_caches(home)
    return [desktop, svg, *pngs]


def uninstall(home: Path) -> list[Path]:
    removed = [path for path in installed_files(home) if path.is_file()]
    for path in removed:
        path.unlink()
    _refresh_caches(home)
    return removed


def _refresh_caches(home: Path) -> None:
    """Menus pick the entry up by themselves; these tools, where installed, make it at once."""
    for tool, arg in (("update-desktop-database", home / "applications"),
                      ("gtk-update-icon-cache", home / "icons" / "hicolor")):
        if shutil.which(tool) and arg.is_dir():
            subprocess.run([tool, "-q", str(arg)], check=False, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)


def install_desktop_main(argv: Sequence[str]) -> int:
    parser = OneLineParser(prog="sngan-gui install-desktop",
                           description="Add Lipschitz Playground to this user's desktop menu "
                                       "(freedesktop.org desktops: Linux, BSD).")
    parser.add_argument("--uninstall", action="store_true", help="remove what it added")
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    if sys.platform in ("win32", "darwin"):
        print("error: install-desktop writes a freedesktop.org menu entry (Linux, BSD); on this "
              "system start the app with sngan-gui", file=sys.stderr)
        return EXIT_BAD_INPUT
    home = data_home()
    try:
        files = uninstall(home) if args.uninstall else install(home)
    except MissingResource as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: cannot write {exc.filename or home}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    verb = "removed" if args.uninstall else "installed"
    print(f"{verb} {len(files)} files: {files[0] if files else 'none were there'}"
          + ("" if args.uninstall else f" (starts {sys.executable} -m sngan_gui)"))
    return 0
