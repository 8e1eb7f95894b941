"""Experiment configuration: a dataclass tree that mirrors the TOML keys (docs/config.md).

Every leaf field carries its validation rule in ``metadata`` (allowed choices or a numeric
range), so loading a file, ``--set KEY=VALUE`` overrides, live changes from the GUI and
``--change`` schedules all go through the same checks and produce the same messages, e.g.
``optim.lr_d must be > 0, got -1``.

Why one module of about 710 lines: some 330 of them declare the fields (the dataclass tree,
each field with its rule and its form text); the rules, the field specs and the loader all
work on that tree and have no other user. The override grammar (``KEY=VALUE``,
``STEP:KEY=VALUE``) and the words for a change live beside it in :mod:`core.overrides`.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from .errors import read_text_file
from .points import PointsError, check_points, parse_points_text


class ConfigError(ValueError):
    """A config problem, phrased as one line that names the key."""


# Every leaf field's metadata: its rule (``choices`` or a numeric range ``gt/ge/lt/le``),
# ``live`` (may change while a run trains), and for forms a ``label``, a ``tip`` and ``form``
# (offered in the app's settings; the others are set in files or with --set). See field_specs().
def _doc(label: str, tip: str, form: bool) -> dict[str, Any]:
    return {"label": label, "tip": tip, "form": form}


def _choice(default: str, *choices: str, live: bool = False, label: str = "", tip: str = "",
            form: bool = True) -> Any:
    return field(default=default, metadata={"choices": choices, "live": live,
                                            **_doc(label, tip, form)})


def _num(default: float | int, *, gt: float | None = None, ge: float | None = None,
         lt: float | None = None, le: float | None = None, live: bool = False,
         label: str = "", tip: str = "", form: bool = True) -> Any:
    return field(default=default, metadata={"gt": gt, "ge": ge, "lt": lt, "le": le, "live": live,
                                            **_doc(label, tip, form)})


def _flag(default: bool, live: bool = True, label: str = "", tip: str = "",
          form: bool = True) -> Any:
    return field(default=default, metadata={"live": live, **_doc(label, tip, form)})


def _text(default: str, live: bool = False, label: str = "", tip: str = "",
          form: bool = False) -> Any:
    return field(default=default, metadata={"live": live, **_doc(label, tip, form)})


def _points(label: str = "", tip: str = "") -> Any:
    """A list of [x, y] points (core.points): set in files, with --set KEY=FILE.csv or from
    the app's draw mode; never a form field."""
    return field(default_factory=list, metadata={"live": False, **_doc(label, tip, False)})


DATASETS_2D = ("ring8", "grid25", "swissroll", "drawn")
DATASETS_IMAGE = ("digits", "mnist", "fashion_mnist", "cifar10", "folder", "stacked_digits",
                  "stacked_mnist")
# Three digits as the three colour channels (1,000 modes; core/data/stacked.py).
DATASETS_STACKED = ("stacked_digits", "stacked_mnist")
IMAGE_ARCHS = ("dcgan", "sngan_cnn")
# Image size of the datasets that have one of their own; "digits" and "folder" take the
# model's native size (below) unless data.image_size says otherwise.
DATASET_NATIVE_SIZE = {"mnist": 28, "fashion_mnist": 28, "cifar10": 32, "stacked_mnist": 28}
ARCH_NATIVE_SIZE = {"dcgan": 28, "sngan_cnn": 32}


@dataclass
class DrawnConfig:
    """The ``drawn`` dataset (core.points): Gaussians of ``std`` at the drawn ``points``."""

    points: list = _points(
        label="Drawn points",
        tip="The drawn dataset's points [[x, y], ...]: paint them on the samples panel (Draw), "
            "or --set data.drawn.points=FILE.csv (a CSV file x,y) or inline 'x,y;x,y'.")
    std: float = _num(0.05, gt=0, le=10, label="Drawn σ",
                      tip="Drawn data: standard deviation of the Gaussian at each drawn point "
                          "(per coordinate). Strokes are sampled every 2σ.")


