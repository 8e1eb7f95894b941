"""Headless command line: ``python main.py train --config FILE --out RUN_DIR ...``.

Bad input (unknown key, wrong type, out-of-range value, unreadable or damaged file, missing
dataset, an unwritable --out) exits with status 2 and one line naming the problem; a new run's
input is checked before RUN_DIR is created, so nothing half-written can be mistaken for a
finished run.

Exit statuses: 0 done; 2 bad input (or a run folder file that cannot be read or written);
3 diverged (the last good checkpoint is kept); 4 the device failed (e.g. out of memory; the
last good checkpoint is kept, and the line says how to continue on the CPU or with a smaller
batch); 130 Ctrl-C (SIGINT), 143 SIGTERM: the run stops at the next step boundary, writes its
final line and checkpoint and says how to resume. A second Ctrl-C/SIGTERM while that final
checkpoint is written abandons it (the previous checkpoint set stays whole).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Sequence

from . import config as config_mod
from .cli_parser import OneLineParser
from .config import ConfigError
from .contract import (EXIT_BAD_INPUT, EXIT_DEVICE, EXIT_DIVERGED, EXIT_INTERRUPTED,
                       EXIT_TERMINATED, MetricsRecord)
from .disk_errors import write_error_text
from .overrides import parse_change, parse_setting
from .session import USER_ERRORS, TrainingSession
from .trainer import DeviceStepError, Diverged


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="main.py train",
                      description="Train a GAN headless and write a run folder.")
    p.add_argument("--config", help="a preset's name (see: presets) or a TOML config file")
    p.add_argument("--out", required=True, help="run folder to write (must be new or empty)")
    p.add_argument("--steps", type=int, help="total generator steps (run.steps)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set constraints.spectral.enabled=true")
    p.add_argument("--change", dest="changes", action="append", default=[],
                   metavar="STEP:KEY=VALUE",
                   help="apply a change before generator step STEP+1, as the GUI would; kept "
                        "in RUN_DIR/schedule.json, so --resume applies the ones not reached")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="run.device")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bars (training, dataset decoding and downloads)")
    return p


def _silent(*_args) -> None:
    """A dataset progress callback that draws nothing (--no-progress)."""


def _prepare(args) -> TrainingSession:
    changes = [parse_change(text).entry for text in args.changes]
    if args.steps is not None and args.steps < 1:
        raise ConfigError(f"--steps must be >= 1, got {args.steps}")
    progress = _silent if args.no_progress else None
    if args.resume:
        if args.config or args.sets:
            raise ConfigError("--resume continues with the run's saved config; use --change "
                              "to alter it, not --config/--set")
        return TrainingSession(args.out, resume=True, device=args.device, steps=args.steps,
                               changes=changes, progress=progress)
    if not args.config:
        raise ConfigError("--config FILE is required for a new run")
    cfg = config_mod.load(args.config)
    overrides = dict(parse_setting(item) for item in args.sets)
    if args.device:
        overrides["run.device"] = args.device
    cfg.update(overrides)  # together, so e.g. dataset and arch can change in one go
    return TrainingSession(args.out, cfg, device=args.device, steps=args.steps, changes=changes,
                           progress=progress)


def _progress(session: TrainingSession, enabled: bool):
    from tqdm import tqdm

    cfg = session.cfg
    return tqdm(total=cfg.run.steps, initial=session.trainer.step_count, unit="step",
                dynamic_ncols=True, disable=not enabled, smoothing=0.1,
                desc=f"{cfg.data.dataset}/{cfg.loss.kind} on {session.trainer.device.type}")


class _Signals:
    """SIGINT (Ctrl-C) and SIGTERM (``kill``, ``timeout``, schedulers) end the run the same way.

    While training (``defer`` on) the first signal only asks the loop to stop at the next step
    boundary, so a step is never cut half-way and the final checkpoint is a real state of the
    run. Otherwise (starting up, or writing the final checkpoint) a signal interrupts at once
    with KeyboardInterrupt; the checkpoint writer then keeps the previous set whole."""

    def __init__(self):
        self.received: int | None = None  # the first signal's number
        self.defer = False
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def ignore(self) -> None:
        """No more interruptions while the last lines are printed and files closed."""
        for sig in self._previous:
            signal.signal(sig, signal.SIG_IGN)

    def _handle(self, signum, _frame) -> None:
        first = self.received is None
        if first:
            self.received = signum
        if first and self.defer:
            return
        raise KeyboardInterrupt

    @property
    def stop_requested(self) -> bool:
        return self.received is not None

    def exit_status(self) -> int:
        return EXIT_TERMINATED if self.received == signal.SIGTERM else EXIT_INTERRUPTED

    def verb(self) -> str:
        return "terminated (SIGTERM)" if self.received == signal.SIGTERM else "interrupted"


def _checkpoint_note(session: TrainingSession) -> str:
    if session.checkpoint_step is None:
        return (f"no checkpoint was written; --out {session.folder.path} --resume starts the run "
                f"over from step 0")
    return (f"the last good checkpoint (step {session.checkpoint_step}) is in "
            f"{session.folder.checkpoint_dir}")


def train_main(argv: Sequence[str]) -> int:
    args = build_parser().parse_command(argv)
    if isinstance(args, int):  # --help (0) or a usage error (2)
        return args
    signals = _Signals()
    signals.install()
    try:
        return _train(args, signals)
    finally:
        signals.restore()


def _train(args, signals: _Signals) -> int:
    try:
        session = _prepare(args)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # e.g. a dataset file that cannot be read
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        signals.ignore()
        print(f"{signals.verb()} before training started", file=sys.stderr)
        return signals.exit_status()
    for note in session.notes:
        print(f"note: {note}", file=sys.stderr)

    bar = _progress(session, not args.no_progress)
    resume_hint = f"continue with --out {session.folder.path} --resume"
    try:
        try:
            signals.defer = True
            while not session.done and not signals.stop_requested:
                record = session.advance()
                bar.update(1)
                if record is not None:
                    rec = MetricsRecord.from_dict(record)
                    bar.set_postfix(loss_d=f"{rec.loss_d:.3g}", loss_g=f"{rec.loss_g:.3g}",
                                    refresh=False)
                for warning in session.drain_warnings():
                    bar.write(f"warning: {warning}", file=sys.stderr)
                for note in session.drain_notes():  # e.g. what an optimizer switch reset
                    bar.write(f"note: {note}", file=sys.stderr)
            signals.defer = False
            bar.close()
            session.finish()
            signals.ignore()
        finally:
            signals.defer = False
    except Diverged as exc:
        signals.ignore()
        bar.close()
        session.close()
        print(f"error: {exc}; {_checkpoint_note(session)}", file=sys.stderr)
        return EXIT_DIVERGED
    except DeviceStepError as exc:
        signals.ignore()
        bar.close()
        session.close()
        step = session.checkpoint_step if session.checkpoint_step is not None else 0
        smaller = (f"--change {step}:data.batch_size="
                   f"{max(1, session.cfg.data.batch_size // 2)}")
        how = (f"continue with a smaller batch: --out {session.folder.path} --resume {smaller}"
               if session.trainer.device.type == "cpu" else
               f"continue with --out {session.folder.path} --resume --device cpu, or with a "
               f"smaller batch: --resume {smaller}")
        print(f"error: {exc}; {_checkpoint_note(session)}; {how}", file=sys.stderr)
        return EXIT_DEVICE
    except KeyboardInterrupt:  # a (second) signal while the final line/checkpoint was written
        signals.ignore()
        bar.close()
        session.close()
        if session.checkpoint_step == session.trainer.step_count:  # it had just finished
            print(f"{signals.verb()} at step {session.trainer.step_count}; {resume_hint}",
                  file=sys.stderr)
        else:
            print(f"{signals.verb()} while the final checkpoint was written, which was "
                  f"abandoned; {_checkpoint_note(session)}; {resume_hint}", file=sys.stderr)
        return signals.exit_status()
    except (OSError, *USER_ERRORS) as exc:  # a file that cannot be written, a refused change
        signals.ignore()
        bar.close()
        session.close()
        text = (write_error_text(exc.filename, exc)
                if isinstance(exc, OSError) and exc.filename else str(exc))
        print(f"error: {text}; {_checkpoint_note(session)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    signals.ignore()
    for warning in session.drain_warnings():
        print(f"warning: {warning}", file=sys.stderr)
    if signals.stop_requested:
        print(f"{signals.verb()} at step {session.trainer.step_count}; {resume_hint}",
              file=sys.stderr)
        return signals.exit_status()
    print(f"done: {session.trainer.step_count} steps in {session.trainer.elapsed():.1f} s -> "
          f"{session.folder.path}", file=sys.stderr)
    return 0

