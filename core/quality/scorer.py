"""A dataset's scorer: trained (or built) once, cached under the app home, reused by every run.

Kinds:
- ``classifier``: :class:`.network.ScorerNet` trained on the dataset's train split
  (:mod:`.training`); its penultimate layer is the feature space, its softmax gives classes;
- ``per-channel classifier``: the stacked sets: the base digits' classifier on each colour
  channel (features concatenated; three digits -> one of 1,000 modes);
- ``random``: ``folder`` data has no labels: a :class:`ScorerNet` left at its fixed, seeded
  random initialisation (Naeem et al. 2020 study random embeddings), distance metrics only;
- ``inception``: InceptionV3's 2048 pool features (:mod:`.inception`), distance metrics only.

Cache: ``<app home>/scorers/<dataset>-<C>x<S>-<kind>-<fingerprint>.pt`` holds the network's
weights, held-out accuracy, feature size, the data fingerprint (sha256 of the splits' images
and labels, so changed data trains a new scorer), training seconds, and for each sample count
N the floor and ceiling (:func:`references`). Files are written to a temporary name and
renamed, so a reader never sees half a file; two processes training the same scorer at once
both write the same result.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from ..config import DATASETS_STACKED, Config
from ..data import DatasetError
from ..data.stacked import STACKED_BASE
from ..paths import app_home
from .labelled import LabelledSplits, base_splits, stacked_splits
from .network import ScorerNet
from .training import RECIPES, SCORER_SEED, forked_rng, to_float, train_classifier

log = logging.getLogger(__name__)
CACHE_VERSION = 1
RANDOM_WIDTH = 32  # the random embedding's first block (wider than the classifiers': untrained)
BATCH = 500
Progress = Callable[[int, int, str], None]


@dataclass
class Scorer:
    """A ready scorer: ``features`` / ``probabilities`` of images in [-1, 1]."""

    dataset: str               # the data it scores (a stacked set: its own name)
    kind: str                  # classifier | per-channel classifier | random | inception
    net: nn.Module             # eval mode, on ``device``
    device: torch.device
    num_features: int
    classes: int               # 0: no labels (random, inception)
    accuracy: float | None     # held-out accuracy of the classifier (per digit when stacked)
    fingerprint: str
    splits: LabelledSplits     # the held-out / train split scored against
    path: Path | None = None   # its cache file
    train_seconds: float | None = None
    refs: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)

    @property
    def stacked(self) -> bool:
        return self.kind == "per-channel classifier"

    def describe(self) -> dict[str, Any]:
        """The ``scorer`` object of ``score --json`` and the run's quality lines."""
        return {"dataset": self.dataset, "kind": self.kind, "accuracy": self.accuracy,
                "features": self.num_features, "fingerprint": self.fingerprint[:16]}

    def label(self) -> str:
        """One line for a front end, e.g. 'digits classifier, held-out accuracy 99.4 %'."""
        if self.kind == "random":
            return (f"{self.dataset}: fixed random CNN embedding ({self.num_features} features; "
                    f"no labels: distance metrics only)")
        if self.kind == "inception":
            return f"{self.dataset}: InceptionV3 pool features (2048)"
        acc = f", held-out accuracy {100 * self.accuracy:.1f} %" if self.accuracy is not None \
            else ""
        per = " per channel" if self.stacked else ""
        return f"{self.dataset}: CNN classifier{per}{acc} ({self.num_features} features)"

    @torch.no_grad()
    def run(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(features float64 [N, d], class probabilities [N, K] or, stacked, [N, 3, 10];
        None without classes) of float images in [-1, 1] or uint8 images."""
        feats, probs = [], []
        for i in range(0, images.shape[0], BATCH):
            x = images[i:i + BATCH]
            x = to_float(x, self.device) if x.dtype == torch.uint8 else x.to(self.device).float()
            if self.stacked:  # each channel is one digit: B x 3 gray images
                b, c = x.shape[:2]
                gray = x.reshape(b * c, 1, *x.shape[2:])
                f = self.net.features(gray)
                feats.append(f.reshape(b, -1).double().cpu())
                probs.append(self.net.head(f).softmax(1).reshape(b, c, -1).cpu())
                continue
            f = self.net.features(x) if hasattr(self.net, "features") else self.net(x)
            feats.append(f.double().cpu())
            if self.classes:
                probs.append(self.net.head(f).softmax(1).cpu())
        return torch.cat(feats), (torch.cat(probs) if probs else None)


_loaded: dict[tuple, Scorer] = {}
_lock = threading.Lock()


def scorers_dir() -> Path:
    return app_home() / "scorers"


def _kind(cfg: Config) -> str:
    if cfg.quality.features == "inception":
        return "inception"
    if cfg.data.dataset == "folder":
        return "random"
    if cfg.data.dataset in DATASETS_STACKED:
        return "per-channel classifier"
    return "classifier"


def _save(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _load(path: Path) -> dict | None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged cache entry is trained again, with a note
        log.warning("ignoring the unreadable scorer cache %s (%s)", path, exc)
        return None
    return state if isinstance(state, dict) and state.get("version") == CACHE_VERSION else None


def prepare_scorer(cfg: Config, device: torch.device | str = "cpu",
                   progress: Progress | None = None,
                   cancel: threading.Event | None = None) -> Scorer:
    """The scorer of ``cfg``'s dataset (at its channels and size): from this process's memory,
    else the cache, else trained now (``progress(done, total, label)`` per batch). Raises
    ``DatasetError`` (one line) when the data or weights it needs are missing."""
    device = torch.device(device)
    kind = _kind(cfg)
    if kind == "per-channel classifier":
        base_cfg = cfg.copy()
        base_cfg.data.dataset = STACKED_BASE[cfg.data.dataset]
        base_cfg.data.channels = 1
        base = prepare_scorer(base_cfg, device, progress, cancel)
        splits = stacked_splits(cfg)
        return Scorer(cfg.data.dataset, kind, base.net, device, 3 * base.num_features, 1000,
                      base.accuracy, splits.fingerprint(), splits, base.path, base.train_seconds)
    splits = stacked_splits(cfg) if cfg.data.dataset in DATASETS_STACKED else base_splits(cfg)
    fingerprint = splits.fingerprint()
    c, s = splits.held_x.shape[1], splits.held_x.shape[2]
    # the cache folder too: a scorer object remembers its file (its floor and ceiling go there)
    key = (cfg.data.dataset, c, s, kind, fingerprint, str(device), str(scorers_dir()),
           cfg.quality.inception_weights if kind == "inception" else "")
    with _lock:
        if key in _loaded:
            return _loaded[key]
    if kind == "inception":
        from .inception import inception_features

        net = inception_features(cfg.quality.inception_weights).to(device).eval()
        scorer = Scorer(cfg.data.dataset, kind, net, device, 2048, 0, None, fingerprint, splits)
    else:
        name = f"{cfg.data.dataset}-{c}x{s}-{kind.replace(' ', '_')}-{fingerprint[:16]}.pt"
        path = scorers_dir() / name
        state = _load(path)
        if state is not None and state.get("fingerprint") != fingerprint:
            state = None
        if state is None:
            state = _build(cfg, splits, kind, device, progress, cancel)
            state["fingerprint"] = fingerprint
            try:
                _save(path, state)
            except OSError as exc:
                log.warning("could not cache the %s scorer in %s: %s", cfg.data.dataset,
                            path.parent, exc)
        with forked_rng(device, SCORER_SEED):  # building a module draws initial weights
            net = ScorerNet(c, state["classes"], state["width"], state["features"])
        net.load_state_dict(state["weights"])
        net.to(device).eval()
        refs = {int(n): r for n, r in state.get("refs", {}).items()}
        scorer = Scorer(cfg.data.dataset, kind, net, device, state["features"],
                        state["classes"], state["accuracy"], fingerprint, splits, path,
                        state.get("seconds"), refs)
    with _lock:
        _loaded[key] = scorer
    return scorer


def _build(cfg: Config, splits: LabelledSplits, kind: str, device, progress,
           cancel) -> dict:
    if kind == "random":
        with forked_rng(device, SCORER_SEED):
            net = ScorerNet(splits.held_x.shape[1], 0, RANDOM_WIDTH)
        # BatchNorm in eval mode with its initial statistics: the identity affine map
        return {"version": CACHE_VERSION, "weights": net.state_dict(), "classes": 0,
                "width": RANDOM_WIDTH, "features": net.num_features, "accuracy": None,
                "seconds": 0.0}
    recipe = RECIPES.get(cfg.data.dataset)
    if recipe is None:
        raise DatasetError(f"dataset '{cfg.data.dataset}' has no scorer recipe")
    net, acc, seconds = train_classifier(splits, recipe, device, progress, cancel)
    log.info("trained the %s scorer: held-out accuracy %.4f in %.1f s", cfg.data.dataset, acc,
             seconds)
    return {"version": CACHE_VERSION, "weights": {k: v.cpu() for k, v in net.state_dict().items()},
            "classes": splits.classes, "width": recipe.width, "features": net.num_features,
            "accuracy": acc, "seconds": seconds}


def save_refs(scorer: Scorer) -> None:
    """Write the scorer's floor/ceiling table back into its cache file."""
    if scorer.path is None or scorer.stacked or scorer.kind == "inception":
        return
    state = _load(scorer.path)
    if state is None:
        return
    state["refs"] = {str(n): r for n, r in scorer.refs.items()}
    try:
        _save(scorer.path, state)
    except OSError as exc:
        log.warning("could not store the scorer's floor and ceiling in %s: %s", scorer.path, exc)


def reference_generator(shape: tuple[int, int, int], device) -> nn.Module | None:
    """The untrained G of the ceiling for images of ``shape`` (C, S, S): the architecture that
    fits the size (dcgan for 28x28, sngan_cnn for multiples of 8) at its default widths,
    initialised from a fixed seed, in eval mode; None for sizes neither model makes."""
    from ..config import ModelConfig
    from ..models import build_models

    size = shape[1]
    arch = "dcgan" if size == 28 else ("sngan_cnn" if size % 8 == 0 and size >= 16 else None)
    if arch is None:
        return None
    with forked_rng(device, SCORER_SEED + 1):
        G, _ = build_models(ModelConfig(arch=arch), shape)
    return G.to(device).eval()


__all__ = ["Scorer", "prepare_scorer", "reference_generator", "save_refs", "scorers_dir"]
