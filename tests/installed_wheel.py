"""The project as a user gets it from ``pip install``: the wheel built from this tree and
installed (not editable) into a fresh virtual environment, for the tests that run the
installed commands from a folder outside the repository (tests/test_install.py, and
tests/test_reproduce.py's ``reproduce --quick``).

"Fresh" here means: a new venv (``python -m venv --without-pip``) into which only the wheel is
installed, with ``pip install --no-deps``; its third-party dependencies (torch alone is about
5.5 GB) come from the test's own environment through one line in a ``.pth`` file naming that
environment's site-packages. Python processes ``.pth`` files only in the site-packages folders
themselves, not in folders such a line adds, so the project's editable install there (its
``__editable__*.pth`` and finder) is not loaded: ``core`` and ``sngan_gui`` can only come from
the wheel, which :meth:`InstalledWheel.check_isolated` confirms. Building uses the test
environment's setuptools (``--no-build-isolation``) and no index, so no network is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _source_files() -> list[str]:
    """What a clean clone holds: the tracked files plus new ones git does not ignore."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]


@dataclass
class InstalledWheel:
    wheel: Path
    venv: Path
    outside: Path  # a folder outside the repository to run the commands in

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def env(self, **extra: str) -> dict[str, str]:
        """The caller's environment without what would point Python at the source tree."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSAFEPATH")}
        env.update(QT_QPA_PLATFORM="offscreen", PYTHONNOUSERSITE="1",
                   PATH=f"{self.bin}{os.pathsep}{env.get('PATH', '')}", **extra)
        return env

    def run(self, *args: str | Path, timeout: float = 300,
            **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in args], cwd=self.outside, env=self.env(**env),
                              capture_output=True, text=True, timeout=timeout)

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as zf:
            return zf.namelist()

    def check_isolated(self) -> None:
        """The installed interpreter imports core and sngan_gui from the wheel, and nothing
        of the source tree is on its path."""
        code = ("import json, sys, core, sngan_gui, sngan_gui.launcher; print(json.dumps("
                "[core.__file__, sngan_gui.__file__, [p for p in sys.path if p]]))")
        proc = self.run(self.python, "-c", code)
        assert proc.returncode == 0, proc.stderr
        core_file, gui_file, path = json.loads(proc.stdout)
        site = self.venv.resolve()
        assert Path(core_file).resolve().is_relative_to(site), core_file
        assert Path(gui_file).resolve().is_relative_to(site), gui_file
        assert not any(Path(p).resolve() == ROOT for p in path), path


def build_and_install(tmp: Path) -> InstalledWheel:
    src, dist, venv, outside = tmp / "src", tmp / "dist", tmp / "venv", tmp / "outside"
    for name in _source_files():
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "-w", str(dist), str(src)], check=True, capture_output=True, text=True)
    wheel, = dist.glob("lipschitz_playground-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "project-dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    subprocess.run([*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True, capture_output=True, text=True)
    outside.mkdir()
    return InstalledWheel(wheel, venv, outside)
