"""Writing and reading checkpoint files safely.

A checkpoint is a *set* of files (``trainer.pt``, ``G.pt``, ``D.pt`` in ``checkpoints/last/``)
that must always come from the same step. :func:`write_checkpoint_set` writes the step's files
into a fresh hidden folder beside it, fsyncs them, marks that folder complete with a rename and
then swaps it in for the previous set with two renames. A kill at any moment leaves either the
previous set or the new one, never a mix; :func:`recover_checkpoint_set` (run before every
write and when a run is resumed) finishes or undoes an interrupted swap and removes the
leftovers of an interrupted write.

``trainer.pt`` is :meth:`Trainer.state_dict` plus, optionally, the writing session's "session"
entry (``core.resume_state.SESSION_KEYS``: what a resume needs to log exactly what an uninterrupted
run logs); a checkpoint without it (an older build's) resumes as before.

Reads use ``torch.load(..., weights_only=True)``: a checkpoint holds only tensors, numbers,
strings and containers, never pickled code. Anything that is not a readable checkpoint of ours
(a text file, a truncated zip, our format tag with missing keys or wrong shapes, a config out
of range) is a :class:`CheckpointError` whose one-line message names the file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import torch

from .config import Config, ConfigError
from .disk_errors import torch_save
from .errors import first_line
from .pause_points import pause_point
from .runlayout import LAST
from .trainer import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, Trainer

# What trainer.pt must hold (Trainer.state_dict); "device_type" and "session" are optional
# (added later).
TRAINER_KEYS = ("config", "step", "elapsed", "G", "D", "opt_g", "opt_d", "generator",
                "constraints", "acc", "acc_n")


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, truncated or not ours; the message names the file."""


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable (POSIX; a no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------- checkpoint sets
def _staging(parent: Path, name: str, kind: str) -> list[Path]:
    return sorted(parent.glob(f".{name}.{kind}-*"))


def recover_checkpoint_set(parent: str | Path, name: str = LAST) -> None:
    """Bring ``parent/name`` back to one complete set after a kill at any moment of
    :func:`write_checkpoint_set`: a swap cut between its two renames is finished (the complete
    new set goes in) or, without one, undone; half-written sets and moved-aside old sets are
    removed, and so are stray ``*.tmp`` files of single-file writes."""
    parent = Path(parent)
    if not parent.is_dir():
        return
    final = parent / name
    if not final.exists() and not final.is_symlink():
        complete, old = _staging(parent, name, "complete"), _staging(parent, name, "old")
        if complete:
            os.rename(complete[-1], final)
        elif old:
            os.rename(old[-1], final)
        if complete or old:
            fsync_dir(parent)
    for kind in ("partial", "complete", "old"):
        for leftover in _staging(parent, name, kind):
            shutil.rmtree(leftover, ignore_errors=True)
    for folder in (parent, final):
        if folder.is_dir():
            for tmp in folder.glob("*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()


def write_checkpoint_set(parent: str | Path, files: dict[str, Any], name: str = LAST) -> None:
    """Write ``files`` ({file name: object for torch.save}) as the set ``parent/name``,
    replacing the previous set as a whole (see the module docstring). If interrupted in this
    process (e.g. a second Ctrl-C), the previous set is kept and nothing is left behind."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    recover_checkpoint_set(parent, name)
    final = parent / name
    if final.exists() and not final.is_dir():
        raise CheckpointError(f"{final} is not a folder; move it away to let the run save "
                              f"its checkpoints there")
    tag = uuid.uuid4().hex[:8]
    partial = parent / f".{name}.partial-{tag}"
    complete = parent / f".{name}.complete-{tag}"
    old = parent / f".{name}.old-{tag}"
    try:
        partial.mkdir()
        for file_name, obj in files.items():
            with open(partial / file_name, "wb") as fh:
                torch_save(obj, fh, final / file_name)
                fh.flush()
                os.fsync(fh.fileno())
            pause_point(f"checkpoint:{file_name}")
        fsync_dir(partial)
        os.rename(partial, complete)  # from here on the new set counts as written
        if final.exists():
            os.rename(final, old)
        pause_point("checkpoint:swap")
        os.rename(complete, final)
        fsync_dir(parent)
    except BaseException:
        recover_checkpoint_set(parent, name)
        raise
    shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------- reading
def safe_load(path: str | Path) -> Any:
    path = Path(path)
    if path.exists() and not path.is_file():
        raise CheckpointError(f"{path} is not a file (a checkpoint file was expected there)")
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any parse failure (KeyError for a text file, BadZipFile, ...)
        raise CheckpointError(f"{path} is not a readable checkpoint (truncated or not a torch "
                              f"file): {first_line(exc)}") from None


def load_trainer_state(path: str | Path) -> dict[str, Any]:
    state = safe_load(path)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a Lipschitz Playground trainer checkpoint")
    if state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path} has checkpoint version {state.get('version')}, this build "
                              f"reads version {CHECKPOINT_VERSION}")
    missing = [key for key in TRAINER_KEYS if key not in state]
    if missing:
        raise CheckpointError(f"{path} is damaged: it lacks {', '.join(missing)}")
    if not isinstance(state["config"], dict):
        raise CheckpointError(f"{path} is damaged: its config is not a table")
    if not isinstance(state["step"], int) or state["step"] < 0:
        raise CheckpointError(f"{path} is damaged: its step is {state['step']!r}")
    return state


def trainer_from_checkpoint(path: str | Path, *, device: str | torch.device | None = None,
                            progress=None, state: dict[str, Any] | None = None) -> Trainer:
    """The trainer saved in ``path`` (a ``trainer.pt``), ready to continue exactly.

    A config the current rules refuse, tensors of the wrong shape and other damage raise
    :class:`CheckpointError` naming the file; device and dataset errors pass through."""
    path = Path(path)
    if state is None:
        state = load_trainer_state(path)
    try:
        cfg = Config.from_dict(state["config"])
    except ConfigError as exc:
        raise CheckpointError(f"{path}: its config is invalid: {exc}") from None
    trainer = Trainer(cfg, device=device, progress=progress)
    try:
        trainer.load_state_dict(state)
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path} does not fit its own config (damaged or edited): "
                              f"{first_line(exc)}") from None
    return trainer
