"""The one entry point (sngan-gui, python -m sngan_gui, python main.py): every command of its
table runs its module's function, --version prints the version; and install-desktop."""

from __future__ import annotations

import configparser
import importlib
import shlex
import subprocess
import sys

import pytest

from core import __version__
from core.resource_paths import ICON_SIZES, icon_png, icon_svg
from sngan_gui import desktop
from sngan_gui.launcher import COMMANDS, main


def test_every_command_names_a_function():
    assert {"train", "sweep", "reproduce", "tensorboard", "presets"} <= set(COMMANDS)
    for name, (module, function, text) in COMMANDS.items():
        assert callable(getattr(importlib.import_module(module), function)), name
        assert text


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"lipschitz-playground {__version__}\n"
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in COMMANDS)


@pytest.mark.slow
def test_main_py_and_module_route_the_same_commands(tmp_path):
    for cmd in ([sys.executable, "main.py", "presets"],
                [sys.executable, "-m", "sngan_gui", "tensorboard", str(tmp_path / "none"),
                 "--out", str(tmp_path / "tb")]):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if cmd[-1] == "presets":
            assert proc.returncode == 0 and proc.stdout.startswith("cifar10_sngan")
        else:
            assert proc.returncode == 2
            assert proc.stderr == f"error: {tmp_path / 'none'} is not a run folder: it does " \
                                  f"not exist\n"


def test_install_desktop_puts_the_entry_and_icons_in_the_users_menu(tmp_path, monkeypatch,
                                                                    capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert desktop.install_desktop_main([]) == 0
    assert "installed 10 files" in capsys.readouterr().out
    entry = tmp_path / "share" / "applications" / "lipschitz-playground.desktop"
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read_string(entry.read_text())
    section = parser["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "Lipschitz Playground"
    assert shlex.split(section["Exec"]) == [sys.executable, "-m", "sngan_gui", "%F"]
    assert section["Icon"] == "lipschitz-playground"
    icons = tmp_path / "share" / "icons" / "hicolor"
    assert (icons / "scalable/apps/lipschitz-playground.svg").read_bytes() == \
        icon_svg().read_bytes()
    for n in ICON_SIZES:
        assert (icons / f"{n}x{n}/apps/lipschitz-playground.png").read_bytes() == \
            icon_png(n).read_bytes()
    assert desktop.install_desktop_main(["--uninstall"]) == 0
    assert not entry.exists() and not list(icons.rglob("*.png"))


def test_exec_line_quotes_paths_as_the_desktop_spec_asks():
    entry = desktop.desktop_entry("/opt/my envs/$HOME/bin/python3")
    exec_line = next(line for line in entry.splitlines() if line.startswith("Exec="))
    # Spec: quote, backslash before " ` $ \ inside quotes; then the string escape of "\".
    assert exec_line == 'Exec="/opt/my envs/\\\\$HOME/bin/python3" -m sngan_gui %F'


def test_install_desktop_into_an_unwritable_place_exits_2(tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "file"))
    assert desktop.install_desktop_main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: cannot write ")
