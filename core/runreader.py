"""Reading a run folder that is finished, or still being written by another process.

One reader serves every consumer of a run folder's files: the app (open a run, follow one the
CLI or a sweep is writing), sweeps (summaries of finished trials) and resume (which lines a
checkpoint covers). Writers (``core.runfolder``) append one JSON object per line and flush
after the newline, so a line without its newline is one still being written, or cut by a
crash: it is held back, never parsed half. Lines that are complete but not a JSON object (a
corrupt byte, a foreign file) are skipped and reported by file and line number; they never
stop a reader.

Following is incremental: :class:`JsonlTail` remembers its byte offset and reads only what was
appended since the last call. A file that shrank or was replaced (a resume cuts the lines after
its checkpoint, by truncating the file or by renaming a rewritten copy over it) is read again
from the start, and the caller is told so (``restarted``) to drop what it had.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import config as config_mod
from .config import Config, ConfigError
from .contract import Event, MetricsRecord
from .runlayout import CONFIG, METRICS, RunPaths, sample_step


class RunReadError(ValueError):
    """A folder that is not a readable run; the message names the folder and the problem."""


class RunGoneError(RunReadError):
    """The run folder a reader follows was deleted or moved away."""


# A followed folder missing for this long is gone (a sweep that restarts a trial removes its
# folder and writes it again at once; that is not the end of the run).
GONE_AFTER_S = 2.0
# Bytes at the file's start and just before the read offset that a follower checks again on
# every read: a file rewritten in place (truncated and written longer between two polls)
# differs there, and is read again from its start instead of being continued mid-line.
CHECK_BYTES = 64


@dataclass(frozen=True)
class LineProblem:
    """A complete line that could not be used: ``PATH line N <reason>``."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path} line {self.line} {self.reason}"


