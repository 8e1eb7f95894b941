"""Experiment configuration: a dataclass tree that mirrors the TOML keys of DESIGN.md.

Every leaf field carries its validation rule in ``metadata`` (allowed choices or a numeric
range), so loading a file, ``--set KEY=VALUE`` overrides, live changes from the GUI and
``--change`` schedules all go through the same checks and produce the same messages, e.g.
``optim.lr_d must be > 0, got -1``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w


class ConfigError(ValueError):
    """A config problem, phrased as one line that names the key."""


def _choice(default: str, *choices: str, live: bool = False) -> Any:
    return field(default=default, metadata={"choices": choices, "live": live})


def _num(default: float | int, *, gt: float | None = None, ge: float | None = None,
         lt: float | None = None, le: float | None = None, live: bool = False) -> Any:
    return field(default=default, metadata={"gt": gt, "ge": ge, "lt": lt, "le": le, "live": live})


def _flag(default: bool, live: bool = True) -> Any:
    return field(default=default, metadata={"live": live})


def _text(default: str, live: bool = False) -> Any:
    return field(default=default, metadata={"live": live})


DATASETS_2D = ("ring8", "grid25", "swissroll")
DATASETS_IMAGE = ("digits", "mnist", "fashion_mnist", "cifar10", "folder")
IMAGE_ARCHS = ("dcgan", "sngan_cnn")
# Image size of the datasets that have one of their own; "digits" and "folder" take the
# model's native size (below) unless data.image_size says otherwise.
DATASET_NATIVE_SIZE = {"mnist": 28, "fashion_mnist": 28, "cifar10": 32}
ARCH_NATIVE_SIZE = {"dcgan": 28, "sngan_cnn": 32}


@dataclass
class DataConfig:
    dataset: str = _choice("ring8", *DATASETS_2D, *DATASETS_IMAGE)
    batch_size: int = _num(256, ge=1, le=65536, live=True)
    root: str = _text("")  # "" = the app's cache folder; for "folder": the image folder
    # Image datasets only. channels: 0 = the dataset's own (folder: 1 if every image is gray,
    # else 3), 1 = grayscale, 3 = RGB. image_size: 0 = the dataset's own size (mnist and
    # fashion_mnist 28, cifar10 32; digits and folder: the model's, dcgan 28, sngan_cnn 32);
    # otherwise images are resized (and centre-cropped) to image_size x image_size.
    channels: int = _num(0, ge=0, le=3)  # 0 | 1 | 3 (checked in Config.validate)
    image_size: int = _num(0, ge=0, le=512)


@dataclass
class ModelConfig:
    # mlp (2D data) | dcgan (the notebook's 28x28 model) | sngan_cnn (the SN-GAN paper's
    # "standard CNN", 32x32 or any multiple of 8; g_width/d_width are its base widths: G has
    # 8w/4w/2w/w channels, D w,w,2w,2w,4w,4w,8w; the paper's model is 64/64 with z_dim 128)
    arch: str = _choice("mlp", "mlp", *IMAGE_ARCHS)
    z_dim: int = _num(64, ge=1, le=4096)
    g_width: int = _num(64, ge=1, le=4096)
    d_width: int = _num(64, ge=1, le=4096)
    depth: int = _num(3, ge=1, le=16)  # hidden layers of the MLPs (2D data only)
    d_norm: str = _choice("none", "none", "batch", "layer")


@dataclass
class LossConfig:
    kind: str = _choice("bce", "bce", "hinge", "wasserstein", live=True)


@dataclass
class OptimConfig:
    name: str = _choice("adam", "adam", "rmsprop")
    lr_g: float = _num(2e-4, gt=0, le=1, live=True)
    lr_d: float = _num(2e-4, gt=0, le=1, live=True)
    beta1: float = _num(0.5, ge=0, lt=1, live=True)
    beta2: float = _num(0.999, ge=0, lt=1, live=True)
    n_critic: int = _num(1, ge=1, le=100, live=True)


@dataclass
class ClipConfig:
    enabled: bool = _flag(False)
    c: float = _num(0.01, gt=0, le=100, live=True)


@dataclass
class GPConfig:
    enabled: bool = _flag(False)
    weight: float = _num(10.0, ge=0, le=1e6, live=True)
    kind: str = _choice("two_sided", "two_sided", "one_sided", "r1", live=True)


@dataclass
class SpectralConfig:
    enabled: bool = _flag(False)
    power_iters: int = _num(1, ge=1, le=100, live=True)
    on_disable: str = _choice("keep", "keep", "restore", live=True)


@dataclass
class RowsumConfig:
    enabled: bool = _flag(False)
    target: float = _num(1.0, gt=0, le=1e6, live=True)
    on_disable: str = _choice("keep", "keep", "restore", live=True)  # extension of DESIGN.md


@dataclass
class ConstraintsConfig:
    clip: ClipConfig = field(default_factory=ClipConfig)
    gp: GPConfig = field(default_factory=GPConfig)
    spectral: SpectralConfig = field(default_factory=SpectralConfig)
    rowsum: RowsumConfig = field(default_factory=RowsumConfig)


@dataclass
class RunConfig:
    seed: int = _num(0, ge=0, le=2**63 - 1)
    device: str = _choice("auto", "auto", "cpu", "cuda", "mps")
    steps: int = _num(2000, ge=1, le=10**9, live=True)
    log_every: int = _num(10, ge=1, le=10**6, live=True)
    checkpoint_every: int = _num(500, ge=1, le=10**9, live=True)
    # Extensions of DESIGN.md (issue 4, probes): the slow probe cadence (full spectra,
    # 2D landscape and mode coverage, weight histograms), the image sample-grid cadence, and
    # whether the trainer measures its per-phase time split.
    probe_every: int = _num(500, ge=1, le=10**9, live=True)
    sample_every: int = _num(250, ge=1, le=10**9, live=True)
    time_split: bool = _flag(True)


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    constraints: ConstraintsConfig = field(default_factory=ConstraintsConfig)
    run: RunConfig = field(default_factory=RunConfig)

    # ----------------------------------------------------------------- conversion
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "Config":
        """A validated config from a TOML table. A ``[guide]`` table (a preset's title and
        text, see core.presets) is checked and left out: it is not configuration."""
        cfg = cls()
        if "guide" in raw:
            _check_guide(raw["guide"])
            raw = {k: v for k, v in raw.items() if k != "guide"}
        _merge(cfg, raw, prefix="")
        cfg.validate()
        return cfg

    def copy(self) -> "Config":
        return copy.deepcopy(self)

    # ----------------------------------------------------------------- access by key
    def get(self, key: str) -> Any:
        node, name = _resolve(self, key)
        return getattr(node, name)

    def set(self, key: str, value: Any) -> None:
        """Set a dotted key to an already-typed value (int/float/bool/str), with checks."""
        self.update({key: value})

    def update(self, values: dict[str, Any]) -> None:
        """Set several dotted keys at once; cross-field rules are checked on the result only
        (e.g. switching dataset and architecture together). All or nothing."""
        trial = self.copy()
        for key, value in values.items():
            node, name = _resolve(trial, key)
            f = _field(node, name)
            value = _coerce(key, f, value)
            _check(key, f, value)
            setattr(node, name, value)
        trial.validate()
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(trial, f.name))

    def set_text(self, key: str, text: str) -> Any:
        """Set a dotted key from command-line text (``--set key=value``); returns the value."""
        node, name = _resolve(self, key)
        value = parse_value(key, _field(node, name), text)
        self.set(key, value)
        return value

    # ----------------------------------------------------------------- validation
    def validate(self) -> None:
        for key, f, value in iter_fields(self):
            _check(key, f, value)
        is_2d = self.data.dataset in DATASETS_2D
        if is_2d and self.model.arch != "mlp":
            raise ConfigError(
                f"model.arch must be 'mlp' for 2D dataset '{self.data.dataset}', got '{self.model.arch}'")
        if not is_2d and self.model.arch == "mlp":
            raise ConfigError(
                f"model.arch must be an image architecture "
                f"({' or '.join(repr(a) for a in IMAGE_ARCHS)}) for image dataset "
                f"'{self.data.dataset}', got 'mlp'")
        if not is_2d:
            _check_image_geometry(self)


def image_size_for(cfg: "Config") -> int:
    """The side of the square images an image config trains on (data.image_size resolved)."""
    d = cfg.data
    return (d.image_size or DATASET_NATIVE_SIZE.get(d.dataset)
            or ARCH_NATIVE_SIZE.get(cfg.model.arch, 28))


def suggested_arch(dataset: str) -> str:
    """The architecture that fits a dataset at its own size: mlp (2D), sngan_cnn (cifar10),
    dcgan (the 28x28 sets, digits and folder). For GUIs that switch dataset and arch together."""
    if dataset in DATASETS_2D:
        return "mlp"
    return "sngan_cnn" if DATASET_NATIVE_SIZE.get(dataset) == 32 else "dcgan"


def _check_image_geometry(cfg: "Config") -> None:
    d, arch = cfg.data, cfg.model.arch
    if d.channels not in (0, 1, 3):
        raise ConfigError(f"data.channels must be 0 (auto), 1 (grayscale) or 3 (RGB), "
                          f"got {d.channels}")
    size = image_size_for(cfg)
    what = (f"data.image_size = {d.image_size}" if d.image_size
            else f"{d.dataset} images are {size}x{size}")
    if arch == "dcgan" and size != 28:
        fix = "set data.image_size = 28 to resize them" if not d.image_size else \
            "use data.image_size = 28 (or 0)"
        raise ConfigError(f"model.arch 'dcgan' is the notebook's 28x28 model, but {what}: use "
                          f"model.arch = 'sngan_cnn' (preset cifar10_sngan.toml) or {fix}")
    if arch == "sngan_cnn" and (size % 8 or size < 16):
        raise ConfigError(f"model.arch 'sngan_cnn' needs a multiple of 8 pixels (>= 16), but "
                          f"{what}: set data.image_size = {max(16, -(-size // 8) * 8)} to "
                          f"resize them, or use model.arch = 'dcgan' for 28x28")


def is_live(key: str) -> bool:
    """Whether a key may change while a run is going (else it needs a new run)."""
    node, name = _resolve(Config(), key)
    return bool(_field(node, name).metadata.get("live", False))


def iter_fields(cfg: Any, prefix: str = ""):
    """Yield (dotted key, dataclass field, value) for every leaf of the tree."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            yield from iter_fields(value, key + ".")
        else:
            yield key, f, value


