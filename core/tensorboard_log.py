"""One run's TensorBoard event files, written with TensorBoard's own writer (the optional
``tensorboard`` extra; no TensorFlow needed).

What a run folder holds becomes (docs/command-line.md, "TensorBoard"):

- every numeric field of each ``metrics.jsonl`` line, a scalar at the line's step: top-level
  numbers under their name (``loss_d``), numbers inside objects one tag per key (``sigma/fc1``,
  ``time_split_ms/d_step``); whatever fields a newer version writes are taken the same way.
  ``null`` (a non-finite number), strings and lists are not scalars. Values are float32, as
  every TensorBoard scalar;
- each sample grid ``samples/step_N.png`` an image (tag ``samples``) at step N, its PNG bytes
  as they are;
- each applied change of ``events.jsonl`` a text (tag ``events``) at its step;
- the config, every key flattened (``constraints.spectral.enabled``), as the run's hparams
  (a session of TensorBoard's HParams view, named after the run), ended with its status when
  the run reached ``run.steps``.

:func:`replay` writes what a run folder holds (the converter, ``core.tensorboard_export``);
``TrainingSession`` writes the same records as it trains when ``run.tensorboard`` is set.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Mapping

from . import runlayout
from .config import Config, ConfigError

EXTRA = "pip install 'lipschitz-playground[tensorboard]'"
SAMPLES_TAG = "samples"
EVENTS_TAG = "events"
EVENT_FILE_PREFIX = "events.out.tfevents."
LIVE_FOLDER = runlayout.TENSORBOARD  # RUN_DIR/tensorboard/: the live log of run.tensorboard
FLUSH_SECONDS = 5            # how stale a live log may be on disk (TensorBoard reloads every 30 s)


class TensorBoardMissing(ConfigError):
    """The ``tensorboard`` package is not installed; the message names the extra."""


def require_tensorboard(what: str) -> None:
    """Raise :class:`TensorBoardMissing` (one line: ``what`` needs the extra) when the
    tensorboard package cannot be imported."""
    try:
        import tensorboard.summary.writer.event_file_writer  # noqa: F401
    except ImportError:
        raise TensorBoardMissing(f"{what} needs the tensorboard package: {EXTRA}") from None


def scalars(record: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """{tag: value} of every numeric field of a metrics line but ``step`` (the x axis)."""
    out: dict[str, float] = {}
    for key, value in record.items():
        if not prefix and key == "step":
            continue
        tag = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(scalars(value, tag + "/"))
        elif (isinstance(value, (int, float)) and not isinstance(value, bool)
              and math.isfinite(value)):
            out[tag] = float(value)
    return out


def hparams(cfg: Config) -> dict[str, bool | float | str]:
    """The config as flat {dotted key: value}, the types TensorBoard's hparams take."""
    out: dict[str, bool | float | str] = {}

    def walk(tree: Mapping[str, Any], prefix: str) -> None:
        for key, value in tree.items():
            if isinstance(value, Mapping):
                walk(value, f"{prefix}{key}.")
            elif isinstance(value, (bool, str)):
                out[prefix + key] = value
            elif isinstance(value, (int, float)):
                out[prefix + key] = float(value)
            elif isinstance(value, list):  # a drawn dataset's points: their count, not them
                out[prefix + key] = f"{len(value)} points"
            else:
                out[prefix + key] = str(value)

    walk(cfg.to_dict(), "")
    return out


def event_text(event: Mapping[str, Any]) -> str:
    """An applied change as the text TensorBoard shows at its step (Markdown)."""
    change = event.get("change") or {}
    parts = [f"`{key}` = `{_json_value(value)}`" for key, value in change.items()]
    return f"step {event.get('step')}: " + ", ".join(parts)


