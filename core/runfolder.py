"""Writing a run folder (its layout: ``core.runlayout``; docs/run-folder.md).

Every failure to read or write its files is a :class:`RunFolderError` (or
``checkpoint.CheckpointError``) with a one-line message that names the file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

from . import config as config_mod
from . import runlayout
from .checkpoint import CheckpointError, fsync_dir, recover_checkpoint_set, write_checkpoint_set
from .disk_errors import is_disk_full, write_error_text
from .pause_points import pause_point
from .runlayout import RunPaths
from .run_lock import RunLock, RunLockedError
from .runreader import parse_json_line


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


def _os_error(action: str, path: Path, exc: OSError) -> RunFolderError:
    if is_disk_full(exc):
        return RunFolderError(write_error_text(path, exc))
    why = exc.strerror or type(exc).__name__
    return RunFolderError(f"cannot {action} {path}: {why}")


def iter_step_lines(path: Path) -> Iterator[tuple[int, int, bytes, dict[str, Any]]]:
    """Yield (line number, byte offset, raw line, object) for each line of a run's JSONL file.

    A last line without its newline that does not parse is what a kill in the middle of a
    write leaves: it is skipped. Any other line that is not UTF-8 JSON holding an object with
    an integer ``step`` raises :class:`RunFolderError` naming the file and the line.
    (Strict on purpose: the resume trims these files by step. ``core.runreader`` reads them
    for display and skips such lines instead; both judge a line by ``parse_json_line``.)"""
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise _os_error("read", path, exc) from None
    with fh:
        offset = 0
        for number, raw in enumerate(fh, 1):
            obj, reason = parse_json_line(raw)
            if reason is not None:
                if not raw.endswith(b"\n"):
                    return  # a torn last line
                fix = "" if reason.startswith("is not a JSON object") else \
                    "; remove that line (or restore the file) and try again"
                raise RunFolderError(f"{path} line {number} {reason}{fix}")
            if not isinstance(obj.get("step"), int) or isinstance(obj.get("step"), bool):
                raise RunFolderError(f"{path} line {number} has no integer 'step'")
            yield number, offset, raw, obj
            offset += len(raw)


def _write_text_atomic(path: Path, text: str) -> None:
    _write_bytes_atomic(path, text.encode("utf-8"))


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write beside ``path``, fsync, rename over it: a kill leaves the old or the new file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class RunFolder:
    def __init__(self, path: str | Path, *, resume: bool = False):
        """Check that ``path`` can hold a new run (missing or empty) or, with ``resume``, that
        it holds one; nothing is written here (see :meth:`open`)."""
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise RunFolderError(f"{self.path} exists and is not a folder")
        if resume:
            if not self.path.is_dir():
                raise RunFolderError(f"cannot resume: {self.path} has no "
                                     f"{runlayout.TRAINER_CHECKPOINT} (the folder does not exist)")
            if not self.paths.trainer_checkpoint.exists() and not self.paths.config.exists():
                raise RunFolderError(f"cannot resume: {self.path} has no "
                                     f"{runlayout.TRAINER_CHECKPOINT} (and no {runlayout.CONFIG} "
                                     f"to start it over from); it is not a run folder")
        elif self.path.is_dir() and any(self.path.iterdir()):
            raise RunFolderError(f"{self.path} is not empty; {self._hint_for_existing()}")
        self.resume = resume
        self._metrics = None
        self._events = None
        self._lock = RunLock(self.path)

    @property
    def paths(self) -> RunPaths:
        return RunPaths(self.path)

    def _hint_for_existing(self) -> str:
        if self.paths.trainer_checkpoint.is_file():
            return "it holds a run: continue it with --resume, or choose a new folder"
        if self.paths.config.is_file():
            return ("it holds a run stopped before its first checkpoint: --resume starts it over "
                    "from step 0 with its config.toml, or choose a new folder")
        return "choose a new folder or pass --resume"

    def recover(self) -> None:
        """Finish or undo a checkpoint swap that a kill interrupted and remove temporaries,
        before the run folder is read for a resume."""
        try:
            recover_checkpoint_set(self.paths.checkpoints, runlayout.LAST)
            for tmp in self.path.glob(".*.tmp"):
                tmp.unlink()
        except OSError as exc:
            raise _os_error("repair", self.paths.checkpoints, exc) from None

    def has_checkpoint(self) -> bool:
        """Whether a checkpoint set was ever completed (trainer.pt is its last file; an older
        build left G.pt/D.pt without it when killed during its first checkpoint)."""
        last = self.checkpoint_dir
        if last.exists() and not last.is_dir():
            raise RunFolderError(f"{last} is not a folder; move it away (or restore the "
                                 f"checkpoint folder) and try again")
        return self.paths.trainer_checkpoint.exists()

    def lock(self) -> None:
        """Become the folder's only writer (``core.run_lock``) until :meth:`close`; a folder
        another process writes is a RunFolderError naming that process. A resume takes it
        before it repairs or trims anything; a new run when :meth:`open` creates the folder."""
        try:
            self._lock.acquire()
        except RunLockedError as exc:
            raise RunFolderError(str(exc)) from None
        except OSError as exc:
            raise _os_error("write", self._lock.path, exc) from None

    # Files are opened lazily, so validating a run creates nothing on disk.
    def open(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _os_error("create the run folder", self.path, exc) from None
        self.lock()
        handles = []
        for path in (self.paths.metrics, self.paths.events):
            try:
                handles.append(open(path, "a", encoding="utf-8"))
            except OSError as exc:
                for fh in handles:
                    fh.close()
                raise _os_error("write", path, exc) from None
        self._metrics, self._events = handles

    def close(self) -> None:
        for fh in (self._metrics, self._events):
            if fh is not None:
                try:
                    fh.close()
                except OSError:
                    pass  # the lines were flushed as written; a full disk is reported there
        self._metrics = self._events = None
        self._lock.release()

    def write_config(self, cfg: config_mod.Config) -> None:
        try:
            _write_text_atomic(self.paths.config, config_mod.dumps(cfg))
        except OSError as exc:
            raise _os_error("write", self.paths.config, exc) from None

    def read_config(self) -> config_mod.Config:
        return config_mod.load(self.paths.config)

    # ------------------------------------------------------------------ scheduled changes
    def write_schedule(self, changes: list[tuple[int, str, Any]]) -> None:
        """Store the run's scheduled changes (step, key, typed value), in order."""
        doc = {"changes": [{"step": step, "change": {key: value}} for step, key, value in changes]}
        try:
            _write_text_atomic(self.paths.schedule, json.dumps(doc, indent=1) + "\n")
        except OSError as exc:
            raise _os_error("write", self.paths.schedule, exc) from None

    def read_schedule(self) -> list[tuple[int, str, Any]]:
        """The stored schedule ([] for a run without one, e.g. from an older build)."""
        path = self.paths.schedule
        if not path.exists():
            return []
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise _os_error("read", path, exc) from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise RunFolderError(f"{path} is not valid JSON") from None
        changes = doc.get("changes") if isinstance(doc, dict) else None
        if not isinstance(changes, list):
            raise RunFolderError(f"{path} must hold {{\"changes\": [...]}}")
        out = []
        for i, entry in enumerate(changes):
            ok = (isinstance(entry, dict) and isinstance(entry.get("step"), int)
                  and not isinstance(entry.get("step"), bool) and entry["step"] >= 0
                  and isinstance(entry.get("change"), dict) and len(entry["change"]) == 1)
            if not ok:
                raise RunFolderError(f"{path}: change {i + 1} must look like "
                                     f"{{\"step\": N, \"change\": {{\"key\": value}}}}")
            (key, value), = entry["change"].items()
            out.append((entry["step"], key, value))
        return out

    # ------------------------------------------------------------------ appending
    def _append(self, fh, obj: dict[str, Any]) -> None:
        try:
            fh.write(json.dumps(_json_safe(obj), allow_nan=False) + "\n")
            fh.flush()
        except OSError as exc:
            raise _os_error("write", Path(fh.name), exc) from None

    def append_metrics(self, record: dict[str, Any]) -> None:
        self._append(self._metrics, record)

    def append_event(self, event: dict[str, Any]) -> None:
        self._append(self._events, event)

    @property
    def checkpoint_dir(self) -> Path:
        return self.paths.last

    def save_checkpoint(self, trainer, session: dict[str, Any] | None = None) -> None:
        """Write the trainer's checkpoint set (trainer.pt, G.pt, D.pt of one step), replacing
        the previous set as a whole. ``session``: what the writing session needs besides the
        trainer to continue exactly (``trainer.pt``'s optional "session" entry)."""
        g, d = trainer.plain_state_dicts()
        state = trainer.state_dict()
        if session is not None:
            state["session"] = session
        files = {runlayout.GENERATOR: g, runlayout.CRITIC: d, runlayout.TRAINER: state}
        assert tuple(files) == runlayout.CHECKPOINT_FILES
        try:
            write_checkpoint_set(self.paths.checkpoints, files)
        except OSError as exc:
            if is_disk_full(exc):
                raise CheckpointError(write_error_text(exc.filename or self.checkpoint_dir,
                                                       exc)) from None
            raise CheckpointError(f"cannot write the checkpoint in {self.checkpoint_dir}: "
                                  f"{exc.strerror or exc}") from None

    # ------------------------------------------------------------------ resume
    def trim_after(self, step: int, last_line: int | None = None) -> None:
        """On resume, drop metrics/events that the checkpoint of ``step`` does not contain
        (written by the interrupted session after its last checkpoint). ``last_line``: the
        step of the last metrics line the checkpoint contains (default ``step``): a stopped
        session writes its checkpoint and then a last line at the step it stopped, off the
        logging cadence, which the resumed run does not keep (it logs on the cadence, with the
        averages since the line before, as if it had never stopped).

        Call before :meth:`open`. Never loses history to a kill or a Ctrl-C: the lines to
        drop are the files' tail (steps only grow), cut with one ``truncate`` call; a file
        whose steps do not grow is rewritten beside and renamed over (fsynced first)."""
        # A change with step S is applied before step S+1, i.e. after the checkpoint of step S
        # was written: the resumed run applies it again.
        keep_rules: dict[str, Callable[[int], bool]] = {
            runlayout.METRICS: lambda s: s <= (step if last_line is None else last_line),
            runlayout.EVENTS: lambda s: s < step}
        for name, keep in keep_rules.items():
            path = self.paths.log(name)
            if not path.exists():
                continue
            if not path.is_file():
                raise RunFolderError(f"{path} is not a file")
            cut = None        # offset of the first line to drop
            in_order = True   # no kept line after a dropped one
            end = 0           # end of the last line that parsed
            newline = True    # whether that line ends with its newline
            for _, offset, raw, obj in iter_step_lines(path):
                if keep(obj["step"]):
                    in_order = in_order and cut is None
                elif cut is None:
                    cut = offset
                end, newline = offset + len(raw), raw.endswith(b"\n")
            size = path.stat().st_size
            if in_order:
                new_end = end if cut is None else cut
                add_newline = cut is None and not newline
                if new_end == size and not add_newline:
                    continue  # nothing to drop
            pause_point(f"trim:{name}")
            try:
                if in_order:  # a torn last line or lines after the checkpoint: cut the tail
                    with open(path, "r+b") as fh:
                        fh.truncate(new_end)
                        if add_newline:  # a whole last line whose newline was not written
                            fh.seek(new_end)
                            fh.write(b"\n")
                        fh.flush()
                        os.fsync(fh.fileno())
                else:
                    kept = b"".join(raw if raw.endswith(b"\n") else raw + b"\n"
                                    for _, _, raw, obj in iter_step_lines(path) if keep(obj["step"]))
                    _write_bytes_atomic(path, kept)
            except OSError as exc:
                raise _os_error("trim", path, exc) from None