def parse_key_text(key: str, text: str) -> Any:
    """Parse command-line text for a dotted key into its type (checked when it is set)."""
    node, name = _resolve(Config(), key)
    return parse_value(key, _field(node, name), text)


def all_keys() -> list[str]:
    return [key for key, _, _ in iter_fields(Config())]


def load(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        return Config.from_dict(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def dumps(cfg: Config) -> str:
    return tomli_w.dumps(cfg.to_dict())


def save(cfg: Config, path: str | Path) -> None:
    Path(path).write_text(dumps(cfg), encoding="utf-8")


# --------------------------------------------------------------------------- helpers
def _resolve(cfg: Any, key: str) -> tuple[Any, str]:
    parts = key.split(".")
    node = cfg
    for i, part in enumerate(parts):
        names = {f.name for f in dataclasses.fields(node)}
        if part not in names:
            where = ".".join(parts[:i]) or "the config"
            raise ConfigError(f"unknown key '{key}': '{part}' is not in {where} "
                              f"(known: {', '.join(sorted(names))})")
        if i == len(parts) - 1:
            if dataclasses.is_dataclass(getattr(node, part)):
                raise ConfigError(f"'{key}' is a section, not a value")
            return node, part
        node = getattr(node, part)
        if not dataclasses.is_dataclass(node):
            raise ConfigError(f"unknown key '{key}': '{'.'.join(parts[:i + 1])}' is a value")
    raise ConfigError(f"empty key '{key}'")


def _field(node: Any, name: str) -> dataclasses.Field:
    return next(f for f in dataclasses.fields(node) if f.name == name)


def _type_name(f: dataclasses.Field) -> str:
    return f.type if isinstance(f.type, str) else f.type.__name__


def _coerce(key: str, f: dataclasses.Field, value: Any) -> Any:
    kind = _type_name(f)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
            if not math.isfinite(value):
                raise ConfigError(f"{key} must be a finite number, got {value}")
            return value
        raise ConfigError(f"{key} must be a number, got {value!r}")
    if kind == "str":
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key} must be a string, got {value!r}")
    raise AssertionError(f"unhandled field type {kind}")


def parse_value(key: str, f: dataclasses.Field, text: str) -> Any:
    kind = _type_name(f)
    raw = text.strip()
    if kind == "bool":
        low = raw.lower()
        if low in ("true", "1", "yes", "on"):
            return True
        if low in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"{key} must be true or false, got '{text}'")
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(f"{key} must be an integer, got '{text}'") from None
            if value.is_integer():
                return int(value)
            raise ConfigError(f"{key} must be an integer, got '{text}'") from None
    if kind == "float":
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{key} must be a number, got '{text}'") from None
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        raw = raw[1:-1]
    return raw


