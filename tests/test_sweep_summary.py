"""summary.csv's image-quality columns, read back against the run's own metrics lines; a 2D
sweep's file keeps its columns."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from core.session import TrainingSession
from core.sweep_spec import Sweep, Trial
from core.sweep_summary import QUALITY_COLUMNS, trial_row, write_summary
from tests.helpers import tiny_2d, tiny_image

pytestmark = pytest.mark.slow  # trains an image run with the quality probe


def _train(out: Path, name: str, cfg, steps: int) -> Trial:
    session = TrainingSession(out / name, cfg, steps=steps)
    while not session.done:
        session.advance()
    session.finish()
    return Trial(name, None, {}, cfg.run.seed, cfg.to_dict(), [])


def _summary(out: Path, trials: list[Trial]) -> list[dict[str, str]]:
    rows = [trial_row(out, t, "done", None) for t in trials]
    path = write_summary(out, Sweep(out / "sweep.toml", out / "base.toml", trials, []), rows)
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_image_trials_have_their_quality_in_the_summary(tmp_path):
    trial = _train(tmp_path, "img", tiny_image(run__log_every=2, run__probe_every=2,
                                               quality__parzen=True), 6)
    lines = [json.loads(x) for x in (tmp_path / "img" / "metrics.jsonl").read_text().splitlines()]
    quality = [m for m in lines if m.get("fd") is not None]
    assert len(quality) == 3
    (row,) = _summary(tmp_path, [trial])
    last = quality[-1]
    for key in ("fd", "kid", "classes", "precision", "recall", "parzen_ll"):
        assert float(row[f"final_{key}"]) == pytest.approx(last[key], rel=1e-5), key
    assert float(row["best_fd"]) == pytest.approx(min(m["fd"] for m in quality), rel=1e-5)
    header = list(row)
    assert header.index("final_lip_bound") < header.index("final_fd") < header.index(
        "ms_per_step")


def test_a_2d_sweep_summary_has_no_quality_columns(tmp_path):
    trial = _train(tmp_path, "ring", tiny_2d(run__probe_every=5), 10)
    (row,) = _summary(tmp_path, [trial])
    assert not set(QUALITY_COLUMNS) & set(row)
    assert row["final_modes"] != ""
