"""The runs one window holds and comparing them: the run manager and its runs (every run with
the same actions), the collection of runs (labels from their config differences, colours,
visibility, selection), their colour palette, the run list dock, the curves of several runs
in one plot, run folders read from disk and followed, and the A/B dialog."""

from .palette import RUN_COLORS, run_style
from .run_list import QtRunListDock
from .runs import QtRunCollection, RunEntry

__all__ = ["RUN_COLORS", "QtRunCollection", "RunEntry", "QtRunListDock", "run_style"]
