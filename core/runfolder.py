"""The run folder of DESIGN.md ("Contract: run folder").

```
RUN_DIR/config.toml              the resolved config at start
RUN_DIR/metrics.jsonl            one JSON object per logged step, flushed as written
RUN_DIR/events.jsonl             one JSON object per applied change: {"step", "time", "change"}
RUN_DIR/checkpoints/last/        trainer.pt, G.pt, D.pt
RUN_DIR/samples/                 sample grids (PNG) for image data
```
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from . import config as config_mod
from .checkpoint import atomic_save


class RunFolderError(RuntimeError):
    pass


def _json_safe(value: Any) -> Any:
    """JSON has no NaN/Infinity: write them as null so every line stays standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


class RunFolder:
    def __init__(self, path: str | Path, *, resume: bool = False):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise RunFolderError(f"{self.path} exists and is not a folder")
        if resume:
            if not (self.path / "checkpoints" / "last" / "trainer.pt").is_file():
                raise RunFolderError(f"cannot resume: {self.path} has no checkpoints/last/trainer.pt")
        elif self.path.is_dir() and any(self.path.iterdir()):
            raise RunFolderError(f"{self.path} is not empty; choose a new folder or pass --resume")
        self.resume = resume
        self._metrics = None
        self._events = None

    # Files are opened lazily, so validating a run creates nothing on disk.
    def open(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "checkpoints" / "last").mkdir(parents=True, exist_ok=True)
        self._metrics = open(self.path / "metrics.jsonl", "a", encoding="utf-8")
        self._events = open(self.path / "events.jsonl", "a", encoding="utf-8")

    def close(self) -> None:
        for fh in (self._metrics, self._events):
            if fh is not None:
                fh.close()
        self._metrics = self._events = None

    def write_config(self, cfg: config_mod.Config) -> None:
        # whole or not at all: a reader following this folder never sees half a config
        tmp = self.path / "config.toml.tmp"
        config_mod.save(cfg, tmp)
        os.replace(tmp, self.path / "config.toml")

    @staticmethod
    def _append(fh, obj: dict[str, Any]) -> None:
        fh.write(json.dumps(_json_safe(obj), allow_nan=False) + "\n")
        fh.flush()

    def append_metrics(self, record: dict[str, Any]) -> None:
        self._append(self._metrics, record)

    def append_event(self, event: dict[str, Any]) -> None:
        self._append(self._events, event)

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints" / "last"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    def save_checkpoint(self, trainer) -> None:
        g, d = trainer.plain_state_dicts()
        # trainer.pt last: its presence marks a complete checkpoint set.
        atomic_save(g, self.checkpoint_dir / "G.pt")
        atomic_save(d, self.checkpoint_dir / "D.pt")
        atomic_save(trainer.state_dict(), self.checkpoint_dir / "trainer.pt")

    def trim_after(self, step: int) -> None:
        """On resume, drop metrics/events that the checkpoint of ``step`` does not contain
        (written by the interrupted session after its last checkpoint)."""
        for name in ("metrics.jsonl", "events.jsonl"):
            path = self.path / name
            if not path.exists():
                continue
            keep = []
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a crash
                if name == "metrics.jsonl" and obj.get("step", 0) > step:
                    continue
                # A change with step S is applied before step S+1, i.e. after the checkpoint
                # of step S was written: the resumed run applies it again.
                if name == "events.jsonl" and obj.get("step", 0) >= step:
                    continue
                keep.append(line)
            path.write_text("".join(l + "\n" for l in keep), encoding="utf-8")
