"""The runs one window holds, as the run list and the overlaid plots see them.

:class:`QtRunCollection` keeps, per run, what comparing needs besides the run's data: its config
(for labels), its folder, its colour and dash pattern, whether it is shown, a label the user
may have typed, its status line, and the run object itself (``source``: the app's run model,
which this module reads only for the events its run applied). Labels come from
``core.compare.run_labels`` (configs and events: "spectral on -> off @60") and are recomputed
for every run whenever one is added or removed or a run applies a change (a third run can turn
"spectral on" / "spectral off" into "spectral on, seed 0" ...); a label the user typed is
kept as typed.

Everything that changes goes through the collection's methods, which emit one signal per
change, so the run list dock, the plots and the settings can all follow the same object.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor

from core import compare
from core.config import Config

from .palette import next_style_index, run_style


@dataclass
class RunEntry:
    """One run in the collection (read it; change it through the collection)."""

    key: int                     # stable id, never reused within a collection
    cfg: Config
    path: Path | None            # the run folder, when there is one
    source: Any = None           # the app's object for this run (run model)
    status: str = ""             # e.g. "finished", "following", "training", "stopped"
    visible: bool = True
    style_index: int = 0
    color: QColor | None = None  # None: the style's colour
    custom_label: str = ""       # typed by the user; "" = the automatic label
    auto_label: str = ""

    @property
    def label(self) -> str:
        return self.custom_label or self.auto_label

    @property
    def events(self) -> list:
        """The changes the run applied while training (its model's events)."""
        return list(getattr(getattr(self.source, "model", None), "events", None) or ())

    @property
    def pen_color(self) -> QColor:
        return QColor(self.color) if self.color is not None else run_style(self.style_index)[0]

    @property
    def dash(self) -> Qt.PenStyle:
        return run_style(self.style_index)[1]

    @property
    def name(self) -> str:
        """The folder's name (or the label, for a run without a folder)."""
        return self.path.name if self.path is not None else self.label


class QtRunCollection(QObject):
    """Runs in the order they were added, one of them selected (see the module docstring).

    Signals carry the run's key: ``added``, ``removed``, ``changed`` (label, colour, dash,
    visibility or status), ``selectionChanged`` (-1: none).
    """

    added = Signal(int)
    removed = Signal(int)
    changed = Signal(int)
    selectionChanged = Signal(int)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._entries: dict[int, RunEntry] = {}
        self._next_key = 0
        self._selected = -1
        self._labelled_events: tuple[int, ...] = ()  # each run's event count at the last relabel

    # ----------------------------------------------------------------- reading
    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[RunEntry]:
        return iter(list(self._entries.values()))

    def __contains__(self, key: int) -> bool:
        return key in self._entries

    def entry(self, key: int) -> RunEntry:
        try:
            return self._entries[key]
        except KeyError:
            raise KeyError(f"no run {key} in this collection") from None

    def keys(self) -> list[int]:
        return list(self._entries)

    def visible(self) -> list[RunEntry]:
        return [e for e in self._entries.values() if e.visible]

    def find(self, *, path: str | Path | None = None, source: Any = None) -> RunEntry | None:
        """The run with this folder (compared resolved) or this source object, if any."""
        want = Path(path).resolve() if path is not None else None
        for e in self._entries.values():
            if source is not None and e.source is source:
                return e
            if want is not None and e.path is not None and e.path.resolve() == want:
                return e
        return None

    @property
    def selected(self) -> int:
        return self._selected

    def selected_entry(self) -> RunEntry | None:
        return self._entries.get(self._selected)

    def labels(self) -> dict[int, str]:
        return {k: e.label for k, e in self._entries.items()}

    def caption(self, keys: list[int] | None = None) -> str:
        """A figure caption naming these runs (default: the visible ones) and how they differ."""
        entries = [self.entry(k) for k in keys] if keys is not None else self.visible()
        if not entries:
            return ""
        return compare.caption([e.cfg for e in entries], [e.label for e in entries],
                               [e.name for e in entries], events=[e.events for e in entries])

    # ----------------------------------------------------------------- changing
    def add(self, cfg: Config, path: str | Path | None = None, *, source: Any = None,
            status: str = "", label: str = "", select: bool = False) -> int:
        """Add a run; returns its key. Its colour is the first one no other run uses."""
        key = self._next_key
        self._next_key += 1
        used = [e.style_index for e in self._entries.values()]
        self._entries[key] = RunEntry(key=key, cfg=cfg, path=Path(path) if path else None,
                                      source=source, status=status,
                                      style_index=next_style_index(used),
                                      custom_label=label.strip())
        changed = self._relabel()
        self.added.emit(key)
        for k in changed:
            if k != key:
                self.changed.emit(k)
        if select or self._selected < 0:
            self.select(key)
        return key

    def remove(self, key: int) -> RunEntry:
        entry = self.entry(key)
        del self._entries[key]
        changed = self._relabel()
        self.removed.emit(key)
        for k in changed:
            self.changed.emit(k)
        if self._selected == key:
            self.select(next(iter(self._entries), -1))
        return entry

    def rename(self, key: int, text: str) -> str:
        """Give a run a label of its own ("" returns it to the automatic one); returns the
        label now shown. ValueError when another run already shows that label."""
        entry = self.entry(key)
        text = " ".join(text.split())
        if text and any(e.label == text for e in self._entries.values() if e.key != key):
            raise ValueError(f"another run is already called '{text}'")
        entry.custom_label = text
        changed = set(self._relabel()) | {key}
        for k in changed:
            self.changed.emit(k)
        return entry.label

    def recolour(self, key: int, color: QColor | str | None) -> None:
        """Set a run's colour (None: back to its style's colour)."""
        entry = self.entry(key)
        entry.color = QColor(color) if color is not None else None
        if entry.color is not None and not entry.color.isValid():
            entry.color = None
            raise ValueError(f"not a colour: {color!r}")
        self.changed.emit(key)

    def set_visible(self, key: int, visible: bool) -> None:
        entry = self.entry(key)
        if entry.visible != bool(visible):
            entry.visible = bool(visible)
            self.changed.emit(key)

    def set_status(self, key: int, status: str) -> None:
        entry = self.entry(key)
        if entry.status != status:
            entry.status = status
            self.changed.emit(key)

    def set_config(self, key: int, cfg: Config) -> None:
        """A run's config changed (a new run in the same slot): labels are recomputed."""
        self.entry(key).cfg = cfg
        for k in set(self._relabel()) | {key}:
            self.changed.emit(k)

    def select(self, key: int) -> None:
        if key != -1:
            self.entry(key)
        if key != self._selected:
            self._selected = key
            self.selectionChanged.emit(key)

    def clear(self) -> None:
        for key in list(self._entries):
            self.remove(key)

    # ----------------------------------------------------------------- labels
    def refresh_labels(self) -> None:
        """Relabel when a run applied a change since the labels were made (cheap otherwise)."""
        if tuple(len(e.events) for e in self._entries.values()) != self._labelled_events:
            for k in self._relabel():
                self.changed.emit(k)

    def _relabel(self) -> list[int]:
        """Recompute the automatic labels; returns the keys whose shown label changed. A label
        the user typed wins: an automatic one equal to it gets a number."""
        entries = list(self._entries.values())
        before = {e.key: e.label for e in entries}
        events = [e.events for e in entries]
        self._labelled_events = tuple(len(ev) for ev in events)
        autos = compare.run_labels([e.cfg for e in entries], events=events) if entries else []
        taken = {e.custom_label for e in entries if e.custom_label}
        for e, auto in zip(entries, autos):
            candidate, n = auto, 2
            while candidate in taken:
                candidate = f"{auto} ({n})"
                n += 1
            e.auto_label = candidate
            if not e.custom_label:
                taken.add(candidate)
        return [e.key for e in entries if e.label != before.get(e.key)]
