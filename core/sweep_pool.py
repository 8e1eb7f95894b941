"""Running a sweep's trials: one pool of local worker processes (or Ray) for one or several
sweeps, each into its own folder; the summary is rewritten as each trial finishes.

Trials run in local worker processes (:mod:`core.trial`, spawned, each with a fair share of
the cores as torch threads) or as Ray tasks (:mod:`core.sweep_ray`); both call the same
:func:`core.trial.run_trial`.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from .contract import EXIT_INTERRUPTED
from .cores import available_cores, thread_share
from .sweep_spec import Sweep, Trial
from .sweep_state import SweepJob
from .trial import failure, init_worker, run_trial, trial_args

EXIT_OK = 0
EXIT_TRIAL_FAILED = 1


def default_workers(n_trials: int) -> int:
    return max(1, min(n_trials, available_cores()))


def run_sweep(sweep: Sweep, out: str | Path, **options) -> int:
    """Run (or resume) every trial of ``sweep`` into ``out``; returns the exit status."""
    return run_sweeps([(sweep, out)], **options)


def run_sweeps(jobs: Sequence[tuple[Sweep, str | Path]], *, workers: int | None = None,
               threads: int | None = None, ray_address: str | None = None,
               progress: bool = True,
               echo: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> int:
    """Run several sweeps, each into its own folder, on one pool of workers (or Ray), so
    the trials of all of them share the cores; returns the exit status."""
    prepared = [SweepJob(sweep, out) for sweep, out in jobs]
    todo = [(job, trial) for job in prepared for trial in job.todo]
    total = sum(len(job.sweep.trials) for job in prepared)
    skipped = total - len(todo)
    n_workers = workers or default_workers(len(todo))
    threads = threads or (1 if ray_address else thread_share(n_workers))
    if skipped:
        echo(f"resuming: {skipped} of {total} trials already finished")
    from tqdm import tqdm

    where = (f"Ray ({ray_address}), {threads} threads each" if ray_address
             else f"{n_workers} workers x {threads} threads")
    bar = tqdm(total=total, initial=skipped, unit="trial", dynamic_ncols=True,
               disable=not progress, desc=f"sweep on {where}")
    t0 = time.perf_counter()

    def finished(item: tuple[SweepJob, Trial], result: dict[str, Any]) -> None:
        job, trial = item
        job.statuses[trial.name] = result["status"]
        job.results[trial.name] = result
        if result["status"] in ("done", "diverged", "failed"):
            bar.update(1)
        if result["status"] in ("diverged", "failed"):
            bar.write(f"{job.out / trial.name}: {result['status']}: {result.get('message', '')}")
        job.write()

    interrupted = False
    previous_term = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):  # kill: stop as Ctrl-C does (checkpoints, summary)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    if hasattr(signal, "pthread_sigmask"):  # a mask inherited from the launcher would hold it
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        if ray_address:
            from .sweep_ray import run_on_ray
            interrupted = run_on_ray(todo, ray_address, threads, finished)
        else:
            interrupted = _run_local(todo, n_workers, threads, finished)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        bar.close()
    statuses: list[str] = []
    paths = []
    for job in prepared:
        for name, status in job.statuses.items():
            if status == "pending" and interrupted:  # never started: stays resumable
                job.statuses[name] = "interrupted"
        paths.append(str(job.write()))
        statuses += job.statuses.values()
    counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
    echo(f"{'interrupted' if interrupted else 'sweep finished'} in "
         f"{time.perf_counter() - t0:.1f} s: "
         + ", ".join(f"{n} {s}" for s, n in counts.items()) + f" -> {', '.join(paths)}")
    if interrupted:
        echo("run the same command again to resume")
        return EXIT_INTERRUPTED
    return EXIT_TRIAL_FAILED if "failed" in statuses else EXIT_OK


def _run_local(todo: list[tuple[SweepJob, Trial]], workers: int, threads: int,
               finished: Callable[[tuple[SweepJob, Trial], dict[str, Any]], None]) -> bool:
    """Run trials in ``workers`` spawned processes; True if interrupted (Ctrl-C / SIGTERM)."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait


    if not todo:
        return False
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker,
                               initargs=(threads, stop, os.getpid()))
    futures = {}
    reported = set()
    try:
        futures = {pool.submit(run_trial, trial_args(t, job.out, threads)): (job, t)
                   for job, t in todo}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                reported.add(fut)
                finished(futures[fut], _result_of(fut))
        return False
    except KeyboardInterrupt:
        # Running trials see the event between two steps, checkpoint and return; trials
        # not started yet are cancelled. A second Ctrl-C while waiting is ignored.
        stop.set()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            # Cancel every queued trial first: while we wait for the running ones, the pool
            # would otherwise hand the next queued ones to the freed workers.
            started = [f for f in futures if f not in reported and not f.cancel()]
            for fut in started:
                finished(futures[fut], _result_of(fut))
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _result_of(fut) -> dict[str, Any]:
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - a worker crash is one trial's failure
        return failure(exc)
