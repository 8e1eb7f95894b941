"""Section 5: the gradient norm on interpolates settles near 1 under a two-sided penalty
(WGAN-GP)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..render import Finding, figure as new_figure, mean_std, save, source, table
from ..runs import ReportContext, Run

# The experiments it reads (reproduce --only).
READS = ("weights", "coverage_ring8", "coverage_grid25")

# "Near 1": the mean over the last quarter of the lines is within this of 1.
NEAR_ONE = 0.2
PAPER_GROUP = "WGAN-GP"  # the group name of the paper's own setting (Wasserstein loss)


@dataclass
class GroupStats:
    runs: list[Run]
    first: list[float] = field(default_factory=list)   # per run: first line
    tail: list[float] = field(default_factory=list)    # mean over the last quarter
    final: list[float] = field(default_factory=list)   # last line


@dataclass
class GPInterp:
    groups: dict[str, GroupStats]


def compute(ctx: ReportContext) -> GPInterp:
    groups = {"Swiss roll, WGAN-GP (section 2)": ctx.runs["weights"].get("gp", []),
              "ring8, BCE + GP (section 1)": ctx.runs["coverage_ring8"].get("gp", []),
              "grid25, BCE + GP (section 1)": ctx.runs["coverage_grid25"].get("gp", [])}
    data = GPInterp({})
    for name, runs in groups.items():
        stats = data.groups[name] = GroupStats(runs)
        for r in runs:
            _, v = r.series("lip_grad_mean_interp")
            if len(v):
                stats.first.append(v[0])
                stats.tail.append(float(np.mean(v[len(v) * 3 // 4:])))
                stats.final.append(v[-1])
    return data


def findings(data: GPInterp) -> list[Finding]:
    out = []
    for name, stats in data.groups.items():
        if not stats.tail:
            continue
        t = statistics.mean(stats.tail)
        paper = PAPER_GROUP in name
        out.append(Finding(f"GP: ‖∇D‖ on interpolates near 1 ({name})",
                           "≈ 1 (WGAN-GP's setting)" if paper else "—",
                           f"{t:.3f} (last quarter)",
                           ("" if paper else "not the paper's setting (BCE loss): ")
                           + ("near 1" if abs(t - 1) < NEAR_ONE else
                              "not near 1 (criterion: within 0.2 of 1)")))
    return out


def text(data: GPInterp) -> str:
    rows = [[name, str(len(s.runs)), mean_std(s.first, "{:.3f}"), mean_std(s.tail, "{:.3f}"),
             mean_std(s.final, "{:.3f}")] for name, s in data.groups.items()]
    return f"""
## 5. The gradient norm on interpolates settles near 1 under a two-sided penalty

WGAN-GP's penalty λ(‖∇ₓD(x̂)‖ − 1)² on random interpolates x̂ of real and fake points. The
probes measure the mean ‖∇ₓD‖ on 32 fresh interpolates per log line (D in eval mode).

{table(["runs", "seeds", "first line", "mean over the last quarter", "last line"], rows)}

{source("weights/gp_seed*/metrics.jsonl", "coverage_*/gp_seed*/metrics.jsonl",
        fields="`lip_grad_mean_interp`")}
"""


def figure(data: GPInterp, folder: Path) -> str | None:
    fig, axes = new_figure(1, 1, 5.5, 3.0)
    ax = axes[0][0]
    for index, (name, stats) in enumerate(data.groups.items()):
        for i, r in enumerate(stats.runs):
            s, v = r.series("lip_grad_mean_interp")
            ax.plot(s, v, lw=0.8, alpha=0.8, label=name if i == 0 else None,
                    color=f"C{index}")
    ax.axhline(1.0, color="grey", ls="--", lw=0.8)
    ax.set_xlabel("generator step")
    ax.set_ylabel("mean ‖∇D‖ on interpolates")
    ax.legend(fontsize=7)
    return save(fig, folder / "gp_interp.png", "gp interpolates")