def _fmt(x: float) -> str:
    return f"{x:g}"


def _check(key: str, f: dataclasses.Field, value: Any) -> None:
    meta = f.metadata
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}; got '{value}'")
    for op, bound, ok in (
        (">", meta.get("gt"), lambda v, b: v > b),
        (">=", meta.get("ge"), lambda v, b: v >= b),
        ("<", meta.get("lt"), lambda v, b: v < b),
        ("<=", meta.get("le"), lambda v, b: v <= b),
    ):
        if bound is not None and not ok(value, bound):
            raise ConfigError(f"{key} must be {op} {_fmt(bound)}, got {_fmt(value)}")


GUIDE_KEYS = ("title", "text")


def _check_guide(guide: Any) -> None:
    if not isinstance(guide, dict):
        raise ConfigError("'guide' must be a table like [guide] with title and text")
    for key, value in guide.items():
        if key not in GUIDE_KEYS:
            raise ConfigError(f"unknown key 'guide.{key}' in [guide] (known: title, text)")
        if not isinstance(value, str):
            raise ConfigError(f"guide.{key} must be a string, got {value!r}")


def _merge(cfg: Any, raw: dict[str, Any], prefix: str) -> None:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{prefix.rstrip('.')}] must be a table")
    names = {f.name: f for f in dataclasses.fields(cfg)}
    for name, value in raw.items():
        key = f"{prefix}{name}"
        if name not in names:
            where = f"[{prefix.rstrip('.')}]" if prefix else "the top level"
            raise ConfigError(f"unknown key '{key}' in {where} (known: {', '.join(sorted(names))})")
        current = getattr(cfg, name)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"'{key}' must be a table like [{key}], got {value!r}")
            _merge(current, value, key + ".")
        else:
            f = names[name]
            value = _coerce(key, f, value)
            _check(key, f, value)
            setattr(cfg, name, value)
