"""Whether a run folder's checkpoint belongs to that run folder.

A checkpoint copied from another run (a DCGAN's ``checkpoints/last`` dropped into a ring8
run) is a readable checkpoint of ours, so nothing else stops it: the app would show the
DCGAN's samples and spectra as the ring8 run's, and a resume would train the DCGAN there and
cut the ring8 history at the checkpoint's step. Before a checkpoint is used, its config is
compared with the folder's ``config.toml`` on every key that cannot change during a run (the
data, the architecture and its shapes, the seed, the optimizer's kind: live keys such as
learning rates or constraints legitimately differ, since the checkpoint holds the run's
state after its changes), summed up as a fingerprint; and ``G.pt``/``D.pt``, when present,
must hold the tensors of ``trainer.pt``'s models, name for name and shape for shape.
A mismatch is a :class:`CheckpointMismatch`, one line; nothing is trimmed or written.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointError, safe_load
from .config import Config, ConfigError, field_specs
from .runlayout import CRITIC, GENERATOR, RunPaths

_PARAM_KEY = ".parametrizations.weight."


class CheckpointMismatch(CheckpointError):
    """The checkpoint belongs to another run than its folder's config.toml describes."""


# Keys that cannot change during a run but say where it runs, not what it is: a user may
# point a run at a moved dataset cache or another device and resume it.
WHERE_KEYS = ("data.root", "run.device")


def identity(cfg: Config) -> dict[str, Any]:
    """The run's identity: every key that cannot change while it trains, with its value."""
    return {key: cfg.get(key) for key, spec in field_specs().items()
            if not spec.live and key not in WHERE_KEYS}


def fingerprint(cfg: Config) -> str:
    """A short hash of :func:`identity` (12 hex digits)."""
    text = json.dumps(identity(cfg), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def check_config(folder: Path, checkpoint_cfg: Config, folder_cfg: Config) -> None:
    ours, theirs = identity(folder_cfg), identity(checkpoint_cfg)
    differ = [key for key in ours if ours[key] != theirs.get(key)]
    if not differ:
        return
    shown = "; ".join(f"{key} = {_value(theirs.get(key))} there, {_value(ours[key])} in "
                      f"config.toml" for key in differ[:3])
    more = f" (and {len(differ) - 3} more)" if len(differ) > 3 else ""
    raise CheckpointMismatch(
        f"{RunPaths(folder).last} belongs to another run (fingerprint "
        f"{fingerprint(checkpoint_cfg)}, config.toml's {fingerprint(folder_cfg)}): {shown}"
        f"{more}; it was not used and nothing was changed; put this run's own checkpoint back "
        f"or remove checkpoints/last")


def _shapes(state: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in state.items() if hasattr(v, "shape")}


def plain_shapes(model_state: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The shapes a model's plain state dict (``G.pt``/``D.pt``: constraints baked in, no
    parametrization keys) has for this trainer state dict."""
    out = {}
    for key, shape in _shapes(model_state).items():
        if _PARAM_KEY in key:
            prefix, rest = key.split(_PARAM_KEY, 1)
            if rest == "original":
                out[f"{prefix}.weight"] = shape
            continue
        out[key] = shape
    return out


def check_model_files(last: Path, state: dict[str, Any]) -> None:
    for name, key in ((GENERATOR, "G"), (CRITIC, "D")):
        path = last / name
        if not path.is_file() or not isinstance(state.get(key), dict):
            continue
        saved = safe_load(path)
        if not isinstance(saved, dict):
            raise CheckpointMismatch(f"{path} is not a state dict")
        want, have = plain_shapes(state[key]), _shapes(saved)
        if want != have:
            wrong = sorted(set(want) ^ set(have)) or [k for k in want if want[k] != have[k]]
            raise CheckpointMismatch(
                f"{path} does not hold trainer.pt's {key} (first difference: {wrong[0]}: "
                f"{have.get(wrong[0])} there, {want.get(wrong[0])} in trainer.pt): the "
                f"checkpoint set mixes runs; it was not used and nothing was changed")


def check_checkpoint_matches(folder: str | Path, state: dict[str, Any],
                             folder_cfg: Config | None = None, *, model_files: bool = True
                             ) -> None:
    """Raise CheckpointMismatch (one line) unless ``state`` (a loaded ``trainer.pt``) belongs
    to the run folder ``folder``: its config against ``config.toml`` (``folder_cfg``, read
    when not given; a folder without one, from an older build, is not compared) and, with
    ``model_files``, the shapes of ``G.pt``/``D.pt`` against it (a resume checks those with
    :func:`check_model_files` once trainer.pt has proved to fit its own config, so a damaged
    trainer.pt is named as such, not as a set that mixes runs)."""
    paths = RunPaths(folder)
    if folder_cfg is None and paths.config.is_file():
        from .config import load

        folder_cfg = load(paths.config)
    if folder_cfg is not None:
        try:
            checkpoint_cfg = Config.from_dict(state["config"])
        except ConfigError as exc:
            raise CheckpointError(f"{paths.trainer_checkpoint}: its config is invalid: "
                                  f"{exc}") from None
        check_config(paths.root, checkpoint_cfg, folder_cfg)
    if model_files:
        check_model_files(paths.last, state)
