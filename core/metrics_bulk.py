"""Reading a large metrics.jsonl fast, in bounded memory, as columns of numbers.

``core.runreader`` reads a run's lines one by one into dicts: right for following a run and
for thousands of lines, far too slow and too big for a million (a 332 MB file took the app
121 s and 3.15 GB). :func:`read_columns` reads the file in chunks of ``CHUNK_BYTES``, decodes
each chunk in one call of msgspec's JSON decoder into typed structs (only the numeric fields
of :class:`core.contract.MetricsRecord`, and its tables of numbers; other fields are skipped
unread), and yields each chunk as numpy columns named as ``sngan_gui.history`` names them
(``loss_d``, ``sigma.fc1``). The caller keeps what it needs (the app: a bounded min/max
history) and drops the chunk, so memory stays at one chunk whatever the file's size.

A chunk that does not decode as a whole (a line that is not JSON, lacks a field every line
has, or has a step that is not an integer) is decoded again line by line: its good lines are
kept and each bad one is a :class:`core.runreader.LineProblem` naming the file and line, as
the line-by-line reader reports it. A last line without its newline is left for later (a
writer is in the middle of it); ``end`` is where a follower continues.
"""

from __future__ import annotations

import dataclasses
import os
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import msgspec
import numpy as np

from .contract import MetricsRecord
from .runreader import LineProblem, parse_json_line

# 256 KiB: ~800 lines of 332 bytes, ~4 ms of CPU to decode and sort into columns; a GUI
# thread beside the reader waits for the interpreter lock at most about that long.
CHUNK_BYTES = 1 << 18


def _line_type() -> tuple[type, tuple[str, ...], tuple[str, ...], frozenset[str]]:
    """A msgspec Struct with MetricsRecord's numeric fields (float | None), its tables of
    numbers (dict[str, float | None] | None) and ``step`` as an int, required where the
    record requires them; and the names of its numbers, its tables, its required fields.
    Built from the record, so a field added there is read here too."""
    hints = typing.get_type_hints(MetricsRecord)
    fields: list[tuple] = []
    numbers, tables, required = [], [], set()
    for f in dataclasses.fields(MetricsRecord):
        hint = hints[f.name]
        if typing.get_origin(hint) is typing.Union or type(hint).__name__ == "UnionType":
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        kind = typing.get_origin(hint) or hint
        needed = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.name == "step":
            fields.append(("step", int))
        elif kind is dict:
            fields.append((f.name, Optional[dict[str, Optional[float]]], None))
            tables.append(f.name)
        elif kind in (int, float):
            fields.append((f.name, Optional[float]) if needed
                          else (f.name, Optional[float], None))
            numbers.append(f.name)
        else:
            continue  # text (lip_bound_note): not plotted, skipped unread
        if needed:
            required.add(f.name)
    # gc=False: a million small structs need not be tracked by the cycle collector (they
    # hold no cycles), which otherwise runs again and again while a chunk decodes.
    return (msgspec.defstruct("MetricsLine", fields, gc=False), tuple(numbers), tuple(tables),
            frozenset(required))


MetricsLine, _NUMERIC, _TABLES, _REQUIRED = _line_type()
_DECODER = msgspec.json.Decoder(MetricsLine)


@dataclass
class ColumnChunk:
    """The lines of one chunk as columns: ``steps`` and ``columns`` (float64, NaN where a
    line has no number), with what a reader needs to go on."""

    steps: np.ndarray
    columns: dict[str, np.ndarray]
    end: int                    # byte offset after the last complete line read so far
    lines: int                  # complete lines read so far (good or not)
    size: int                   # the file's size when reading began (for progress)
    problems: list[LineProblem] = field(default_factory=list)
    last_time: float | None = None  # ``time`` of the chunk's last good line

    @property
    def fraction(self) -> float:
        return min(1.0, self.end / self.size) if self.size else 1.0


def _columns(records: list) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(steps, {series: values}) of decoded lines. Plain list comprehensions per field: on
    this machine kind they cost ~2.5 us of CPU per line, half of what transposing the
    records with zip(*attrgetter) and converting those tuples did."""
    steps = np.array([r.step for r in records], dtype=np.float64)
    cols: dict[str, np.ndarray] = {}
    for name in _NUMERIC:
        col = np.array([getattr(r, name) for r in records], dtype=np.float64)  # None: NaN
        if not np.isnan(col).all():
            cols[name] = col
    for name in _TABLES:
        tables = [getattr(r, name) for r in records]
        keys: dict[str, None] = {}
        for t in tables:
            if t:
                keys.update(dict.fromkeys(t))
        for key in keys:
            cols[f"{name}.{key}"] = np.array([t.get(key) if t else None for t in tables],
                                             dtype=np.float64)
    return steps, cols


def _line_problem(raw: bytes) -> str:
    """Why one line does not decode (the line-by-line reader's words where it has them)."""
    obj, reason = parse_json_line(raw)
    if reason is not None:
        return reason
    step = obj.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        return f"has no integer 'step' (got {step!r})"
    missing = sorted(_REQUIRED - set(obj))
    if missing:
        return f"has no {', '.join(missing)}"
    return "has a field that is not a number"


def _decode(chunk: bytes, first_line: int, path: Path) -> tuple[list, list[LineProblem]]:
    try:
        records = _DECODER.decode_lines(chunk)
        if all(r.step >= 0 for r in records):
            return records, []
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    records, problems = [], []
    for number, raw in enumerate(chunk.split(b"\n"), first_line):
        if not raw.strip():
            continue
        try:
            record = _DECODER.decode(raw)
            if record.step < 0:
                raise msgspec.ValidationError("negative step")
            records.append(record)
        except (msgspec.DecodeError, msgspec.ValidationError):
            problems.append(LineProblem(path, number, _line_problem(raw)))
    return records, problems


def read_columns(path: str | Path, *, start: int = 0, first_line: int = 1,
                 chunk_bytes: int = CHUNK_BYTES,
                 stop: Callable[[], bool] | None = None) -> Iterator[ColumnChunk]:
    """Yield the complete lines of ``path`` from byte ``start`` (line ``first_line``) to its
    end as it is now, chunk by chunk (see the module docstring). ``stop``: checked between
    chunks; when it returns True the reading ends early. OSError if the file cannot be read."""
    path = Path(path)
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        fh.seek(start)
        offset, line, carry = start, first_line, b""
        while offset + len(carry) < size:
            if stop is not None and stop():
                return
            data = fh.read(min(chunk_bytes, size - offset - len(carry)))
            if not data:
                break
            data = carry + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:  # no newline yet: a line longer than a chunk, or being written
                carry = data
                continue
            body, carry = data[:cut], data[cut:]
            records, problems = _decode(body, line, path)
            line += body.count(b"\n")
            offset += len(body)
            steps, cols = _columns(records)
            time.sleep(0)  # let a waiting thread (the GUI's) have the interpreter lock
            yield ColumnChunk(steps, cols, offset, line - first_line, size, problems,
                              records[-1].time if records else None)


def as_dict(record: Any) -> dict[str, Any]:
    """A decoded line as a plain dict (for tests and debugging)."""
    return {name: getattr(record, name) for name in record.__struct_fields__}
