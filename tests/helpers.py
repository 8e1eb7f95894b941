"""Small configs that train in milliseconds, shared by the engine tests."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

from core import config as config_mod
from core.config import Config

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ROOT / "resources" / "presets"


@contextlib.contextmanager
def cli_run_in_background(cfg: Config, out: Path, steps: int):
    """``python main.py train`` writing ``out`` in another process while the test reads it
    (from the repository root, so it runs this tree's code); killed if the test ends first."""
    cfg_file = out.parent / f"{out.name}.toml"
    config_mod.save(cfg, cfg_file)
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "train", "--config",
                             str(cfg_file), "--out", str(out), "--steps", str(steps),
                             "--no-progress"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def tiny_2d(**sets) -> Config:
    cfg = Config()
    cfg.set("model.z_dim", 4)
    cfg.set("model.g_width", 32)
    cfg.set("model.d_width", 32)
    cfg.set("model.depth", 2)
    cfg.set("data.batch_size", 64)
    cfg.set("run.device", "cpu")
    cfg.set("run.log_every", 5)
    cfg.set("run.checkpoint_every", 10)
    return _apply(cfg, sets)


def _apply(cfg: Config, sets: dict) -> Config:
    """Keyword overrides: ``optim__lr_d=1e-3`` sets ``optim.lr_d``."""
    cfg.update({key.replace("__", "."): value for key, value in sets.items()})
    return cfg


def tiny_image(**sets) -> Config:
    cfg = Config()
    cfg.update({"data.dataset": "digits", "model.arch": "dcgan"})
    cfg.set("model.g_width", 8)
    cfg.set("model.d_width", 8)
    cfg.set("model.d_norm", "batch")
    cfg.set("data.batch_size", 16)
    cfg.set("run.device", "cpu")
    cfg.set("run.log_every", 2)
    cfg.set("run.checkpoint_every", 4)
    cfg.set("quality.samples", 32)  # the quality probe on few samples (its tests set more)
    return _apply(cfg, sets)
