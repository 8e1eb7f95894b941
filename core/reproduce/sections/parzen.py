"""Section 10: why the Parzen-window likelihood went flat. The estimator of Goodfellow et al.
2014 (``core.quality.parzen``: Gaussian kernels on 1,000 samples of G, σ chosen on a
validation split, the log-likelihood of the held-out digits) through the runs of section 9,
next to ``fd``; Theis et al. 2016 argue it is largely independent of sample quality in high
dimensions."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from ..image_runs import quality_lines, reference
from ..render import Finding, figure as new_figure, mean_std, num, save, source, table
from ..runs import ReportContext, Run
from .grey_noise import VARIANTS, fd_level, left_grey_noise

READS = ("grey_noise",)  # the experiments it reads (reproduce --only)

# Theis et al.'s claim holds here when, over the lines whose samples have left grey noise
# (section 9's level), |Spearman ρ(parzen_ll, fd)| is below INDEPENDENT_BELOW. ρ at or below
# -INDEPENDENT_BELOW: the estimate tracks quality (lower fd, higher likelihood); at or above
# +INDEPENDENT_BELOW: it moves against it.
INDEPENDENT_BELOW = 0.5
MIN_LINES = 8  # fewer lines past grey noise: not measurable
GOODFELLOW_MNIST = "225 ± 2"  # nats, GAN on MNIST (Goodfellow et al. 2014, Table 1)


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rank correlation (scipy's, average ranks for ties); NaN below 3 pairs or
    when either side is constant (no ranking to correlate)."""
    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return math.nan
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).statistic)


def relation(rho: float, lines: int) -> str:
    """The verdict's words for ρ(parzen_ll, fd) over ``lines`` lines."""
    if lines < MIN_LINES or not math.isfinite(rho):
        return f"not measurable here (fewer than {MIN_LINES} lines past grey noise)"
    if abs(rho) < INDEPENDENT_BELOW:
        return "reproduces (largely independent)"
    if rho <= -INDEPENDENT_BELOW:
        return "does not reproduce: the estimate tracks quality"
    return "reproduces, more strongly: the estimate moves against quality"


@dataclass
class Flattening:
    """One run from the line it left grey noise to its last line."""

    fd_from: float
    fd_to: float
    ll_from: float
    ll_to: float


@dataclass
class Parzen:
    steps: int
    runs: dict[str, list[Run]]
    pairs: list[tuple[float, float]] = field(default_factory=list)  # (fd, parzen_ll), all lines
    good: list[tuple[float, float]] = field(default_factory=list)   # ... past grey noise
    floor: float | None = None
    ceiling: float | None = None
    sigmas: list[float] = field(default_factory=list)
    flat: list[Flattening] = field(default_factory=list)

    @property
    def rho_all(self) -> float:
        return spearman(*zip(*self.pairs)) if len(self.pairs) >= 3 else math.nan

    @property
    def rho_good(self) -> float:
        return spearman(*zip(*self.good)) if len(self.good) >= 3 else math.nan


def _lines(run: Run) -> list[dict]:
    return [m for m in quality_lines(run) if isinstance(m.get("parzen_ll"), (int, float))]


def compute(ctx: ReportContext) -> Parzen:
    runs = {v: [r for r in ctx.runs["grey_noise"].get(v, []) if _lines(r)] for v in VARIANTS}
    data = Parzen(ctx.steps("grey_noise"), runs)
    for r in (r for rs in runs.values() for r in rs):
        level = fd_level(r)
        lines = _lines(r)
        data.pairs += [(m["fd"], m["parzen_ll"]) for m in lines]
        if level is not None:
            data.good += [(m["fd"], m["parzen_ll"]) for m in lines if m["fd"] <= level]
        data.sigmas += [m["parzen_sigma"] for m in lines if m.get("parzen_sigma")]
        if data.floor is None:
            data.floor, data.ceiling = reference(r, "parzen_ll")
        left = left_grey_noise(r)
        start = next((m for m in lines if left is not None and m["step"] >= left), None)
        if start is not None and start is not lines[-1]:
            data.flat.append(Flattening(start["fd"], lines[-1]["fd"], start["parzen_ll"],
                                        lines[-1]["parzen_ll"]))
    return data


def _rho_text(data: Parzen) -> str:
    return (f"ρ = {num(data.rho_good, '{:.2f}')} over the {len(data.good)} lines past grey "
            f"noise ({num(data.rho_all, '{:.2f}')} over all {len(data.pairs)})")


def findings(data: Parzen) -> list[Finding]:
    if not data.pairs:
        return []
    return [Finding("Parzen log-likelihood largely independent of sample quality "
                    "(Theis et al. 2016)", "largely independent in high dimensions",
                    "Spearman " + _rho_text(data), relation(data.rho_good, len(data.good)))]


