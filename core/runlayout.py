"""The run folder's layout: the one place that names its files (docs/run-folder.md).

```
RUN_DIR/config.toml              the resolved config at start
RUN_DIR/metrics.jsonl            one JSON object per logged step, flushed as written
RUN_DIR/events.jsonl             one JSON object per applied change: {"step", "time", "change"}
RUN_DIR/schedule.json            the changes scheduled for the run ({"changes": [{"step",
                                 "change": {key: value}}, ...]}), kept so a resume applies them
RUN_DIR/checkpoints/last/        G.pt, D.pt, trainer.pt (always one step's set, see checkpoint.py)
RUN_DIR/samples/step_NNNNNNN.png sample grids of image runs, by generator step
RUN_DIR/tensorboard/             TensorBoard event files while training (run.tensorboard)
RUN_DIR/.writer.lock             the writer's OS lock and who holds it (core.run_lock)
```

Writers (``core.runfolder``, ``core.checkpoint``), readers (``core.runreader``,
``core.runsnapshot``, the sweeps, the reproduction report) and the app's exports take every
path from :class:`RunPaths`, so a file is renamed or added here and nowhere else. A leaf
module: it imports nothing of the project.
"""

from __future__ import annotations

import re
from pathlib import Path

CONFIG = "config.toml"
METRICS = "metrics.jsonl"
EVENTS = "events.jsonl"
SCHEDULE = "schedule.json"
CHECKPOINTS = "checkpoints"
LAST = "last"               # the checkpoint set a resume continues from
GENERATOR = "G.pt"          # plain state dicts with the constraints baked in
CRITIC = "D.pt"
TRAINER = "trainer.pt"      # everything a resume needs; written last
# The files of a complete checkpoint set, in the order they are written.
CHECKPOINT_FILES = (GENERATOR, CRITIC, TRAINER)
SAMPLES = "samples"
TENSORBOARD = "tensorboard"  # the live TensorBoard log of run.tensorboard
WRITER_LOCK = ".writer.lock"  # locked by the one process writing the folder (core.run_lock)
SAMPLE_NAME = re.compile(r"step_(\d+)\.png$")  # a sample grid's file name (not its temp file)
# The trainer checkpoint relative to the run folder, as messages name it.
TRAINER_CHECKPOINT = Path(CHECKPOINTS) / LAST / TRAINER
# The JSONL logs whose lines carry a step (a resume cuts both after its checkpoint).
STEP_LOGS = (METRICS, EVENTS)


def sample_name(step: int) -> str:
    """The file name of the sample grid of generator step ``step``."""
    return f"step_{step:07d}.png"


def sample_step(name: str) -> int | None:
    """The step of a sample grid's file name; None for any other file."""
    match = SAMPLE_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


class RunPaths:
    """Every path of one run folder (``RunPaths(run_dir).metrics`` ...)."""

    __slots__ = ("root", "config", "metrics", "events", "schedule", "checkpoints", "last",
                 "trainer_checkpoint", "critic_checkpoint", "generator_checkpoint", "samples",
                 "tensorboard", "writer_lock")

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.config = self.root / CONFIG
        self.metrics = self.root / METRICS
        self.events = self.root / EVENTS
        self.schedule = self.root / SCHEDULE
        self.checkpoints = self.root / CHECKPOINTS  # holds the set "last" and its temporaries
        self.last = self.checkpoints / LAST
        self.trainer_checkpoint = self.last / TRAINER
        self.critic_checkpoint = self.last / CRITIC
        self.generator_checkpoint = self.last / GENERATOR
        self.samples = self.root / SAMPLES
        self.tensorboard = self.root / TENSORBOARD
        self.writer_lock = self.root / WRITER_LOCK

    def __repr__(self) -> str:
        return f"RunPaths({str(self.root)!r})"

    def sample(self, step: int) -> Path:
        return self.samples / sample_name(step)

    def log(self, name: str) -> Path:
        """One of :data:`STEP_LOGS` by name."""
        if name not in STEP_LOGS:
            raise ValueError(f"not a step log of a run folder: {name}")
        return self.root / name
