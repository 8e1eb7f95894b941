"""Linux set-up: the X11 libraries Qt's xcb plugin needs are named, with the command that
installs them, in one line before the first window (issue 21, item 9)."""

from __future__ import annotations

from sngan_gui.xcb_check import uses_xcb, xcb_advice

X11 = {"DISPLAY": ":0"}


def test_missing_libraries_are_named_with_the_apt_command():
    found = {"xcb-cursor": None, "xcb-icccm": "libxcb-icccm.so.4", "xcb-keysyms": None}
    line = xcb_advice(X11, "linux", found.get)
    assert line.count("\n") == 0
    assert line.endswith("sudo apt install libxcb-cursor0 libxcb-keysyms1")
    assert "libxcb-icccm4" not in line


def test_nothing_to_say_when_all_are_there_or_xcb_is_not_used():
    every = lambda name: f"lib{name}.so"  # noqa: E731
    none = lambda name: None  # noqa: E731
    assert xcb_advice(X11, "linux", every) is None
    assert xcb_advice({"QT_QPA_PLATFORM": "offscreen"}, "linux", none) is None
    assert xcb_advice({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "linux", none) is None
    assert xcb_advice(X11, "darwin", none) is None
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")


def test_the_app_says_it_before_the_first_window(monkeypatch, capsys):
    """main() prints the line (and goes on: Qt may still find the libraries elsewhere)."""
    import sngan_gui.app as app
    from sngan_gui import xcb_check

    monkeypatch.setattr(xcb_check, "xcb_advice", lambda: "needs libxcb-cursor0; install with: "
                        "sudo apt install libxcb-cursor0")

    class Stop(Exception):
        pass

    def no_window(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(app, "create_window", no_window)
    try:
        app.main([])
    except Stop:
        pass
    err = capsys.readouterr().err
    assert err == "warning: needs libxcb-cursor0; install with: sudo apt install libxcb-cursor0\n"
