"""Only what pyproject.toml cannot say: the wheel ships the top-level ``resources/`` folder as
``core/_resources/`` (package data that ``core/resource_paths.py`` finds through
importlib.resources), while the repository keeps ``resources/`` where it is. Every folder of
``resources/`` is shipped, so a new one needs no change here."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
RESOURCE_DIRS = sorted(p.name for p in (HERE / "resources").iterdir()
                       if p.is_dir() and not p.name.startswith((".", "__")))
DATA = [f"core._resources.{name}" for name in RESOURCE_DIRS]

setup(
    packages=[*find_packages(include=["core", "core.*", "sngan_gui", "sngan_gui.*"]),
              "core._resources", *DATA],
    package_dir={"core._resources": "resources"},
    package_data={name: ["*.toml", "*.qss", "*.svg", "*.png"] for name in DATA},
)
