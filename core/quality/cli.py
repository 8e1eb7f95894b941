"""``python main.py score``: image quality of a run's generator or of a folder of images.

    python main.py score RUN_DIR [--step N] [--samples N] [--json]
    python main.py score --images DIR --dataset NAME [--samples N] [--json]

A run is scored from its last checkpoint (``checkpoints/last/G.pt``) on the same held-out
noise as its quality probe, so at the checkpoint's step it repeats the run's own line;
``--step N`` for an earlier step prints the fields its metrics.jsonl recorded at that step
(measured while it trained). A folder's PNG/JPEG/... images of any size are converted as the
dataset's images are (channels, size) and scored against that dataset's held-out split.
Bad input exits with status 2 and one line naming the file and the problem.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from ..cli_parser import OneLineParser
from ..config import DATASETS_IMAGE, Config, ConfigError, suggested_arch
from ..contract import EXIT_BAD_INPUT
from ..data import DatasetError, TqdmProgress
from .measure import fields_of, real_set, references
from .metrics import QUALITY_FIELDS, STACKED_FIELDS
from .probe import QUALITY_SEED_OFFSET
from .scorer import Scorer, prepare_scorer


class ScoreError(ValueError):
    """Bad input for ``score`` (one line)."""


def build_parser() -> OneLineParser:
    p = OneLineParser(prog="main.py score",
                      description="Image quality (fd, kid, classes, precision/recall, ...) of "
                                  "a run's generator or a folder of images, against the "
                                  "dataset's held-out split.")
    p.add_argument("run_dir", nargs="?", help="a run folder (scores checkpoints/last/G.pt)")
    p.add_argument("--step", type=int, help="the step to report (default: the checkpoint's)")
    p.add_argument("--images", help="a folder of images to score instead of a run")
    p.add_argument("--dataset", help="with --images: the dataset to score against")
    p.add_argument("--samples", type=int, help="N: generated / folder images scored "
                                               "(default: quality.samples, 500)")
    p.add_argument("--features", choices=["scorer", "inception"],
                   help="feature space (default: the run's quality.features, else scorer)")
    p.add_argument("--inception-weights", metavar="FILE",
                   help="InceptionV3 state dict for --features inception (quality."
                        "inception_weights; default: torchvision's file in the torch hub cache)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="cpu")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def score_main(argv: Sequence[str]) -> int:
    args = build_parser().parse_command(argv)
    if isinstance(args, int):  # --help, or a usage error (its line is printed)
        return args
    try:
        result = _score(args)
    except (ScoreError, ConfigError, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(result) if args.json else format_table(result))
    return 0


def _score(args) -> dict[str, Any]:
    if (args.run_dir is None) == (args.images is None):
        raise ScoreError("give a run folder or --images DIR --dataset NAME (one of them)")
    if args.samples is not None and args.samples < 16:
        raise ScoreError(f"--samples must be >= 16, got {args.samples}")
    if args.images is not None:
        return score_images(Path(args.images), args.dataset, args.samples, args.features,
                            args.device, args.inception_weights)
    return score_run(Path(args.run_dir), args.step, args.samples, args.features, args.device,
                     args.inception_weights)


def _device(name: str) -> torch.device:
    from ..device import resolve_device

    return resolve_device(name)


def _scorer(cfg: Config, device) -> Scorer:
    bar = TqdmProgress()
    try:
        return prepare_scorer(cfg, device, bar)
    finally:
        bar.close()


def _result(scorer: Scorer, fields: dict, n: int, refs: dict, **extra) -> dict[str, Any]:
    keys = QUALITY_FIELDS + (STACKED_FIELDS if scorer.stacked else ())
    out: dict[str, Any] = {k: _finite(fields.get(k)) for k in keys}
    out.update(scorer=scorer.describe(), scorer_label=scorer.label(), n=n,
               floor=refs["floor"], ceiling=refs["ceiling"], **extra)
    return out


def _finite(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


# ------------------------------------------------------------------------------ a folder
def _features(cfg: Config, features: str | None, weights: str | None) -> None:
    if features:
        cfg.set("quality.features", features)
    if weights:
        cfg.set("quality.inception_weights", weights)


def dataset_config(name: str | None, features: str | None, weights: str | None = None) -> Config:
    if not name:
        raise ScoreError("--images needs --dataset NAME (one of "
                         f"{', '.join(DATASETS_IMAGE)})")
    if name not in DATASETS_IMAGE:
        raise ScoreError(f"unknown dataset '{name}' (image datasets: {', '.join(DATASETS_IMAGE)})")
    if name == "folder":
        raise ScoreError("--dataset folder has no held-out split of its own: score against "
                         "a named dataset")
    cfg = Config()
    cfg.update({"data.dataset": name, "model.arch": suggested_arch(name)})
    _features(cfg, features, weights)
    return cfg


def score_images(folder: Path, dataset: str | None, samples: int | None,
                 features: str | None, device_name: str,
                 weights: str | None = None) -> dict[str, Any]:
    from ..data.folder import load_folder

    cfg = dataset_config(dataset, features, weights)
    n = samples or cfg.quality.samples
    device = _device(device_name)
    scorer = _scorer(cfg, device)
    c, size = scorer.splits.held_x.shape[1], scorer.splits.held_x.shape[2]
    if not folder.is_dir():
        raise ScoreError(f"{folder}: not a folder of images")
    images, skipped = load_folder(folder, size, c)
    if skipped:
        path, why = skipped[0]
        more = f" (and {len(skipped) - 1} more unreadable files)" if len(skipped) > 1 else ""
        raise ScoreError(f"{path}: cannot read the image ({why}){more}")
    if images.shape[0] < 16:
        raise ScoreError(f"{folder}: {images.shape[0]} images; scoring needs at least 16")
    images = images[:n]
    real = real_set(scorer, n)
    refs = references(scorer, n, real)
    fields = fields_of(scorer, real, *scorer.run(images))
    return _result(scorer, fields, images.shape[0], refs, source=str(folder))


# ------------------------------------------------------------------------------ a run
def score_run(run_dir: Path, step: int | None, samples: int | None, features: str | None,
              device_name: str, weights: str | None = None) -> dict[str, Any]:
    from ..checkpoint import CheckpointError, safe_load
    from ..runreader import RunReadError, load_run_config

    try:
        cfg = load_run_config(run_dir)
    except RunReadError as exc:
        raise ScoreError(str(exc)) from None
    if cfg.data.dataset not in DATASETS_IMAGE:
        raise ScoreError(f"{run_dir}: a 2D run ({cfg.data.dataset}); its modes and hq are in "
                         f"metrics.jsonl")
    _features(cfg, features, weights)
    n = samples or cfg.quality.samples
    last = run_dir / "checkpoints" / "last"
    g_file = last / "G.pt"
    if not g_file.is_file():
        raise ScoreError(f"{g_file}: no checkpoint (the run stopped before its first one)")
    try:
        ckpt_step = int(safe_load(last / "trainer.pt")["step"])
        g_state = safe_load(g_file)
    except (CheckpointError, KeyError, TypeError, ValueError) as exc:
        raise ScoreError(f"{last}: {exc}") from None
    if step is not None and step != ckpt_step:
        return _recorded(run_dir, step, ckpt_step)
    device = _device(device_name)
    scorer = _scorer(cfg, device)
    G = _generator(cfg, scorer, g_state, g_file, device)
    gen = torch.Generator().manual_seed(cfg.run.seed + QUALITY_SEED_OFFSET)
    noise = torch.randn(n, cfg.model.z_dim, generator=gen).to(device)
    with torch.no_grad():
        fake = torch.cat([G(noise[i:i + 500]).float() for i in range(0, n, 500)])
    real = real_set(scorer, n)
    refs = references(scorer, n, real)
    fields = fields_of(scorer, real, *scorer.run(fake))
    return _result(scorer, fields, n, refs, source=str(run_dir), step=ckpt_step)


def _generator(cfg: Config, scorer: Scorer, state: dict, path: Path, device):
    from ..models import build_models

    shape = tuple(scorer.splits.held_x.shape[1:])
    if scorer.stacked:
        shape = (3,) + shape[1:]
    try:
        G, _ = build_models(cfg.model, shape)
        G.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError) as exc:
        raise ScoreError(f"{path}: does not fit the run's generator "
                         f"({' '.join(str(exc).split())[:200]})") from None
    return G.to(device).eval()


def _recorded(run_dir: Path, step: int, ckpt_step: int) -> dict[str, Any]:
    from ..runreader import read_jsonl

    lines, _ = read_jsonl(run_dir / "metrics.jsonl")
    quality = [r for r in lines if r.get("fd") is not None or r.get("quality_n")]
    for r in quality:
        if r.get("step") == step:
            keys = QUALITY_FIELDS + (STACKED_FIELDS if "mode_kl" in r else ())
            out = {k: r.get(k) for k in keys}
            out.update(scorer={"label": r.get("quality_scorer")},
                       scorer_label=r.get("quality_scorer"), n=r.get("quality_n"),
                       floor=r.get("quality_floor") or {}, ceiling=r.get("quality_ceiling") or {},
                       source=str(run_dir), step=step, recorded=True)
            return out
    steps = [r["step"] for r in quality]
    listed = ", ".join(str(s) for s in steps[-8:]) if steps else "none"
    raise ScoreError(f"{run_dir}: step {step} is neither the checkpoint's ({ckpt_step}) nor a "
                     f"quality line of metrics.jsonl (quality lines: {listed})")


# ------------------------------------------------------------------------------ output
ROWS = (("fd", "Fréchet distance (lower is better)"),
        ("kid", "kernel distance (lower is better)"),
        ("kid_std", "  its std over subsets"),
        ("classes", "classes with >= 1/(2K) of the samples"),
        ("class_kl", "KL(generated classes || data), nats"),
        ("confidence", "scorer's mean top-class probability"),
        ("precision", "fakes inside the real manifold (k=3)"),
        ("recall", "reals inside the fake manifold (k=3)"),
        ("density", "fakes per real neighbourhood (k=5)"),
        ("coverage", "reals with a fake nearby (k=5)"),
        ("modes", "modes of 1,000 with a sample"),
        ("mode_kl", "KL(generated modes || uniform), nats"))


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, int):
        return str(v)
    return f"{v:.4g}"


def format_table(result: dict[str, Any]) -> str:
    where = result.get("source", "")
    step = result.get("step")
    head = [f"scored   {where}" + (f" at step {step}" if step is not None else "")
            + (" (as recorded while training)" if result.get("recorded") else ""),
            f"scorer   {result.get('scorer_label')}",
            f"samples  {result.get('n')} against as many held-out real images (all of them "
            f"when the split holds fewer)",
            "",
            f"{'metric':<11}{'value':>10}{'floor':>10}{'ceiling':>10}   meaning"]
    floor, ceiling = result.get("floor") or {}, result.get("ceiling") or {}
    for key, meaning in ROWS:
        if key not in result:
            continue
        head.append(f"{key:<11}{_fmt(result[key]):>10}{_fmt(floor.get(key)):>10}"
                    f"{_fmt(ceiling.get(key)):>10}   {meaning}")
    head.append("")
    head.append("floor: held-out real vs train real images; ceiling: an untrained generator")
    if result.get("scorer", {}).get("kind") in ("random", "inception"):
        head.append("no class metrics: this feature space has no classes")
    return "\n".join(head)
