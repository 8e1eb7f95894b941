"""Several runs in one window: the collection of runs (labels from their config differences,
colours, visibility, selection), their colour palette and the run list dock."""

from .palette import RUN_COLORS, readable_on, run_style
from .run_list import RunListDock
from .runs import RunCollection, RunEntry

__all__ = ["RUN_COLORS", "RunCollection", "RunEntry", "RunListDock", "readable_on", "run_style"]
