"""Section 9: "SN leaves grey noise later" (the forum's question): the notebook DCGAN on
digits without and with spectral norm, over seeds, the step at which ``fd`` first falls below
a level set by the scorer's floor and ceiling and the step at which ``classes`` first reaches
10; a filmstrip of the saved sample grids at equal steps."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from ..image_runs import Censored, first_step, quality_lines, reference, sample_grids
from ..render import Finding, figure as new_figure, mean_std, save, source, table
from ..runs import ReportContext, Run

READS = ("grey_noise",)  # the experiments it reads (reproduce --only)

VARIANTS = {"none": "no constraint", "spectral": "spectral norm"}
# A run has left grey noise once fd <= floor + FD_LEVEL_SHARE * (ceiling - floor): 90 % of
# the way from an untrained G (the ceiling, grey noise) to real held-out images (the floor).
FD_LEVEL_SHARE = 0.1
# ... and shows every digit once `classes` (classes with >= 5 % of the samples) reaches this.
ALL_CLASSES = 10
# "SN later" when SN's mean step is at least LATER_RATIO times the unconstrained one's
# ("earlier" at most 1 / LATER_RATIO); between the two: about the same.
LATER_RATIO = 1.5
FORUM = "MNIST: no SN ~3,000 steps, SN ~10,000"
FILMSTRIP_COLUMNS = 6


def fd_level(run: Run) -> float | None:
    """The fd below which this run has left grey noise (from its own floor and ceiling)."""
    floor, ceiling = reference(run, "fd")
    if floor is None or ceiling is None:
        return None
    return floor + FD_LEVEL_SHARE * (ceiling - floor)


def level_range(levels: list[float]) -> str:
    """The runs' grey-noise levels as the text says them: one number, a range, or ""."""
    if not levels:
        return ""
    lo, hi = min(levels), max(levels)
    return f"{levels[0]:.0f}" if round(lo) == round(hi) else f"{lo:.0f}–{hi:.0f}"


def left_grey_noise(run: Run) -> int | None:
    level = fd_level(run)
    return None if level is None else first_step(run, "fd", lambda v: v <= level)


def all_classes(run: Run) -> int | None:
    return first_step(run, "classes", lambda v: v >= ALL_CLASSES)


def compare(none: Censored, sn: Censored) -> str:
    """SN against no constraint by LATER_RATIO, with runs that never got there bounding the
    means: "later", "earlier", "about the same", or why it cannot be told."""
    if not none.steps or not sn.steps:
        return "not measured"
    if not none.reached and not sn.reached:
        return f"neither reached it within {none.horizon} steps"
    none_low, none_high = none.bounds()
    sn_low, sn_high = sn.bounds()
    ratio_low = sn_low / none_high if none_high else math.inf   # 0 when none_high is inf
    ratio_high = sn_high / none_low if none_low else math.inf
    if ratio_low >= LATER_RATIO:
        return "SN later"
    if ratio_high <= 1 / LATER_RATIO:
        return "SN earlier"
    if 1 / LATER_RATIO < ratio_low and ratio_high < LATER_RATIO:
        return "about the same"
    return "undetermined (runs that never got there leave the ratio open)"


def verdict(outcome: str) -> str:
    if outcome == "SN later":
        return "reproduces (SN later)"
    if outcome in ("SN earlier", "about the same"):
        return f"does not reproduce here: {outcome}"
    return outcome


@dataclass
class GreyNoise:
    steps: int
    runs: dict[str, list[Run]]
    probe_every: int = 0      # the sweep's run.probe_every (a quality line every so many steps)
    samples: int = 0          # its quality.samples (N)
    fd: dict[str, Censored] = field(default_factory=dict)
    classes: dict[str, Censored] = field(default_factory=dict)
    levels: list[float] = field(default_factory=list)

    def outcome(self, which: dict[str, Censored]) -> str:
        if "none" not in which or "spectral" not in which:
            return "not measured"
        return compare(which["none"], which["spectral"])


