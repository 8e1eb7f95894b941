"""How many cores this process may use, and each worker's share of them as torch threads.

A leaf module (standard library only): the sweep's workers read it before torch is imported
in their process, and the run loop sizes its torch threads with it.
"""

from __future__ import annotations

import os


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def thread_share(workers: int, cores: int | None = None) -> int:
    """torch threads per worker: a fair share of the cores, at least one."""
    if cores is None:
        cores = available_cores()
    return max(1, cores // max(1, workers))