def parse_json_line(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """One line of a run's JSONL file -> (object, None), or (None, why it is unusable):
    the one rule for every reader, tolerant (this module) or strict (the resume's trim)."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "is not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"is not valid JSON ({exc.msg})"
    if not isinstance(obj, dict):
        return None, f"is not a JSON object (got {type(obj).__name__})"
    return obj, None


class JsonlTail:
    """Incremental reader of one JSONL file (see the module docstring).

    :meth:`read_new` returns the objects of the lines completed since the previous call.
    ``problems`` collects every unusable complete line; ``restarted`` is set by a call that
    found the file shrunk or replaced, and so read it again from its first line.
    """

    def __init__(self, path: str | Path, *, require_step: bool = False,
                 only: re.Pattern[bytes] | None = None):
        """``require_step``: a line without an integer ``step`` is a problem (metrics).
        ``only``: parse only the lines in which this pattern is found (the others are
        counted, never split out or parsed: a reader of a few sparse fields of a big file
        pays a regular-expression scan, not a million JSON parses)."""
        self.path = Path(path)
        self.require_step = require_step
        self.only = only
        self._offset = 0
        self._pending = b""
        self._line = 0
        self._inode: int | None = None
        self._head = b""    # the file's first bytes as read
        self._before = b""  # the bytes just before _offset as read
        self.problems: list[LineProblem] = []
        self.restarted = False

    def _reset(self) -> None:
        self._offset, self._pending, self._line = 0, b"", 0
        self._head = self._before = b""
        self.problems = []
        self.restarted = True

    def _rewritten(self, fh) -> bool:
        """Whether the bytes read before differ now (the file was rewritten in place)."""
        if self._head:
            fh.seek(0)
            if fh.read(len(self._head)) != self._head:
                return True
        if self._before:
            fh.seek(self._offset - len(self._before))
            if fh.read(len(self._before)) != self._before:
                return True
        return False

    @property
    def offset(self) -> int:
        """Bytes consumed (complete lines and a held-back partial one)."""
        return self._offset - len(self._pending)

    @property
    def lines(self) -> int:
        return self._line

    def unread(self) -> int:
        """Bytes not read yet, after starting over (``restarted``) if the file was replaced
        or rewritten since the last read; 0 when it does not exist."""
        self.restarted = False
        try:
            st = os.stat(self.path)
            if self._inode is not None and (st.st_ino != self._inode or st.st_size < self._offset):
                self._reset()
            elif self._offset:
                with open(self.path, "rb") as fh:
                    if self._rewritten(fh):
                        self._reset()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise RunReadError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        return max(0, st.st_size - self.offset)

    def skip_to(self, offset: int, lines: int) -> None:
        """Go on from byte ``offset`` (the end of line ``lines``), read by someone else (a bulk
        read, ``core.metrics_bulk``)."""
        self._offset, self._line, self._pending = offset, lines, b""
        try:
            with open(self.path, "rb") as fh:
                self._inode = os.fstat(fh.fileno()).st_ino
                self._head = fh.read(min(CHECK_BYTES, offset))
                fh.seek(max(0, offset - CHECK_BYTES))
                self._before = fh.read(min(CHECK_BYTES, offset))
        except OSError:
            self._head = self._before = b""

    def read_new(self) -> list[dict[str, Any]]:
        self.restarted = False
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise RunReadError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if not os.path.isfile(self.path):
            raise RunReadError(f"{self.path} is not a file")
        if self._inode is not None and (st.st_ino != self._inode or st.st_size < self._offset):
            self._reset()
        self._inode = st.st_ino
        try:
            with open(self.path, "rb") as fh:
                if self._rewritten(fh):
                    self._reset()
                elif st.st_size == self._offset:
                    return []
                fh.seek(self._offset)
                chunk = fh.read(max(0, st.st_size - self._offset))
        except OSError as exc:
            raise RunReadError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if not chunk:
            return []
        if self._offset < CHECK_BYTES:
            self._head = (self._head + chunk)[:CHECK_BYTES]
        self._before = (self._before + chunk)[-CHECK_BYTES:]
        self._offset += len(chunk)
        if self.only is not None:
            return self._matching(self._pending + chunk)
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        return [obj for obj in map(self._parse, lines) if obj is not None]

    def _matching(self, data: bytes) -> list[dict[str, Any]]:
        """The objects of the complete lines of ``data`` in which ``only`` is found."""
        end = data.rfind(b"\n") + 1
        data, self._pending = data[:end], data[end:]
        out, counted, taken = [], 0, 0  # newlines counted before ``counted``; lines taken to
        for match in self.only.finditer(data):
            if match.start() < taken:
                continue  # found twice in one line
            start = data.rfind(b"\n", 0, match.start()) + 1
            stop = data.find(b"\n", match.end())
            self._line += data.count(b"\n", counted, start)
            counted = taken = stop + 1
            obj = self._parse(data[start:stop])
            if obj is not None:
                out.append(obj)
        self._line += data.count(b"\n", counted)
        return out

    def _parse(self, raw: bytes) -> dict[str, Any] | None:
        self._line += 1
        if not raw.strip():
            return None
        obj, reason = parse_json_line(raw)
        if reason is None and self.require_step and not _is_step(obj.get("step")):
            obj, reason = None, f"has no integer 'step' (got {obj.get('step')!r})"
        if reason is not None:
            self.problems.append(LineProblem(self.path, self._line, reason))
        return obj

    @property
    def incomplete_tail(self) -> bool:
        """Whether bytes after the last newline are held back (a line being written)."""
        return bool(self._pending)


def _is_step(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def read_jsonl(path: str | Path) -> tuple[list[dict[str, Any]], list[LineProblem]]:
    """Every complete object line of a JSONL file (none if it does not exist), and the problems."""
    tail = JsonlTail(path)
    return tail.read_new(), tail.problems


@dataclass
class RunUpdate:
    """What :meth:`RunReader.poll` found since the previous poll."""

    metrics: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    samples: list[tuple[int, Path]] = field(default_factory=list)  # (step, png), by step
    restarted: bool = False  # metrics or events were rewritten: drop what was read before
    # poll(bulk_over=N) found more than N unread bytes of metrics.jsonl: they were not read;
    # read them in bulk from this offset (core.metrics_bulk), then call metrics_read_to().
    bulk_from: int | None = None

    def __bool__(self) -> bool:
        return bool(self.metrics or self.events or self.samples or self.restarted
                    or self.bulk_from is not None)


_RECORD_FIELDS = {f.name for f in dataclasses.fields(MetricsRecord)}
_REQUIRED = {f.name for f in dataclasses.fields(MetricsRecord)
             if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}


def metrics_record(raw: dict[str, Any]) -> MetricsRecord:
    """A line of metrics.jsonl as a :class:`core.contract.MetricsRecord`. Fields this version
    does not know (written by a newer one) are left out; ValueError names a missing field."""
    missing = _REQUIRED - set(raw)
    if missing:
        raise ValueError(f"no {', '.join(sorted(missing))}")
    return MetricsRecord(**{k: v for k, v in raw.items() if k in _RECORD_FIELDS})


def event_record(raw: dict[str, Any]) -> Event:
    """A line of events.jsonl as a :class:`core.contract.Event` (ValueError if malformed)."""
    try:
        return Event.from_dict(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not an event ({exc})") from None


def load_run_config(path: str | Path) -> Config:
    """The config of the run folder ``path``; :class:`RunReadError` naming the folder if it is
    not a run folder or its config.toml is unreadable or invalid."""
    folder = Path(path)
    if not folder.is_dir():
        raise RunReadError(f"{folder} is not a run folder: "
                           f"{'it does not exist' if not folder.exists() else 'not a folder'}")
    paths = RunPaths(folder)
    if not paths.config.is_file():
        raise RunReadError(f"{folder} is not a run folder: it has no {CONFIG}")
    try:
        return config_mod.load(paths.config)
    except ConfigError as exc:
        raise RunReadError(f"{folder} is not a readable run folder: {exc}") from None


class RunReader:
    """A run folder read once (a finished run) or polled while another process writes it.

    The constructor checks that ``path`` is a run folder (a valid ``config.toml`` and a
    ``metrics.jsonl``) and raises :class:`RunReadError` with one line otherwise; it reads no
    lines yet. Each :meth:`poll` returns only what is new.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.paths = RunPaths(self.path)
        self.cfg = load_run_config(self.path)
        if not self.paths.metrics.is_file():
            raise RunReadError(f"{self.path} is not a run folder: it has no {METRICS}")
        self._metrics = JsonlTail(self.paths.metrics, require_step=True)
        self._events = JsonlTail(self.paths.events)
        self._samples_seen: set[str] = set()
        self.last_step: int | None = None
        self._missing_since: float | None = None

    @property
    def problems(self) -> list[LineProblem]:
        return [*self._metrics.problems, *self._events.problems]

    def _check_present(self) -> bool:
        """False while the folder is missing; RunGoneError once it stayed away GONE_AFTER_S."""
        if self.path.is_dir():
            self._missing_since = None
            return True
        now = time.monotonic()
        if self._missing_since is None:
            self._missing_since = now
        elif now - self._missing_since >= GONE_AFTER_S:
            raise RunGoneError(f"{self.path} no longer exists (deleted or moved away)")
        return False

    @property
    def metrics_lines(self) -> int:
        """Lines of metrics.jsonl read so far (good or not)."""
        return self._metrics.lines

    def metrics_read_to(self, offset: int, lines: int, last_step: int | None) -> None:
        """metrics.jsonl was read elsewhere up to byte ``offset`` (line ``lines``)."""
        self._metrics.skip_to(offset, lines)
        if last_step is not None:
            self.last_step = last_step

    def poll(self, bulk_over: int | None = None) -> RunUpdate:
        """What is new. ``bulk_over``: leave metrics.jsonl unread when more than that many
        bytes of it are new (``RunUpdate.bulk_from`` says from where)."""
        if not self._check_present():
            return RunUpdate()
        early = False  # found rewritten by unread() below (read_new() starts afresh)
        if bulk_over is not None:
            unread = self._metrics.unread()
            early = self._metrics.restarted
            if unread > bulk_over:
                restarted = self._metrics.restarted
                if restarted:  # the events are read again from the start with the metrics
                    self._events = JsonlTail(self._events.path)
                    self.last_step = None
                update = RunUpdate(events=self._events.read_new(), restarted=restarted,
                                   bulk_from=self._metrics.offset)
                update.samples = self._new_samples()
                return update
        update = RunUpdate(metrics=self._metrics.read_new(), events=self._events.read_new())
        update.restarted = early or self._metrics.restarted or self._events.restarted
        if update.restarted:  # give the caller the whole of both files again
            self._metrics = JsonlTail(self._metrics.path, require_step=True)
            self._events = JsonlTail(self._events.path)
            update.metrics, update.events = self._metrics.read_new(), self._events.read_new()
            self.last_step = None
        if update.metrics:
            self.last_step = update.metrics[-1]["step"]
        update.samples = self._new_samples()
        return update

    def _new_samples(self) -> list[tuple[int, Path]]:
        folder = self.paths.samples
        try:
            names = [e.name for e in os.scandir(folder) if e.name not in self._samples_seen]
        except OSError:
            return []
        found = []
        for name in names:
            step = sample_step(name)
            if step is not None:  # tmp files of an atomic write do not match
                self._samples_seen.add(name)
                found.append((step, folder / name))
        return sorted(found)

    @property
    def finished(self) -> bool:
        """Whether the last logged step reached the run's ``run.steps``."""
        return self.last_step is not None and self.last_step >= self.cfg.run.steps


def last_logged_step(path: str | Path) -> int | None:
    """The last logged step of a run folder, or None if it is not a readable run (or has no
    line yet): what sweeps and trials ask of a folder to know whether it is finished."""
    try:
        reader = RunReader(path)
    except RunReadError:
        return None
    reader.poll()
    return reader.last_step
