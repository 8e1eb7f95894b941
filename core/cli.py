"""Headless command line: ``python main.py train --config FILE --out RUN_DIR ...``.

Bad input (unknown key, wrong type, out-of-range value, unreadable file, missing dataset)
exits with status 2 and one line naming the problem; it is detected before RUN_DIR is created,
so nothing half-written can be mistaken for a finished run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import config as config_mod
from .config import ConfigError
from .contract import EXIT_BAD_INPUT, EXIT_DIVERGED, MetricsRecord
from .session import USER_ERRORS, TrainingSession, parse_change
from .trainer import Diverged

EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one clear line, status 2 (argparse prints usage too)
        print(f"error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="main.py train", description="Train a GAN headless and write a run folder.")
    p.add_argument("--config", help="TOML config (a preset from resources/presets/ or your own)")
    p.add_argument("--out", required=True, help="run folder to write (must be new or empty)")
    p.add_argument("--steps", type=int, help="total generator steps (run.steps)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set constraints.spectral.enabled=true")
    p.add_argument("--change", dest="changes", action="append", default=[],
                   metavar="STEP:KEY=VALUE",
                   help="apply a change before generator step STEP+1, as the GUI would")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="run.device")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _prepare(args) -> TrainingSession:
    changes = [parse_change(text) for text in args.changes]
    if args.steps is not None and args.steps < 1:
        raise ConfigError(f"--steps must be >= 1, got {args.steps}")
    if args.resume:
        if args.config or args.sets:
            raise ConfigError("--resume continues with the run's saved config; use --change "
                              "to alter it, not --config/--set")
        return TrainingSession(args.out, resume=True, device=args.device, steps=args.steps,
                               changes=changes)
    if not args.config:
        raise ConfigError("--config FILE is required for a new run")
    cfg = config_mod.load(args.config)
    overrides = {}
    for item in args.sets:
        key, eq, value = item.partition("=")
        if not eq:
            raise ConfigError(f"--set must look like KEY=VALUE, got '{item}'")
        overrides[key.strip()] = config_mod.parse_key_text(key.strip(), value)
    if args.device:
        overrides["run.device"] = args.device
    cfg.update(overrides)  # together, so e.g. dataset and arch can change in one go
    return TrainingSession(args.out, cfg, device=args.device, steps=args.steps, changes=changes)


def _progress(session: TrainingSession, enabled: bool):
    from tqdm import tqdm

    cfg = session.cfg
    return tqdm(total=cfg.run.steps, initial=session.trainer.step_count, unit="step",
                dynamic_ncols=True, disable=not enabled, smoothing=0.1,
                desc=f"{cfg.data.dataset}/{cfg.loss.kind} on {session.trainer.device.type}")


def train_main(argv: Sequence[str]) -> int:
    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:  # --help (0) or a usage error (2): report it as a status
        return int(exc.code or 0)
    try:
        session = _prepare(args)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

    bar = _progress(session, not args.no_progress)
    try:
        while not session.done:
            record = session.advance()
            bar.update(1)
            if record is not None:
                rec = MetricsRecord.from_dict(record)
                bar.set_postfix(loss_d=f"{rec.loss_d:.3f}", loss_g=f"{rec.loss_g:.3f}",
                                refresh=False)
    except Diverged as exc:
        bar.close()
        session.close()
        print(f"error: {exc}; the last good checkpoint is in {session.folder.checkpoint_dir}",
              file=sys.stderr)
        return EXIT_DIVERGED
    except KeyboardInterrupt:
        bar.close()
        session.finish()
        print(f"interrupted at step {session.trainer.step_count}; continue with "
              f"--out {session.folder.path} --resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except USER_ERRORS as exc:  # e.g. a scheduled change that the config refuses
        bar.close()
        session.finish()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    bar.close()
    session.finish()
    print(f"done: {session.trainer.step_count} steps in {session.trainer.elapsed():.1f} s -> "
          f"{session.folder.path}", file=sys.stderr)
    return 0