@dataclass
class DataConfig:
    dataset: str = _choice(
        "ring8", *DATASETS_2D, *DATASETS_IMAGE, label="Dataset",
        tip="Training data: 2D Gaussian mixtures (ring8, grid25, swissroll, or drawn: the "
            "points you paint on the samples panel) or images.")
    batch_size: int = _num(256, ge=1, le=65536, live=True, label="Batch size",
                           tip="Samples per batch for both D and G updates.")
    root: str = _text(
        "", label="Data folder", form=True,
        tip="Image datasets: the folder they are cached in (empty: the app's cache folder); "
            "for 'folder': the folder of images to train on (read recursively).")
    # Image datasets only. channels: 0 = the dataset's own (folder: 1 if every image is gray,
    # else 3), 1 = grayscale, 3 = RGB. image_size: 0 = the dataset's own size (mnist and
    # fashion_mnist 28, cifar10 32; digits and folder: the model's, dcgan 28, sngan_cnn 32);
    # otherwise images are resized (and centre-cropped) to image_size x image_size.
    channels: int = _num(0, ge=0, le=3, form=False)  # 0 | 1 | 3 (checked in Config.validate)
    image_size: int = _num(0, ge=0, le=512, form=False)
    drawn: DrawnConfig = field(default_factory=DrawnConfig)


@dataclass
class ModelConfig:
    # mlp (2D data) | dcgan (the notebook's 28x28 model) | sngan_cnn (the SN-GAN paper's
    # "standard CNN", 32x32 or any multiple of 8; g_width/d_width are its base widths: G has
    # 8w/4w/2w/w channels, D w,w,2w,2w,4w,4w,8w; the paper's model is 64/64 with z_dim 128)
    arch: str = _choice("mlp", "mlp", *IMAGE_ARCHS, label="Architecture",
                        tip="mlp for 2D data; dcgan (the notebook's 28x28 conv net) or sngan_cnn "
                            "(the SN-GAN paper's standard CNN, 32x32) for images.")
    z_dim: int = _num(64, ge=1, le=4096, label="Noise dim",
                      tip="Dimension of the noise z ~ N(0, I) fed to G.")
    g_width: int = _num(64, ge=1, le=4096, label="G width",
                        tip="Width (units / base channels) of the generator.")
    d_width: int = _num(64, ge=1, le=4096, label="D width",
                        tip="Width (units / base channels) of the discriminator.")
    depth: int = _num(3, ge=1, le=16, label="MLP depth",  # 2D data only
                      tip="Hidden layers of the MLPs (2D data).")
    d_norm: str = _choice("none", "none", "batch", "layer", label="D normalization",
                          tip="Normalization inside D. BatchNorm changes D's Lipschitz "
                              "constant: the layer constraints do not cover it.")


@dataclass
class LossConfig:
    kind: str = _choice(
        "bce", "bce", "hinge", "wasserstein", live=True, label="Loss",
        tip="bce: D max log D(x)+log(1−D(G(z))), G max log D(G(z)).\nhinge: D min "
            "E[max(0,1−D(x))]+E[max(0,1+D(G(z)))].  wasserstein: D max E[D(x)]−E[D(G(z))].")
    label_smoothing: float = _num(
        0.0, ge=0, le=0.5, live=True, label="Label smoothing",
        tip="One-sided label smoothing (Salimans et al. 2016, Improved Techniques for Training "
            "GANs, §3.4):\nD's target for real samples becomes 1 − s (0.9 for s = 0.1); fake "
            "targets stay 0, G's loss is unchanged.\nBCE loss only (hinge and wasserstein have "
            "no targets). 0 = off.")


@dataclass
class OptimConfig:
    name: str = _choice(
        "adam", "adam", "adamw", "rmsprop", live=True, label="Optimizer",
        tip="Optimizer for both networks: adam, adamw (Adam with decoupled weight decay, "
            "Loshchilov & Hutter 2019; torch.optim.AdamW) or rmsprop.\nSwitching during a run "
            "carries the state that has a counterpart (adam <-> adamw: all of it; adam(w) <-> "
            "rmsprop: the running mean of g²) and says what was reset.")
    lr_g: float = _num(2e-4, gt=0, le=1, live=True, label="LR G", tip="Generator learning rate.")
    lr_d: float = _num(2e-4, gt=0, le=1, live=True, label="LR D",
                       tip="Discriminator learning rate.")
    beta1: float = _num(0.5, ge=0, lt=1, live=True, label="β₁",
                        tip="Adam β₁ (momentum), m ← β₁m + (1−β₁)g.")
    beta2: float = _num(0.999, ge=0, lt=1, live=True, label="β₂",
                        tip="Adam β₂, v ← β₂v + (1−β₂)g².")
    n_critic: int = _num(1, ge=1, le=100, live=True, label="n_critic",
                         tip="Discriminator updates per generator update.")
    weight_decay: float = _num(
        0.01, ge=0, le=10, live=True, label="Weight decay",
        tip="AdamW's decoupled weight decay λ: every step w ← w − lr·λ·w, then the Adam update "
            "(torch.optim.AdamW; its default 0.01).\nUsed by adamw only: adam and rmsprop "
            "ignore it.")