def compute(ctx: ReportContext) -> GreyNoise:
    runs = {v: [r for r in ctx.runs["grey_noise"].get(v, []) if r.ok] for v in VARIANTS}
    config = ctx.sweeps["grey_noise"].trials[0].config
    data = GreyNoise(ctx.steps("grey_noise"), runs, config["run"]["probe_every"],
                     config["quality"]["samples"])
    for v, rs in runs.items():
        if rs:
            data.fd[v] = Censored(tuple(left_grey_noise(r) for r in rs), data.steps)
            data.classes[v] = Censored(tuple(all_classes(r) for r in rs), data.steps)
    data.levels = [lv for rs in runs.values() for r in rs if (lv := fd_level(r)) is not None]
    return data


def _ours(data: GreyNoise, which: dict[str, Censored]) -> str:
    return "; ".join(f"{'SN' if v == 'spectral' else 'no SN'} {which[v].cell()}"
                     for v in VARIANTS if v in which)


def findings(data: GreyNoise) -> list[Finding]:
    level = f"{100 * FD_LEVEL_SHARE:.0f} %"
    return [Finding(f"SN leaves grey noise later: fd within {level} of the floor (forum)",
                    FORUM, _ours(data, data.fd), verdict(data.outcome(data.fd))),
            Finding(f"SN shows all {ALL_CLASSES} digits later (forum)", FORUM,
                    _ours(data, data.classes), verdict(data.outcome(data.classes)))]


def _medians(which: dict[str, Censored]) -> str:
    return ", ".join(f"{'SN' if v == 'spectral' else 'no SN'} {which[v].median()}"
                     for v in VARIANTS if v in which)


def _finals(runs: list[Run], key: str, fmt: str) -> str:
    return mean_std([r.final(key) for r in runs], fmt)


def text(data: GreyNoise) -> str:
    rows = []
    for v, label in VARIANTS.items():
        rs = data.runs.get(v, [])
        if v not in data.fd:
            rows.append([label] + ["n/a"] * 5)
            continue
        rows.append([f"ours: {label}", data.fd[v].cell(), data.classes[v].cell(),
                     _finals(rs, "fd", "{:.1f}"), _finals(rs, "classes", "{:.1f}"),
                     f"{data.fd[v].per_run()} / {data.classes[v].per_run()}"])
    rows.append(["forum (MNIST, the course notebook)", "no SN ~3,000, SN ~10,000", "", "", "",
                 ""])
    level = level_range(data.levels) or "n/a"
    seeds = max((len(rs) for rs in data.runs.values()), default=0)
    seeds = f"{seeds} seed{'s' if seeds != 1 else ''}"
    fd_out, cls_out = data.outcome(data.fd), data.outcome(data.classes)
    agree = ("Digits agrees with the forum" if fd_out == "SN later" and cls_out == "SN later"
             else "Digits does not agree with the forum" if
             {fd_out, cls_out} <= {"SN earlier", "about the same"}
             else "Digits neither confirms nor contradicts the forum on both counts")
    return f"""
## 9. "SN leaves grey noise later": when the samples become digits

The forum's question: with spectral norm the course notebook's samples stayed grey noise for
~10,000 steps on MNIST, without it they looked like digits after ~3,000. The notebook DCGAN on
digits (BatchNorm in D, BCE, Adam 2e-4 (0.5, 0.999), batch 128), without and with SN, {seeds},
{data.steps} generator steps, image quality every {data.probe_every} steps (N = {data.samples}
samples against as many held-out digits, in the digits scorer's features). A run has *left
grey noise* at the first line where `fd` ≤ floor + {FD_LEVEL_SHARE:g} × (ceiling − floor),
{100 * (1 - FD_LEVEL_SHARE):.0f} % of the way from an untrained G (the ceiling) to real images
(the floor): fd ≤ {level} here. It *shows every digit* at the first line where `classes`
(digits with at least 5 % of the samples) reaches {ALL_CLASSES}. Steps: mean ± standard deviation over the runs that got there
(how many of how many); a run that never did counts as "> {data.steps}".

{table(["runs", "fd left grey noise (step)", f"classes = {ALL_CLASSES} (step)", "fd last",
        "classes last", "per seed: fd / classes"], rows)}

Verdict (criterion: SN "later" when its mean step is at least {LATER_RATIO:g}x the unconstrained
one's, "earlier" when at most 1/{LATER_RATIO:g}x, runs that never got there bounding the means):
fd: **{fd_out}**; classes: **{cls_out}**. {agree}. Median steps (runs that never got
there counted as later than all): fd {_medians(data.fd)}; classes {_medians(data.classes)}. This is digits (1,797 8x8 images upscaled to
28x28) on 2 CPU cores, not MNIST: the step counts are not the forum's, the order is the
question.

{source("grey_noise/{none,spectral}_seed*/metrics.jsonl", "samples/step_*.png",
        fields="`fd`, `classes` and their `quality_floor` / `quality_ceiling` on the quality "
               "lines")}
"""


