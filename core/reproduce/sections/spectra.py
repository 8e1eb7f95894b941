"""Section 3: spectra after training, weight clipping against spectral norm (SN-GAN paper,
Fig. 3)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..render import Finding, figure as new_figure, matrix, num, save, source, table
from ..runs import ReportContext, layer_names

READS = ("dcgan",)  # the experiments it reads (reproduce --only)

PAIR = ("clip", "spectral")
# Reproduces when clip's mean stable rank is below this fraction of SN's.
STABLE_RANK_RATIO = 0.8
# The last column counts the σᵢ²/σ₁² at or above this.
LARGE_RATIO = 0.1


@dataclass
class Spectra:
    layers: list[str]
    steps: int
    rows: list[list[str]] = field(default_factory=list)
    curves: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)  # σᵢ²/σ₁²

    def mean_stable_rank(self, variant: str) -> float | None:
        ranks = [float(r.sum()) for (_, v), r in self.curves.items() if v == variant and len(r) > 1]
        return statistics.mean(ranks) if ranks else None


def compute(ctx: ReportContext) -> Spectra:
    runs = ctx.runs["dcgan"]
    pair = {v: runs.get(v, []) for v in PAIR}
    data = Spectra(layer_names(pair["clip"] + pair["spectral"]), ctx.steps("dcgan"))
    for layer in data.layers:
        row = [layer]
        for v in PAIR:
            if not pair[v] or pair[v][0].weight(layer) is None:
                row += ["n/a"] * 3
                continue
            w = matrix(pair[v][0].weight(layer))
            s = np.linalg.svd(w, compute_uv=False)
            ratio = (s / s[0]) ** 2
            data.curves[(layer, v)] = ratio
            row += [num(float(s[0])), num(float(ratio.sum()), "{:.2f}"),
                    f"{int((ratio >= LARGE_RATIO).sum())} / {len(s)}"]
        data.rows.append(row)
    return data


def findings(data: Spectra) -> list[Finding]:
    c_r, s_r = data.mean_stable_rank("clip"), data.mean_stable_rank("spectral")
    if c_r is None or s_r is None:
        return []
    return [Finding(
        "clipping concentrates the spectrum, SN keeps it broad (SN-GAN Fig. 3)",
        "clip: few large σᵢ; SN: many", f"mean stable rank clip {c_r:.2f}, SN {s_r:.2f}",
        "reproduces" if c_r < STABLE_RANK_RATIO * s_r else
        "does not reproduce here (criterion: clip's mean stable rank < 0.8 x SN's)")]


def text(data: Spectra) -> str:
    return f"""
## 3. Spectra after training: clipping against spectral norm

SN-GAN paper (Miyato et al. 2018), Fig. 3: squared singular values of each critic layer,
normalized by the largest, after training. Here the notebook DCGAN on digits (BCE,
BatchNorm in D, Adam 2e-4 (0.5, 0.999)), {data.steps} generator steps, with weight clipping
(c = 0.01) or spectral norm, everything else equal (the paper trained its own CNNs on CIFAR-10
and STL-10). Each weight as the matrix SN normalizes, [out, in·kh·kw]. "Stable rank" is
Σσᵢ²/σ₁²; the last column counts the σᵢ²/σ₁² >= 0.1.

{table(["layer", "clip σ₁", "clip stable rank", "clip σᵢ²/σ₁² >= 0.1",
        "SN σ₁", "SN stable rank", "SN σᵢ²/σ₁² >= 0.1"], data.rows)}

{source("dcgan/clip_seed0/checkpoints/last/D.pt", "dcgan/spectral_seed0/...",
        fields="singular values of the exported weights (float64 SVD)")}
"""


def figure(data: Spectra, folder: Path) -> str | None:
    if not data.curves:
        return None
    fig, axes = new_figure(len(data.layers), 1, 2.8, 2.6)
    for i, layer in enumerate(data.layers):
        ax = axes[0][i]
        for v, style in (("clip", "-"), ("spectral", "--")):
            ratio = data.curves.get((layer, v))
            if ratio is not None:
                ax.plot(np.linspace(0, 1, len(ratio)), ratio, style, label=v,
                        marker="o" if len(ratio) < 3 else None)
        ax.set_title(layer, fontsize=10)
        ax.set_xlabel("index / rank")
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("σᵢ² / σ₁²")
    return save(fig, folder / "spectra.png", "spectra")