@dataclass
class ClipConfig:
    enabled: bool = _flag(False, label="Weight clipping",
                          tip="Weight clipping (WGAN): after every D update,\n"
                              "w ← clamp(w, −c, c) for every D parameter.")
    c: float = _num(0.01, gt=0, le=100, live=True, label="c",
                    tip="Clip bound c: parameters stay in [−c, c].")


@dataclass
class GPConfig:
    enabled: bool = _flag(False, label="Gradient penalty",
                          tip="Gradient penalty added to the D loss, e.g. WGAN-GP:\n"
                              "λ·(‖∇ₓD(x̂)‖ − 1)², x̂ = εx + (1−ε)G(z).")
    weight: float = _num(10.0, ge=0, le=1e6, live=True, label="λ", tip="Penalty weight λ.")
    kind: str = _choice("two_sided", "two_sided", "one_sided", "r1", "dragan", live=True,
                        label="kind",
                        tip="two_sided: λ(‖∇D(x̂)‖−1)² (WGAN-GP); one_sided: "
                            "λ·max(0,‖∇D(x̂)‖−1)² (WGAN-LP);\nr1: (λ/2)‖∇D(x_real)‖²;\n"
                            "dragan: λ(‖∇D(x̂)‖−1)² on x̂ = x + α·c·std(x)·u, real x, "
                            "u ~ U[0,1)ᵈ, α ~ U[0,1) (Kodali et al. 2017, DRAGAN; the "
                            "authors' code).")
    dragan_c: float = _num(0.5, gt=0, le=100, live=True, label="DRAGAN c",
                           tip="DRAGAN's perturbation scale c: real points are moved by up to "
                               "c·std(x) per coordinate (the authors' 0.5).")


@dataclass
class SpectralConfig:
    enabled: bool = _flag(False, label="Spectral norm",
                          tip="Spectral normalization (SN-GAN): W ← W / σ(W), σ by power "
                              "iteration\n(u ← Wv/‖Wv‖, v ← Wᵀu/‖Wᵀu‖), so every layer has "
                              "operator norm 1.")
    power_iters: int = _num(1, ge=1, le=100, live=True, label="power iters",
                            tip="Power iterations per training step for σ(W) (method power).")
    method: str = _choice("power", "power", "exact", live=True, label="σ method",
                          tip="power: power_iters warm-started power iterations per D update "
                              "(the SN-GAN paper's;\nit lags where σ₁ ≈ σ₂, so W/σ can have "
                              "σ above 1); exact: σ₁'s singular vectors\nfrom an eigen-"
                              "decomposition after every D update, so W/σ has σ = 1 (costlier).")
    on_disable: str = _choice("keep", "keep", "restore", live=True, label="on disable",
                              tip="When switched off: keep = write W/σ into the weights (D "
                                  "does not jump);\nrestore = go back to the raw weights "
                                  "(D jumps).")


@dataclass
class RowsumConfig:
    enabled: bool = _flag(False, label="Row-sum (l∞) norm",
                          tip="Row-sum normalization: W ← W·t / ‖W‖∞, ‖W‖∞ = maxᵢ Σⱼ |Wᵢⱼ| "
                              "(l∞ operator norm),\nexact and cheap, no iteration.")
    target: float = _num(1.0, gt=0, le=1e6, live=True, label="target",
                         tip="Target t of the l∞ operator norm of each layer.")
    on_disable: str = _choice("keep", "keep", "restore", live=True,
                              label="on disable",
                              tip="When switched off: keep the normalized weights or restore "
                                  "the raw ones.")


@dataclass
class InstanceNoiseConfig:
    enabled: bool = _flag(False, label="Instance noise",
                          tip="Instance noise (Sønderby et al. 2016; Arjovsky & Bottou 2017): "
                              "Gaussian noise N(0, σ²) added to every input of D,\nreal and "
                              "generated, in the D and the G updates, so the two distributions "
                              "overlap and D cannot separate them perfectly.")
    std: float = _num(0.1, gt=0, le=100, live=True, label="σ",
                      tip="Standard deviation σ of the noise (at the start of an anneal).")
    anneal_steps: int = _num(0, ge=0, le=10**9, live=True, label="anneal steps",
                             tip="Anneal σ linearly to 0 over this many generator steps, "
                                 "counted from when the noise was switched on (or σ or this "
                                 "changed).\n0 = constant σ.")


