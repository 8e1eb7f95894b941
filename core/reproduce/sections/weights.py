"""Section 2: weight clipping piles the critic's weights at ±c; the gradient penalty does not
(WGAN-GP paper, Fig. 1b)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..render import Finding, edge_share, figure as new_figure, mean_std, save, source, table
from ..runs import ReportContext, Run, layer_names

READS = ("weights",)  # the experiments it reads (reproduce --only)

# Reproduces when, on the last line, more than this share of the clipped critic's weights sit
# at ±c ...
PILE_MIN_CLIPPED = 0.25
# ... and less than this share of the GP critic's sit at the ends of its range.
PILE_MAX_GP = 0.05


@dataclass
class Weights:
    clip_runs: list[Run]
    gp_runs: list[Run]
    c: float
    layers: list[str]
    steps: int
    rows: list[list[str]] = field(default_factory=list)
    firsts: list[float] = field(default_factory=list)   # clip share at ±c, first lines
    lasts: list[float] = field(default_factory=list)    # ... last lines
    gps: list[float] = field(default_factory=list)      # GP share at ±max|w| (D.pt)

    @property
    def measured(self) -> bool:
        return bool(self.firsts and self.lasts and self.gps)

    @property
    def piles(self) -> bool:
        return (statistics.mean(self.lasts) > PILE_MIN_CLIPPED
                and statistics.mean(self.gps) < PILE_MAX_GP)


def compute(ctx: ReportContext) -> Weights:
    runs = ctx.runs["weights"]
    clip_runs, gp_runs = runs.get("clip", []), runs.get("gp", [])
    c = clip_runs[0].trial.config["constraints"]["clip"]["c"] if clip_runs else 0.01
    data = Weights(clip_runs, gp_runs, c, layer_names(clip_runs + gp_runs), ctx.steps("weights"))
    for layer in data.layers:
        first, mid, final, gp_edge, clip_edge_d = [], [], [], [], []
        for r in clip_runs:
            s, v = r.series("clip_share", layer)
            if len(v):
                first.append(v[0]); mid.append(v[len(v) // 2]); final.append(v[-1])
            if r.weight(layer) is not None:
                clip_edge_d.append(edge_share(r.weight(layer), c))
        for r in gp_runs:
            w = r.weight(layer)
            if w is not None:
                gp_edge.append(edge_share(w, float(np.abs(w).max())))
        data.firsts += first
        data.lasts += final
        data.gps += gp_edge
        data.rows.append([layer, mean_std(first, "{:.1f}", 100), mean_std(mid, "{:.1f}", 100),
                          mean_std(final, "{:.1f}", 100), mean_std(clip_edge_d, "{:.1f}", 100),
                          mean_std(gp_edge, "{:.2f}", 100)])
    return data


def findings(data: Weights) -> list[Finding]:
    if not data.measured:
        return []
    return [Finding(
        "clipping piles weights at ±c, GP does not (WGAN-GP Fig. 1b)",
        "two spikes at ±c / a spread histogram",
        f"{100 * statistics.mean(data.lasts):.1f} % at ±c / "
        f"{100 * statistics.mean(data.gps):.2f} % at ±max|w|",
        "reproduces" if data.piles else "does not reproduce (criterion: > 25 % / < 5 %)")]


def text(data: Weights) -> str:
    pile = ""
    if data.measured:
        pile = (f"Averaged over layers and seeds, {100 * statistics.mean(data.firsts):.1f} % of "
                f"the clipped critic's weights sit at ±c on the first logged line and "
                f"{100 * statistics.mean(data.lasts):.1f} % on the last, against "
                f"{100 * statistics.mean(data.gps):.2f} % of the GP critic's at the ends of its "
                f"range: " + ("the finding reproduces." if data.piles else
                              "the finding does not reproduce as stated.") +
                " Part of the pile comes from the start: the default initialisation "
                "(uniform in ±1/√fan-in, ±0.088 for 128 inputs) lies mostly outside "
                "±0.01, so the first clip already moves most weights to the bound; the "
                "paper's point is that training keeps them there.")
    steps, c = data.steps, data.c
    return f"""
## 2. Weight clipping piles the critic's weights at ±c; the gradient penalty does not

WGAN-GP paper (Gulrajani et al. 2017), Fig. 1b right. A WGAN critic (MLP 3 x 128, LeakyReLU)
on the Swiss roll, Wasserstein loss, 5 critic steps per generator step, {steps} generator steps,
{len(data.clip_runs)} seeds: clipping at c = {c:g} with WGAN's RMSprop 5e-5, against a two-sided
gradient penalty (λ = 10) with WGAN-GP's Adam 1e-4 (0, 0.9). "At the bound": |w| within 1 % of
c. For the GP critic, which has no bound, the same share is measured against its own largest
|w| (the two ends of its range).

{table(["layer", "clip: at ±c, first line", "middle line", "last line",
        "last, from D.pt", "GP: within 1 % of ±max|w| (D.pt)"], data.rows)}

{source("weights/clip_seed*/metrics.jsonl", "weights/*_seed*/checkpoints/last/D.pt",
        fields="`clip_share[layer]` (share of the layer's weights with |w| >= 0.99 c, "
               "logged while clipping is on) and the exported weights")}

{pile}
"""


def figure(data: Weights, folder: Path) -> str | None:
    if not data.layers:
        return None
    layers, clip_runs, gp_runs, c = data.layers, data.clip_runs, data.gp_runs, data.c
    fig, axes = new_figure(len(layers) + 1, 1, 3.2, 2.6)
    ax = axes[0][0]
    for layer in layers:
        curves = [r.series("clip_share", layer) for r in clip_runs]
        curves = [cv for cv in curves if len(cv[1])]
        if curves:
            n = min(len(cv[1]) for cv in curves)
            ax.plot(curves[0][0][:n], 100 * np.mean([cv[1][:n] for cv in curves], 0),
                    label=layer)
    ax.set_title("clip: weights at ±c (%)", fontsize=10)
    ax.set_xlabel("generator step")
    ax.legend(fontsize=7)
    for i, layer in enumerate(layers, start=1):
        ax = axes[0][i]
        if clip_runs and clip_runs[0].weight(layer) is not None:
            w = clip_runs[0].weight(layer).ravel()
            ax.hist(w / c, bins=41, alpha=0.6, label="clip (w / c)", density=True)
        if gp_runs and gp_runs[0].weight(layer) is not None:
            w = gp_runs[0].weight(layer).ravel()
            ax.hist(w / np.abs(w).max(), bins=41, alpha=0.6,
                    label="GP (w / max|w|)", density=True)
        ax.set_title(f"{layer}: final weights", fontsize=10)
        ax.legend(fontsize=7)
    return save(fig, folder / "weights.png", "weights")
