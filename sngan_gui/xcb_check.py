"""Before the first window on Linux: are the X11 libraries Qt's xcb plugin needs there?

On a plain Debian/Ubuntu desktop the app first failed with "Could not load the Qt platform
plugin "xcb"" and a screenful of advice, until libxcb-cursor0, libxcb-icccm4 and
libxcb-keysyms1 were installed (PySide6's wheels bring Qt, not these system libraries). This
check looks them up the way the dynamic loader would (``ctypes.util.find_library``) and, when
one is missing, gives one line with the command that installs them. It only warns: a library
found by other means (a conda environment) still lets Qt start.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from typing import Callable, Mapping

# library name as find_library takes it -> the Debian/Ubuntu package that ships it
XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4",
                 "xcb-keysyms": "libxcb-keysyms1"}


def uses_xcb(env: Mapping[str, str], platform: str) -> bool:
    """Whether Qt will load its xcb (X11) plugin: Linux, no other platform asked for, and
    not a Wayland session (Qt prefers its Wayland plugin there)."""
    if not platform.startswith("linux"):
        return False
    qpa = env.get("QT_QPA_PLATFORM", "")
    if qpa:
        return qpa.split(":")[0].split(";")[0] == "xcb"
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def missing_xcb_packages(find: Callable[[str], str | None] = ctypes.util.find_library
                         ) -> list[str]:
    return [package for lib, package in XCB_LIBRARIES.items() if not find(lib)]


def xcb_advice(env: Mapping[str, str] | None = None, platform: str = sys.platform,
               find: Callable[[str], str | None] = ctypes.util.find_library) -> str | None:
    """One line naming the missing packages and the command that installs them, or None."""
    if not uses_xcb(os.environ if env is None else env, platform):
        return None
    missing = missing_xcb_packages(find)
    if not missing:
        return None
    return (f"Qt's X11 (xcb) platform plugin needs {', '.join(missing)}, not found on this "
            f"system; install with: sudo apt install {' '.join(missing)}")
