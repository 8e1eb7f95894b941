"""Sweep trials as Ray tasks (``python main.py sweep ... --ray auto|ADDRESS|local``).

Each trial is one ``@ray.remote`` task running :func:`core.trial.run_trial`, the same function
the local worker pool runs; it writes its run folder to the sweep's ``--out``, which must be
a file system every Ray node sees (the path is passed absolute). A trial asks Ray for
``threads`` CPUs (its torch threads) and one GPU when its config says ``run.device = "cuda"``
("auto" gets no GPU reserved, so on a Ray worker without one it trains on the CPU). Ray is an
optional extra: ``pip install '.[cluster]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .cores import available_cores
from .errors import first_line
from .sweep_spec import SweepError, Trial
from .trial import failure, run_trial, trial_args


def check_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        raise SweepError("--ray needs Ray, which is not installed: pip install '.[cluster]'") \
            from None


def _connect(address: str) -> None:
    import ray

    if address == "local":  # a fresh Ray instance on this machine, gone with the sweep
        ray.init(num_cpus=available_cores(), include_dashboard=False, log_to_driver=False)
    else:
        try:
            ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise SweepError(f"--ray {address}: cannot connect to a Ray cluster: "
                             f"{first_line(exc)}") from None


def run_on_ray(todo: list[tuple[Any, Trial]], address: str, threads: int,
               finished: Callable[[tuple[Any, Trial], dict[str, Any]], None]) -> bool:
    """Run the trials as Ray tasks; True if interrupted (Ctrl-C / SIGTERM)."""
    import ray


    if not todo:
        return False
    _connect(address)
    try:
        remote = ray.remote(run_trial)
        refs = {}
        for job, t in todo:
            task = remote.options(num_cpus=threads, num_gpus=1 if t.device == "cuda" else 0,
                                  max_retries=0)
            refs[task.remote(trial_args(t, Path(job.out).resolve(), threads))] = (job, t)
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    finished(refs[ref], _result(ref))
            return False
        except KeyboardInterrupt:
            # A running task gets KeyboardInterrupt, checkpoints and returns "interrupted";
            # a queued one is dropped and stays resumable.
            for ref in pending:
                ray.cancel(ref)
            for ref in pending:
                result = _result(ref)
                if result["status"] != "cancelled":
                    finished(refs[ref], result)
            return True
    finally:
        ray.shutdown()


def _result(ref) -> dict[str, Any]:
    import ray
    from ray.exceptions import TaskCancelledError

    try:
        return ray.get(ref)
    except TaskCancelledError:
        return {"status": "cancelled"}
    except Exception as exc:  # noqa: BLE001 - a task's error is that trial's failure
        return failure(exc)
