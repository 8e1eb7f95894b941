"""Per-layer forward + backward time of the generators' transposed convolutions, stock
(``F.conv_transpose2d``, oneDNN on the CPU) against ``core.models.convtranspose``'s GEMM path,
and which one ``GemmConvTranspose2d`` picks for that layer.

Layers: the notebook DCGAN's four (batch 128) and the SN-GAN CNN's three (batch 64, 32x32),
channels_last as the trainer runs them. The figure is the best of ``--reps`` repetitions of
``--n`` calls each (the machine's load only ever adds time).

    python benchmarks/convtranspose.py [--reps 5] [--n 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.models.convtranspose import GemmConvTranspose2d, _GemmConvTranspose2dFn

# (name, batch, in, out, kernel, stride, padding, input side)
LAYERS = [
    ("dcgan block1", 128, 64, 256, 3, 2, 0, 1),
    ("dcgan block2", 128, 256, 128, 4, 1, 0, 3),
    ("dcgan block3", 128, 128, 64, 3, 2, 0, 6),
    ("dcgan out", 128, 64, 1, 4, 2, 0, 13),
    ("sngan block1", 64, 512, 256, 4, 2, 1, 4),
    ("sngan block2", 64, 256, 128, 4, 2, 1, 8),
    ("sngan block3", 64, 128, 64, 4, 2, 1, 16),
]


def best_ms(fn, n: int, reps: int) -> float:
    fn()  # not timed: first-call allocations
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1000


def time_layer(layer: GemmConvTranspose2d, x: torch.Tensor, n: int, reps: int):
    """(stock, gemm) forward + backward ms of ``layer`` on ``x``."""
    args = (layer.weight, layer.bias, layer.stride, layer.padding)
    grad = torch.randn_like(F.conv_transpose2d(x, *args))
    grad = grad.contiguous(memory_format=torch.channels_last)

    def stock():
        F.conv_transpose2d(x, *args).backward(grad)

    def gemm():
        _GemmConvTranspose2dFn.apply(x, *args, layer.output_padding).backward(grad)

    return best_ms(stock, n, reps), best_ms(gemm, n, reps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--n", type=int, default=5, help="calls per repetition")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, cpu, threads {torch.get_num_threads()}; "
          "forward + backward, ms")
    print(f"{'layer':14s} {'stock':>7s} {'gemm':>7s}  picks")
    totals = {"dcgan": [0.0, 0.0, 0.0], "sngan": [0.0, 0.0, 0.0]}
    torch.manual_seed(0)
    for name, batch, cin, cout, k, s, p, side in LAYERS:
        layer = GemmConvTranspose2d(cin, cout, k, s, p).to(memory_format=torch.channels_last)
        x = torch.randn(batch, cin, side, side).contiguous(memory_format=torch.channels_last)
        t_stock, t_gemm = time_layer(layer, x.requires_grad_(), args.n, args.reps)
        picks_gemm = layer._gemm_applies(x, None)
        total = totals[name.split()[0]]
        total[0] += t_stock
        total[1] += t_gemm
        total[2] += t_gemm if picks_gemm else t_stock
        print(f"{name:14s} {t_stock:7.2f} {t_gemm:7.2f}  {'gemm' if picks_gemm else 'stock'}")
    for model, (t_stock, t_gemm, t_picked) in totals.items():
        print(f"{model} total: stock {t_stock:.1f}, gemm {t_gemm:.1f}, "
              f"GemmConvTranspose2d {t_picked:.1f}")


if __name__ == "__main__":
    main()