def _grid_axes(ax, path: Path | None, title: str) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    if path is not None:
        from matplotlib.image import imread

        ax.imshow(imread(path), cmap="gray", interpolation="nearest")
    ax.set_title(title, fontsize=8)


def filmstrip_steps(grids: list[dict[int, Path]], columns: int = FILMSTRIP_COLUMNS) -> list[int]:
    """Up to ``columns`` steps that every run saved, spread evenly from first to last."""
    common = sorted(set.intersection(*(set(g) for g in grids))) if grids else []
    if len(common) <= columns:
        return common
    picks = {common[round(i * (len(common) - 1) / (columns - 1))] for i in range(columns)}
    return sorted(picks)


def figure(data: GreyNoise, folder: Path) -> str | None:
    lines = []
    if any(data.runs.values()):
        fig, axes = new_figure(2, 1, 4.5, 3.0)
        colours = {"none": "#ee6677", "spectral": "#4477aa"}
        for v, rs in data.runs.items():
            for i, r in enumerate(rs):
                q = quality_lines(r)
                label = VARIANTS[v] if i == 0 else None
                axes[0][0].plot([m["step"] for m in q], [m["fd"] for m in q], lw=0.9,
                                color=colours[v], alpha=0.8, label=label)
                axes[0][1].plot([m["step"] for m in q], [m.get("classes") for m in q], lw=0.9,
                                color=colours[v], alpha=0.8, label=label)
        if data.levels:
            axes[0][0].axhline(max(data.levels), color="grey", ls=":", lw=0.8,
                               label="left grey noise below")
        axes[0][0].set_yscale("log")
        axes[0][0].set_title("fd (every seed)", fontsize=10)
        axes[0][1].set_title("classes (every seed)", fontsize=10)
        for ax in axes[0]:
            ax.set_xlabel("generator step")
            ax.legend(fontsize=7)
        lines.append(save(fig, folder / "grey_noise.png", "grey noise: fd and classes"))
    strip = [(VARIANTS[v], rs[0]) for v, rs in data.runs.items() if rs]
    grids = [sample_grids(r) for _, r in strip]
    steps = filmstrip_steps(grids) if strip and all(grids) else []
    if steps:
        fig, axes = new_figure(len(steps), len(strip), 1.9, 2.05)
        for row, ((label, run), grid) in enumerate(zip(strip, grids)):
            for col, step in enumerate(steps):
                _grid_axes(axes[row][col], grid.get(step), f"{label}, seed {run.trial.seed}, "
                           f"step {step}" if col == 0 else f"step {step}")
        lines.append(save(fig, folder / "grey_noise_filmstrip.png",
                          "filmstrip: samples at equal steps"))
    return "\n\n".join(lines) or None