def _json_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def png_size(data: bytes) -> tuple[int, int, int]:
    """(height, width, channels) from a PNG's header (what TensorBoard's image summary
    states beside the encoded bytes; decoding is left to the browser)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(data[25], 3)  # colour type -> channels
    return height, width, channels


class TensorBoardLog:
    """The event file of one run in ``logdir`` (created). ``replace``: remove the event files
    already there first, so a conversion done again or a resumed live log holds each step
    once. ``name`` identifies the run's session in the HParams view."""

    def __init__(self, logdir: str | Path, name: str, *, replace: bool = False):
        require_tensorboard("TensorBoard output")
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.logdir = Path(logdir)
        self.name = name
        self.logdir.mkdir(parents=True, exist_ok=True)
        if replace:
            for old in self.logdir.glob(EVENT_FILE_PREFIX + "*"):
                old.unlink()
        self._writer = EventFileWriter(str(self.logdir), flush_secs=FLUSH_SECONDS)

    def _write(self, summary, step: int, wall_time: float | None) -> None:
        from tensorboard.compat.proto.event_pb2 import Event

        self._writer.add_event(Event(wall_time=time.time() if wall_time is None else wall_time,
                                     step=int(step), summary=summary))

    def start(self, cfg: Config, start_time: float | None = None) -> None:
        """The run's hparams (its HParams session start), at step 0."""
        from tensorboard.plugins.hparams.summary_v2 import hparams_pb

        start = time.time() if start_time is None else start_time
        self._write(hparams_pb(hparams(cfg), trial_id=self.name, start_time_secs=start), 0,
                    start)

    def metrics(self, record: Mapping[str, Any], wall_time: float | None = None) -> None:
        from tensorboard.compat.proto.summary_pb2 import Summary

        values = [Summary.Value(tag=tag, simple_value=value)
                  for tag, value in scalars(record).items()]
        if values:
            self._write(Summary(value=values), record["step"], wall_time)

    def event(self, event: Mapping[str, Any], wall_time: float | None = None) -> None:
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.plugins.text.metadata import create_summary_metadata
        from tensorboard.util.tensor_util import make_tensor_proto

        value = Summary.Value(tag=EVENTS_TAG, tensor=make_tensor_proto([event_text(event)]),
                              metadata=create_summary_metadata(display_name=EVENTS_TAG,
                                                               description=""))
        self._write(Summary(value=[value]), event["step"], wall_time)

    def sample(self, step: int, png: bytes, wall_time: float | None = None) -> None:
        from tensorboard.compat.proto.summary_pb2 import Summary

        height, width, channels = png_size(png)
        image = Summary.Image(height=height, width=width, colorspace=channels,
                              encoded_image_string=png)
        self._write(Summary(value=[Summary.Value(tag=SAMPLES_TAG, image=image)]), step,
                    wall_time)

    def end(self, status: str, step: int, end_time: float | None = None) -> None:
        """The HParams session's end: ``status`` "success" (reached run.steps), "failure"
        (diverged, or the device failed) or "unknown" (stopped before its end)."""
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

        end = time.time() if end_time is None else end_time
        code = {"success": api_pb2.STATUS_SUCCESS, "failure": api_pb2.STATUS_FAILURE,
                "unknown": api_pb2.STATUS_UNKNOWN}[status]
        info = plugin_data_pb2.HParamsPluginData(
            session_end_info=plugin_data_pb2.SessionEndInfo(status=code, end_time_secs=end))
        value = Summary.Value(tag=metadata.SESSION_END_INFO_TAG, tensor=metadata.NULL_TENSOR,
                              metadata=metadata.create_summary_metadata(info))
        self._write(Summary(value=[value]), step, end)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def replay(log: TensorBoardLog, run_dir: str | Path, *, end: bool = True,
           up_to_step: int | None = None) -> list[str]:
    """Write everything the run folder ``run_dir`` holds into ``log``: hparams, scalars,
    events, sample grids, and (``end``, for a run that reached ``run.steps``) the session's
    end. Wall times: the run's start (its config.toml's modification time) plus the lines'
    ``time`` (the run's training clock). ``up_to_step``: only sample grids up to that step
    (a resume writes the later ones again). Returns one line per thing left out (a damaged line
    of metrics.jsonl or events.jsonl, an unreadable sample), naming the file.
    ``core.runreader.RunReadError`` when ``run_dir`` is not a run folder."""
    from .runreader import RunReader

    reader = RunReader(run_dir)
    update = reader.poll()
    start = os.stat(reader.path / "config.toml").st_mtime
    log.start(reader.cfg, start)
    times = sorted((m["step"], m["time"]) for m in update.metrics
                   if isinstance(m.get("time"), (int, float)))

    def wall(step: int, own: Any = None) -> float:
        """The line's own time, else that of the first metrics line at or after ``step``."""
        if isinstance(own, (int, float)) and not isinstance(own, bool):
            return start + own
        later = [t for s, t in times if s >= step]
        return start + (later[0] if later else times[-1][1] if times else 0.0)

    skipped = [str(problem) for problem in reader.problems]
    for record in update.metrics:
        log.metrics(record, wall(record["step"], record.get("time")))
    for event in update.events:
        if isinstance(event.get("step"), int) and isinstance(event.get("change"), dict):
            log.event(event, wall(event["step"], event.get("time")))
        else:
            skipped.append(f"{reader.path / 'events.jsonl'}: an event without step or change")
    for step, path in update.samples:
        if up_to_step is not None and step > up_to_step:
            continue
        try:
            png = path.read_bytes()
            png_size(png)
        except (OSError, ValueError) as exc:
            skipped.append(f"{path}: {getattr(exc, 'strerror', None) or exc}")
            continue
        log.sample(step, png, wall(step))
    if end and reader.finished:
        log.end("success", reader.last_step, wall(reader.last_step))
    return skipped


class LiveLog:
    """``run.tensorboard = true``: a run's records mirrored into ``RUN_DIR/tensorboard/`` as
    :class:`core.session.TrainingSession` writes them, the same events :func:`replay` writes
    from the finished folder (wall times too: the run's start plus the records' ``time``).
    A resumed run first rewrites the log from its run folder (already cut back to the
    checkpoint; sample grids after it, which the resume draws again, are left out), so the
    log never holds a step that a resume trained again twice."""

    def __init__(self, run_dir: Path, cfg: Config, *, resume_step: int | None):
        """``resume_step``: the step a resumed run continues from (None: a new run)."""
        self.log = TensorBoardLog(run_dir / LIVE_FOLDER, run_dir.name, replace=True)
        self.start = os.stat(run_dir / "config.toml").st_mtime
        if resume_step is not None:  # lines the readers skip, the log skips too
            replay(self.log, run_dir, end=False, up_to_step=resume_step)
        else:
            self.log.start(cfg, self.start)

    def metrics(self, record: Mapping[str, Any]) -> None:
        self.log.metrics(record, self.start + record["time"])

    def event(self, event: Mapping[str, Any]) -> None:
        self.log.event(event, self.start + event["time"])

    def sample(self, step: int, path: Path, elapsed: float) -> None:
        self.log.sample(step, path.read_bytes(), self.start + elapsed)

    def close(self, status: str | None, step: int, elapsed: float) -> None:
        """Flush and close; ``status`` ends the HParams session (None: leave it open)."""
        try:
            if status is not None:
                self.log.end(status, step, self.start + elapsed)
        finally:
            self.log.close()
