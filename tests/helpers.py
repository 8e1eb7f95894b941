"""Small configs that train in milliseconds, shared by the engine tests."""

from __future__ import annotations

from pathlib import Path

from core.config import Config

PRESETS = Path(__file__).resolve().parent.parent / "resources" / "presets"


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
    return _apply(cfg, sets)
