"""One D update and one G update of a :class:`core.trainer.Trainer` (its training thread only).

A generator step (``Trainer.step``) is ``n_critic`` critic updates and one generator update;
Step D and Step G (``Trainer.step_d`` / ``step_g``) run one of them alone. Both take the
instance noise's σ for the step (0: none, nothing drawn), label smoothing from the config, and
time their phases on the trainer's :class:`core.probes.timing.PhaseTimer`.
"""

from __future__ import annotations

import torch

from . import losses
from .instance_noise import InstanceNoise


def critic_update(tr, sigma: float, keep_graph: bool):
    """One D update on a fresh real and fake batch (instance noise of ``sigma`` on both
    when > 0). Returns (the fake batch, with G's graph when ``keep_graph``; the noise
    added to it or None; (D loss incl. penalty, D outputs on real, on fake), detached)."""
    timer, cfg = tr.timer, tr.cfg
    n, kind = cfg.data.batch_size, cfg.loss.kind
    G, D, cons = tr.G, tr.D, tr.constraints
    real = tr._real(n)
    z = tr._noise(n)
    timer.lap("data")
    if keep_graph:
        fake = G(z)
    else:
        with torch.no_grad():
            fake = G(z)
    fake_d = fake.detach()
    timer.lap("g_step")
    extra = None
    if sigma > 0:  # instance noise: D sees both batches blurred
        real = real + InstanceNoise.draw(real, sigma, tr.generator)
        extra = InstanceNoise.draw(fake_d, sigma, tr.generator)
        fake_d = fake_d + extra
        timer.lap("data")
    cons.before_d_step()
    with cons.cached():
        if timer.enabled and (cfg.constraints.spectral.enabled
                              or cfg.constraints.rowsum.enabled):
            # Fill the cache now (the same values the forward would compute) so the
            # constrained weights' cost is timed as constraint overhead.
            for _, layer in cons.layers:
                layer.weight  # noqa: B018
        timer.lap("constraint")
        real_out, fake_out = tr._d_outputs(real, fake_d)
        loss_d = losses.d_loss(kind, real_out, fake_out, cfg.loss.label_smoothing)
        timer.lap("d_step")
        penalty = cons.penalty(D, real, fake_d)
        total_d = loss_d if penalty is None else loss_d + penalty
        timer.lap("constraint")
    tr.opt_d.zero_grad(set_to_none=True)
    total_d.backward()
    tr.opt_d.step()
    timer.lap("d_step")
    cons.after_d_step()
    timer.lap("constraint")
    tr.d_updates += 1
    return fake, extra, (total_d.detach(), real_out.detach(), fake_out.detach())

def generator_update(tr, fake: torch.Tensor, extra: torch.Tensor | None) -> torch.Tensor:
    """One G update through D on ``fake`` (plus the instance noise ``extra``); its loss."""
    D, cons = tr.D, tr.constraints
    D.requires_grad_(False)
    try:
        with cons.cached():
            gen_out = D(fake if extra is None else fake + extra)
            loss_g = losses.g_loss(tr.cfg.loss.kind, gen_out)
        tr.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        tr.opt_g.step()
    finally:
        D.requires_grad_(True)
    tr.timer.lap("g_step")
    tr.g_updates += 1
    return loss_g.detach()