@dataclass
class ConstraintsConfig:
    clip: ClipConfig = field(default_factory=ClipConfig)
    gp: GPConfig = field(default_factory=GPConfig)
    spectral: SpectralConfig = field(default_factory=SpectralConfig)
    rowsum: RowsumConfig = field(default_factory=RowsumConfig)


@dataclass
class RunConfig:
    seed: int = _num(0, ge=0, le=2**63 - 1, label="Seed",
                     tip="Random seed of models, data and noise.")
    device: str = _choice("auto", "auto", "cpu", "cuda", "mps", label="Device",
                          tip="auto picks cuda, then mps, then cpu.")
    steps: int = _num(2000, ge=1, le=10**9, live=True, label="Steps",
                      tip="Total generator steps of the run.")
    log_every: int = _num(10, ge=1, le=10**6, live=True, form=False,
                          tip="Write a metrics line every N steps.")
    checkpoint_every: int = _num(500, ge=1, le=10**9, live=True, form=False,
                                 tip="Save checkpoints/last every N steps.")
    # The probes' cadences (docs/run-folder.md, "Metrics fields"): the slow probes (full
    # spectra, 2D landscape and mode coverage, weight histograms), the image sample grids, and
    # whether the trainer measures its per-phase time split.
    probe_every: int = _num(500, ge=1, le=10**9, live=True, form=False)
    sample_every: int = _num(250, ge=1, le=10**9, live=True, form=False)
    time_split: bool = _flag(True, form=False)
    # Also write TensorBoard event files to RUN_DIR/tensorboard/ as the run trains
    # (core.tensorboard_log; needs the tensorboard extra, checked before the run starts).
    tensorboard: bool = _flag(False, live=False, label="TensorBoard log",
                              tip="Also write TensorBoard event files to RUN_DIR/tensorboard/ "
                                  "while training (needs pip install "
                                  "'lipschitz-playground[tensorboard]').")


@dataclass
class QualityConfig:
    """Image quality (docs/image-quality.md; core/quality/): measured on the slow-probe lines
    and the last line of image runs, in the dataset scorer's features."""

    enabled: bool = _flag(True, form=False,
                          tip="Measure image quality (fd, kid, classes, precision/recall ...) "
                              "on the slow-probe lines of image runs.")
    # G's samples per measurement, compared with as many held-out real images (all of them
    # when the held-out split is smaller: digits holds out 500).
    samples: int = _num(500, ge=16, le=100_000, live=True, form=False,
                        tip="Samples of G per quality measurement (N).")
    features: str = _choice("scorer", "scorer", "inception", form=False,
                            tip="scorer: the dataset's own CNN classifier; inception: "
                                "InceptionV3 pool features (weights must be on disk).")
    inception_weights: str = _text(
        "", tip="InceptionV3 state dict file for features = 'inception' (\"\": torchvision's "
                "file in the torch hub cache).")
    # Stacked data: the samples the last line counts modes on (VEEGAN and PacGAN count 26,000;
    # reproduce --quick counts fewer, so CI does not spend a minute per run on it).
    final_mode_samples: int = _num(26_000, ge=16, le=1_000_000, form=False,
                                   tip="Stacked data: samples of G the run's last line "
                                       "counts modes on (modes_n).")
    # The Parzen-window log-likelihood of Goodfellow et al. 2014 on the quality lines
    # (core/quality/parzen.py): off by default, the reproduction report's Parzen section and
    # the parzen preset switch it on.
    parzen: bool = _flag(False, live=True, form=False,
                         tip="Also estimate the Parzen-window log-likelihood of held-out real "
                             "images under G's samples (Goodfellow et al. 2014) on the "
                             "quality lines.")


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    constraints: ConstraintsConfig = field(default_factory=ConstraintsConfig)
    instance_noise: InstanceNoiseConfig = field(default_factory=InstanceNoiseConfig)
    run: RunConfig = field(default_factory=RunConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)

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

    def with_change(self, key: str, value: Any) -> tuple["Config", dict[str, Any]]:
        """(the config after setting ``key`` to ``value``, every key that changes with it).

        For forms: a dataset switch between 2D data and images also switches the architecture
        to :func:`suggested_arch` when the current one does not fit. Raises ConfigError for a
        value the config refuses (this config is left as it was)."""
        trial = self.copy()
        try:
            trial.set(key, value)
            return trial, {key: trial.get(key)}
        except ConfigError:
            if key != "data.dataset":
                raise
            first = sys.exc_info()[1]
        try:
            arch = suggested_arch(value)
            trial.update({key: value, "model.arch": arch})
        except ConfigError:
            raise first from None
        return trial, {"model.arch": arch, key: value}

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
        if self.data.dataset == "drawn" and not self.data.drawn.points:
            raise ConfigError("data.dataset = 'drawn' needs points: draw them on the samples "
                              "panel (Draw), or --set data.drawn.points=FILE.csv")
        if self.loss.label_smoothing and self.loss.kind != "bce":
            raise ConfigError(
                f"loss.label_smoothing = {self.loss.label_smoothing:g} has no meaning for "
                f"loss.kind '{self.loss.kind}' (it smooths BCE's real targets): set "
                f"loss.label_smoothing = 0 first")


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
    if d.dataset in DATASETS_STACKED and d.channels == 1:
        raise ConfigError(f"{d.dataset} holds three digits as its three colour channels: "
                          f"data.channels must be 0 or 3, got 1")
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
    return field_spec(key).live


