"""The ``clip_share`` metrics field: share of each D layer's weights within 1 % of +-c."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.cli import train_main
from core import config as C
from tests.helpers import tiny_2d

pytestmark = pytest.mark.slow  # trains a clipped critic


def test_clip_share_matches_the_exported_weights(tmp_path):
    cfg_path = tmp_path / "cfg.toml"
    C.save(tiny_2d(**{"loss__kind": "wasserstein", "optim__lr_d": 5e-3}), cfg_path)
    out = tmp_path / "run"
    assert train_main(["--config", str(cfg_path), "--out", str(out), "--steps", "30",
                       "--no-progress", "--set", "constraints.clip.enabled=true",
                       "--set", "constraints.clip.c=0.02",
                       "--change", "20:constraints.clip.enabled=false"]) == 0
    lines = [json.loads(s) for s in (out / "metrics.jsonl").read_text().splitlines()]
    on = [m for m in lines if m["step"] <= 20]
    assert all(set(m["clip_share"]) == set(m["sigma"]) for m in on)
    assert all(m["clip_share"] is None for m in lines if m["step"] > 20)  # clipping off
    # Independent count on the weights saved at step 20's checkpoint is not kept, so rerun
    # to 20 steps and compare with D.pt there (only clipping: raw = effective weights).
    out20 = tmp_path / "run20"
    assert train_main(["--config", str(cfg_path), "--out", str(out20), "--steps", "20",
                       "--no-progress", "--set", "constraints.clip.enabled=true",
                       "--set", "constraints.clip.c=0.02"]) == 0
    last = json.loads((out20 / "metrics.jsonl").read_text().splitlines()[-1])
    D = torch.load(out20 / "checkpoints/last/D.pt", weights_only=True)
    for layer, share in last["clip_share"].items():
        w = D[layer + ".weight"].double().numpy()
        assert np.abs(w).max() <= 0.02 + 1e-9
        assert share == np.mean(np.abs(w) >= 0.99 * 0.02)
    assert max(last["clip_share"].values()) > 0.05  # a learning rate of 5e-3 reaches the bound