def text(data: Parzen) -> str:
    rows = []
    for v, label in VARIANTS.items():
        rs = data.runs.get(v, [])
        rows.append([f"ours: {label}", mean_std([_lines(r)[-1]["parzen_ll"] for r in rs],
                                                "{:.1f}"),
                     mean_std([_lines(r)[-1]["fd"] for r in rs], "{:.1f}"), str(len(rs))])
    rows.append(["real training images as the kernels (floor)", num(data.floor, "{:.1f}"), "",
                 ""])
    rows.append(["untrained G (ceiling: grey noise)", num(data.ceiling, "{:.1f}"), "", ""])
    rows.append(["Goodfellow et al. 2014, GAN on MNIST (10,000 samples)", GOODFELLOW_MNIST, "",
                 ""])
    flat = ""
    if data.flat:
        fd_drop = statistics.mean(f.fd_from / f.fd_to for f in data.flat if f.fd_to > 0)
        ll_move = statistics.mean(f.ll_to - f.ll_from for f in data.flat)
        span = (data.floor - data.ceiling) if data.floor is not None and data.ceiling else None
        share = (f" ({100 * ll_move / span:+.1f} % of the ceiling-to-floor span of "
                 f"{span:.0f} nats)" if span else "")
        flat = (f"From the line each run left grey noise to its last line ({len(data.flat)} "
                f"runs), fd fell {fd_drop:.1f}x on average while `parzen_ll` moved "
                f"{ll_move:+.1f} nats{share}.")
    sig = (f"{min(data.sigmas):.3g}–{max(data.sigmas):.3g}" if data.sigmas else "n/a")
    verdict = relation(data.rho_good, len(data.good))
    return f"""
## 10. Why the Parzen-window likelihood went flat

Goodfellow et al. 2014 scored GANs by a Parzen window: a Gaussian kernel on each of many
samples of G, its width σ chosen on a validation split, the mean log-likelihood of held-out
images under that mixture (their GAN on MNIST: {GOODFELLOW_MNIST} nats). Theis et al. 2016 show
that in high dimensions the estimate is dominated by the distance to the nearest kernel, far
from the true likelihood, and largely independent of how good the samples look. Here: the
estimator of `core/quality/parzen.py` (1,000 samples of G as kernels, pixels in [0, 1],
d = 784; σ from a grid of 31 values, 0.01–10, chosen on 297 training digits; the
log-likelihood of the 500 held-out digits, nats per image) on every quality line of the runs
of section 9, beside `fd`. The chosen σ ranged over {sig}.

{table(["runs", "parzen_ll last (nats)", "fd last", "runs"], rows)}

Spearman rank correlation between `parzen_ll` and `fd` (a likelihood that followed quality
would have ρ near −1): {_rho_text(data)}. Verdict (criterion: |ρ| < {INDEPENDENT_BELOW:g}
over the lines past grey noise): **{verdict}**. {flat} The real training images as kernels
(the floor) score far above any G: a Parzen window rewards closeness to individual training
digits, which upscaled 8x8 digits (784 pixels, few degrees of freedom) make easy; our nats are
not comparable with the paper's MNIST figure.

{source("grey_noise/{none,spectral}_seed*/metrics.jsonl",
        fields="`parzen_ll`, `parzen_sigma`, `fd` on the quality lines; floor and ceiling in "
               "`quality_floor` / `quality_ceiling`")}
"""


def figure(data: Parzen, folder: Path) -> str | None:
    if not data.pairs:
        return None
    fig, axes = new_figure(2, 1, 4.5, 3.2)
    colours = {"none": "#ee6677", "spectral": "#4477aa"}
    scatter, through = axes[0]
    for v, rs in data.runs.items():
        pts = [(m["fd"], m["parzen_ll"]) for r in rs for m in _lines(r)]
        if pts:
            scatter.scatter(*zip(*pts), s=6, color=colours[v], alpha=0.6, label=VARIANTS[v])
        if rs:
            lines = _lines(rs[0])
            through.plot([m["step"] for m in lines], [m["parzen_ll"] for m in lines],
                         color=colours[v], lw=1, label=f"parzen_ll, {VARIANTS[v]}, seed "
                                                         f"{rs[0].trial.seed}")
    for value, name in ((data.floor, "floor (real images)"), (data.ceiling, "ceiling")):
        if value is not None:
            scatter.axhline(value, color="grey", ls=":", lw=0.8)
            scatter.annotate(name, (0.02, value), xycoords=("axes fraction", "data"), fontsize=7)
    scatter.set_xscale("log")
    scatter.set_xlabel("fd")
    scatter.set_ylabel("parzen_ll (nats)")
    scatter.set_title("every quality line", fontsize=10)
    scatter.legend(fontsize=7)
    twin = through.twinx()
    for v, rs in data.runs.items():
        if rs:
            lines = _lines(rs[0])
            twin.plot([m["step"] for m in lines], [m["fd"] for m in lines], color=colours[v],
                      lw=0.8, ls="--")
    twin.set_yscale("log")
    twin.set_ylabel("fd (dashed)")
    through.set_xlabel("generator step")
    through.set_ylabel("parzen_ll (nats)")
    through.set_title("through a run", fontsize=10)
    through.legend(fontsize=7, loc="lower right")
    return save(fig, folder / "parzen.png", "Parzen log-likelihood against fd")