@dataclass(frozen=True)
class FieldSpec:
    """What a form needs to offer one config key: its type, default, label and tooltip, its
    choices or numeric range (``gt``/``ge``/``lt``/``le`` bounds, None when open), whether it
    may change while a run trains (``live``) and whether the app's settings show it
    (``form``)."""

    key: str
    kind: str  # "bool" | "int" | "float" | "str" | "list" (points [[x, y], ...])
    default: Any
    label: str
    tip: str
    live: bool
    form: bool
    choices: tuple[str, ...] = ()
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    def parse(self, text: str) -> Any:
        """Text (a form field, ``--set``) as this key's type; range checks come on set."""
        return parse_value(self.key, _FIELDS[self.key], text)


def _spec(key: str, f: dataclasses.Field, default: Any) -> FieldSpec:
    m = f.metadata
    return FieldSpec(key=key, kind=_type_name(f), default=default,
                     label=m.get("label") or key.rsplit(".", 1)[-1], tip=m.get("tip", ""),
                     live=bool(m.get("live")), form=bool(m.get("form")),
                     choices=tuple(m.get("choices") or ()), gt=m.get("gt"), ge=m.get("ge"),
                     lt=m.get("lt"), le=m.get("le"))


def field_specs() -> dict[str, FieldSpec]:
    """Every config key's :class:`FieldSpec`, in the order of the config's sections."""
    return dict(_SPECS)


def field_spec(key: str) -> FieldSpec:
    """The :class:`FieldSpec` of one dotted key; ConfigError names an unknown key."""
    spec = _SPECS.get(key)
    if spec is None:
        _resolve(Config(), key)  # raises the one-line message naming the key
    return spec


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
    return field_spec(key).parse(text)


def all_keys() -> list[str]:
    return list(_SPECS)


def load(path: str | Path) -> Config:
    """The config in the TOML file ``path``, or in the preset of that name ("ring8") where no
    such file exists."""
    path = Path(path)
    if not path.exists():
        from .presets import list_presets, preset_path

        preset = preset_path(str(path))
        if preset is None:
            names = ", ".join(list_presets()) if path.name == str(path) else ""
            raise ConfigError(f"config file not found: {path}"
                              + (f" (nor a preset: {names})" if names else ""))
        path = preset
    text = read_text_file(path, "config file", ConfigError)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        return Config.from_dict(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def dumps(cfg: Config) -> str:
    raw = cfg.to_dict()
    points = raw["data"]["drawn"]["points"]
    raw["data"]["drawn"]["points"] = []
    text = tomli_w.dumps(raw)
    if points:  # tomli_w writes each number of a nested array on its own line: 4 per point
        rows = [", ".join(f"[{x!r}, {y!r}]" for x, y in points[i:i + 4])
                for i in range(0, len(points), 4)]
        text = text.replace("\npoints = []\n", "\npoints = [\n    " + ",\n    ".join(rows)
                            + ",\n]\n", 1)
    return text


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
    if kind == "list":
        try:
            return check_points(value, key)
        except PointsError as exc:
            raise ConfigError(str(exc)) from None
    raise AssertionError(f"unhandled field type {kind}")


def parse_value(key: str, f: dataclasses.Field, text: str) -> Any:
    kind = _type_name(f)
    raw = text.strip()
    if kind == "list":  # points: a CSV file or inline "x,y;x,y"
        try:
            return parse_points_text(raw, key)
        except PointsError as exc:
            raise ConfigError(str(exc)) from None
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


_FIELDS: dict[str, dataclasses.Field] = {key: f for key, f, _ in iter_fields(Config())}
_SPECS: dict[str, FieldSpec] = {key: _spec(key, f, value)
                                for key, f, value in iter_fields(Config())}
