"""Probes: what the playground measures about D (and G's samples) while it trains.

One module per job:
- :mod:`.power`: block Krylov iteration (top singular value of an operator, warm-startable);
- :mod:`.spectra`: singular values of each D layer's effective / raw weight matrix, l-inf norm;
- :mod:`.convnorm`: a conv layer's true operator norm for its stride, padding and input size
  (block Krylov iteration with conv / conv_transpose), the explicit operator matrix, the im2col bound;
- :mod:`.lipschitz`: the whole-D upper bound ``lip_bound`` and input-gradient norms
  (``lip_grad``), both for D in eval mode;
- :mod:`.coverage`: 2D mode coverage (``modes``, ``hq``) and the critic's landscape;
- :mod:`.images`: sample grids (torchvision ``make_grid`` / ``save_image``);
- :mod:`.histograms`: weight histograms per layer;
- :mod:`.timing`: the trainer's per-phase time split;
- :mod:`.prober`: :class:`Prober`, which runs them on a trainer without disturbing it.
Qt-free like the rest of ``core``.
"""

from .convnorm import conv_operator_norm, im2col_bound, operator_matrix
from .coverage import COVERAGE_SAMPLES, critic_grid, mode_coverage
from .histograms import weight_histograms
from .images import grid_to_uint8, sample_grid, save_grid
from .lipschitz import evaluating, input_grad_norms, leaf_modules, lipschitz_bound
from .power import krylov_sigmas, matrix_sigma
from .prober import Prober, layer_input_shapes
from .spectra import layer_spectra, svdvals
from .timing import PHASES, PhaseTimer

__all__ = ["COVERAGE_SAMPLES", "PHASES", "PhaseTimer", "Prober",
           "conv_operator_norm", "critic_grid", "evaluating", "grid_to_uint8", "im2col_bound",
           "input_grad_norms", "layer_input_shapes", "layer_spectra", "leaf_modules",
           "lipschitz_bound", "matrix_sigma", "mode_coverage", "operator_matrix",
           "krylov_sigmas", "sample_grid", "save_grid", "svdvals", "weight_histograms"]
