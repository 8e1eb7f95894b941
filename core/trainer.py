"""The GAN trainer: models, optimizers, data, constraints, step counter and RNG state.

The trainer is driven from one thread (the CLI loop, a sweep trial, or the run loop in the
app's training process). Other threads talk to it only through :meth:`Trainer.submit`, a
thread-safe queue of *changes* (:class:`PendingChange`) that are applied at the start of the
next :meth:`Trainer.step`, i.e. strictly between training steps. Each applied change becomes
an *event* ``{"step", "time", "change": {key: value}}``.

Speed notes (CPU and GPU):
- ``step()`` never calls ``.item()``: loss values are accumulated on the device and read once
  per log line by :meth:`Trainer.log_record`, so a GPU is not stalled every step.
- One generator forward per step: the fake batch of the last critic update is reused for the
  generator update (as pytorch/examples does); the notebook runs G twice.
- When D has no BatchNorm, real and fake go through D in one concatenated forward (identical
  maths, half the kernel launches). With BatchNorm they stay separate, since a mixed batch
  would change the normalization statistics, i.e. the update itself.
- During the generator update D's parameters do not require grad, so backward computes only
  the input gradient through D, not D's weight gradients that would be thrown away.
- Conv models use channels_last on the CPU, where oneDNN's convolutions are faster in it.
- The generators' small transposed convolutions run as one GEMM + col2im on the CPU
  (``core/models/convtranspose.py``), about 1.6x faster than oneDNN's at those sizes.
- Adam and AdamW are fused (``core/optimizers.py``).

Step D / Step G (:meth:`Trainer.step_d`, :meth:`Trainer.step_g`) run one update of one network
alone; ``d_updates`` / ``g_updates`` count every optimizer update, ``step_count`` the generator
steps (a Step G is one, a Step D is not). The updates themselves are in ``core/updates.py``.
"""

from __future__ import annotations

import contextlib
import math
import queue
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .config import Config, ConfigError, is_live
from .constraints import ConstraintSet
from .data import make_sampler
from .device import resolve_device
from .errors import first_line
from .faults import DeviceStepError, Diverged, device_failure
from .models import build_models
from .instance_noise import InstanceNoise
from .updates import critic_update, generator_update
from .pause_points import device_fault_point
from .optimizers import make_optimizer, set_hyperparameters, switch_note, switch_optimizer
from .probes.timing import PhaseTimer

__all__ = ["DeviceStepError", "Diverged", "PendingChange", "Trainer", "device_failure"]

FIXED_NOISE_COUNT = 64
CHECKPOINT_FORMAT = "lipschitz-playground/trainer"
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class PendingChange:
    """A change submitted to the trainer and not applied yet: a dotted config key and its new
    (typed) value. (``core.contract.Change`` is the front end's command that asks for one.)"""

    key: str
    value: Any


@contextlib.contextmanager
def _buffers_kept(model: nn.Module):
    """Put ``model``'s buffers (BatchNorm running statistics) back as they were on exit."""
    saved = [(b, b.detach().clone()) for b in model.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, value in saved:
                b.copy_(value)


def _has_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


class Trainer:
    """Models, optimizers, constraints, data sampler, RNG streams and step counter of one run.

    Why one class of about 360 lines: a checkpoint must capture and restore every one of these
    together (:meth:`state_dict` / :meth:`from_state`), and a step touches all of them; split,
    the resume's bit-for-bit promise would depend on several objects agreeing."""

    def __init__(self, cfg: Config, *, device: str | torch.device | None = None,
                 progress=None):
        """``progress``: the dataset preparation's progress callback (see
        ``core.data.make_sampler``; None draws tqdm bars on stderr)."""
        cfg.validate()
        self.cfg = cfg.copy()
        self.device = (torch.device(device) if isinstance(device, torch.device)
                       else resolve_device(device or cfg.run.device))
        self.sampler = make_sampler(self.cfg, self.device, progress)
        self.is_image = self.sampler.kind == "image"

        # Model init draws from its own seeded stream without touching the global RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.cfg.run.seed)
            G, D = build_models(self.cfg.model, self.sampler.shape)
        self.memory_format = (torch.channels_last if self.is_image and self.device.type == "cpu"
                              else torch.contiguous_format)
        self.G = G.to(self.device, memory_format=self.memory_format)
        self.D = D.to(self.device, memory_format=self.memory_format)
        self.d_has_batchnorm = _has_batchnorm(self.D)

        # The run's random stream (data, noise, interpolation weights) is one generator whose
        # state is saved with the checkpoint, so a resumed run continues bit for bit.
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(self.cfg.run.seed + 1)
        fixed = torch.Generator().manual_seed(self.cfg.run.seed + 2)
        self.fixed_noise = torch.randn(FIXED_NOISE_COUNT, self.cfg.model.z_dim,
                                       generator=fixed).to(self.device)

        # Optimizers are built on the raw parameters before any constraint is registered, so
        # the parameter order (and hence a saved optimizer state) never depends on constraints.
        self.opt_g = self._make_optimizer(self.G, self.cfg.optim.lr_g)
        self.opt_d = self._make_optimizer(self.D, self.cfg.optim.lr_d)
        init_generator = torch.Generator(device=self.device)
        init_generator.manual_seed(self.cfg.run.seed + 3)
        self.constraints = ConstraintSet(self.D, self.cfg.constraints, self.generator,
                                         init_generator)

        self.step_count = 0
        self.elapsed_before = 0.0  # training seconds of earlier sessions of a resumed run
        self._started = time.perf_counter()
        self._pending: queue.SimpleQueue[PendingChange] = queue.SimpleQueue()
        self.new_events: list[dict[str, Any]] = []
        # Sums of [loss_d, loss_g, d_real, d_fake] since the last log line, and how many D
        # statistics and G updates they hold (see _accumulate).
        self._acc = torch.zeros(4, device=self.device)
        self._acc_nd = self._acc_ng = 0
        # Optimizer updates of D and of G since the run began (Step D / Step G move one alone).
        self.d_updates = self.g_updates = 0
        self.noise = InstanceNoise(self.cfg.instance_noise)
        self.last_noise_std = 0.0  # σ of the last update's instance noise
        self.notes: list[str] = []  # one-line notices for the front end (drain_notes)
        # Per-phase time split (core/probes/timing.py); laps never synchronize the device.
        self.timer = PhaseTimer(self.device, enabled=self.cfg.run.time_split)

    # ------------------------------------------------------------------ construction
    def _make_optimizer(self, model: nn.Module, lr: float) -> torch.optim.Optimizer:
        return make_optimizer(self.cfg.optim.name, list(model.parameters()), lr, self.cfg.optim,
                              self.device)

    # ------------------------------------------------------------------ changes
    def submit(self, key: str, value: Any) -> None:
        """Queue a change from any thread; it is applied before the next step.

        The change is checked at once against a copy of the config, so a bad value is refused
        here with a clear :class:`ConfigError` and never reaches the training thread.
        """
        if not is_live(key):
            raise ConfigError(f"{key} cannot change during a run; it needs a new run")
        probe = self.cfg.copy()
        probe.set(key, value)
        self._pending.put(PendingChange(key, probe.get(key)))

    def apply_pending(self) -> list[dict[str, Any]]:
        """Apply every queued change now (call only from the training thread)."""
        applied = []
        while True:
            try:
                change = self._pending.get_nowait()
            except queue.Empty:
                break
            applied.append(self.apply_change(change.key, change.value))
        return applied

    def apply_change(self, key: str, value: Any) -> dict[str, Any]:
        if not is_live(key):
            raise ConfigError(f"{key} cannot change during a run; it needs a new run")
        old_name = self.cfg.optim.name
        self.cfg.set(key, value)
        value = self.cfg.get(key)
        o = self.cfg.optim
        note = None
        if key == "optim.name" and value != old_name:
            # the same Parameters, the state that has a counterpart (core/optimizers.py)
            self.opt_g = switch_optimizer(self.opt_g, old_name, value, list(self.G.parameters()),
                                          o.lr_g, o, self.device)
            self.opt_d = switch_optimizer(self.opt_d, old_name, value, list(self.D.parameters()),
                                          o.lr_d, o, self.device)
            note = switch_note(old_name, value)
            self.notes.append(f"step {self.step_count}: {note}")
        elif key.startswith("optim."):
            set_hyperparameters(self.opt_g, o.name, o.lr_g, o)
            set_hyperparameters(self.opt_d, o.name, o.lr_d, o)
        if key.startswith("constraints."):
            self.constraints.configure(self.cfg.constraints)
        if key.startswith("instance_noise."):
            self.noise.configure(self.cfg.instance_noise, self.step_count)
        if key == "run.time_split":
            self.timer.enabled = bool(value)
        event = {"step": self.step_count, "time": round(self.elapsed(), 4),
                 "change": {key: value}}
        if note:
            event["note"] = note
        self.new_events.append(event)
        return event

    def drain_notes(self) -> list[str]:
        """One-line notices since the last call (e.g. what an optimizer switch reset)."""
        notes, self.notes = self.notes, []
        return notes

    def drain_events(self) -> list[dict[str, Any]]:
        events, self.new_events = self.new_events, []
        return events

    # ------------------------------------------------------------------ training
    def elapsed(self) -> float:
        return self.elapsed_before + (time.perf_counter() - self._started)

    def _d_outputs(self, real: torch.Tensor, fake: torch.Tensor):
        if self.d_has_batchnorm:
            return self.D(real), self.D(fake)
        out = self.D(torch.cat([real, fake], 0))
        return out[: real.shape[0]], out[real.shape[0]:]

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.model.z_dim, generator=self.generator, device=self.device)

    def _real(self, n: int) -> torch.Tensor:
        real = self.sampler.sample(n, self.generator)
        return real.contiguous(memory_format=self.memory_format) if self.is_image else real

    def step(self) -> None:
        """Apply queued changes, then do ``n_critic`` D updates and one G update.

        Raises :class:`DeviceStepError` when the device fails (e.g. runs out of memory)."""
        self.apply_pending()
        with self._device_faults():
            self._step()

    @contextlib.contextmanager
    def _device_faults(self):
        """A device failure inside (out of memory, a lost device) raised as
        :class:`DeviceStepError` with its one-line reason; other errors pass unchanged."""
        try:
            device_fault_point(self.step_count + 1)  # test-only; inert unless a test sets it
            yield
        except Exception as exc:
            reason = device_failure(exc)
            if reason is None:
                raise
            raise DeviceStepError(reason, str(self.device), self.step_count,
                                  first_line(str(exc), limit=200)) from exc

    def step_d(self) -> None:
        """Apply queued changes, then one D update alone (Step D): ``step_count`` stays (no
        generator step happened), ``d_updates`` grows by one, and an event
        ``{"update": "D"}`` marks it. Its loss and outputs count in the next log line's
        means. G is left bit-identical: its forward runs in train mode as in a step, and its
        buffers (BatchNorm's running statistics) are put back. Not timed (``time_split_ms``
        covers generator steps)."""
        self.apply_pending()  # before the buffers are kept: a change may set some (SN's u)
        with _buffers_kept(self.G):
            self._partial("D")

    def step_g(self) -> None:
        """Apply queued changes, then one G update alone (Step G): a generator step without
        critic steps (``step_count`` and ``g_updates`` grow by one), marked by an event
        ``{"update": "G"}``. D is left bit-identical (its buffers put back). Not timed."""
        self.apply_pending()
        with _buffers_kept(self.D):
            self._partial("G")

    def _partial(self, net: str) -> None:
        timer, enabled = self.timer, self.timer.enabled
        timer.enabled = False  # the time split is per generator step; these are not timed
        try:
            with self._device_faults():
                self._partial_update(net)
        finally:
            timer.enabled = enabled

    def _partial_update(self, net: str) -> None:
        step = self.step_count
        sigma = self.noise.std_at(step)
        if net == "D":
            _, _, stats = critic_update(self, sigma, keep_graph=False)
            self._accumulate(d=stats)
        else:
            z = self._noise(self.cfg.data.batch_size)
            fake = self.G(z)
            extra = None if sigma <= 0 else InstanceNoise.draw(fake, sigma, self.generator)
            self._accumulate(g=generator_update(self, fake, extra))
            self.step_count += 1
        self.last_noise_std = sigma
        # like a change, it comes after the checkpoint of ``step``: stamped with that step
        self.new_events.append({"step": step, "time": round(self.elapsed(), 4),
                                "change": {"update": net}})

    def _step(self) -> None:
        self.timer.start()  # after the changes, which may switch the timer on or off
        sigma = self.noise.std_at(self.step_count)
        n_critic = self.cfg.optim.n_critic
        for i in range(n_critic):
            fake, extra, stats = critic_update(self, sigma, keep_graph=i == n_critic - 1)
        loss_g = generator_update(self, fake, extra)
        self._accumulate(d=stats, g=loss_g)
        self.last_noise_std = sigma
        self.step_count += 1

    def _accumulate(self, d: tuple | None = None, g: torch.Tensor | None = None) -> None:
        """Add to the sums the next log line averages: D's (loss, outputs on real, on fake)
        once per generator step (its last critic update) and per Step D; G's loss per G
        update. One device op, no sync."""
        with torch.no_grad():
            zero = self._acc.new_zeros(())
            loss_d, real_out, fake_out = d if d is not None else (zero, zero, zero)
            self._acc += torch.stack([loss_d, zero if g is None else g,
                                      real_out.mean(), fake_out.mean()])
        self._acc_nd += d is not None
        self._acc_ng += g is not None

    def log_record(self) -> dict[str, Any]:
        """Read the values accumulated since the last log line (one device sync).

        ``loss_d`` (including any penalty), ``d_real`` and ``d_fake`` (mean raw D output:
        logit or critic value) are means over the generator steps (their last critic update)
        and Step D updates since the previous record, ``loss_g`` over the G updates; a value
        with no update behind it (only Step G since the last line) is None. ``d_updates`` /
        ``g_updates`` count every optimizer update of D / G since the run began;
        ``instance_noise_std`` is the σ of the last update's instance noise (None while off).
        Raises :class:`Diverged` when a value is NaN or infinite.
        """
        counts = (self._acc_nd, self._acc_ng, self._acc_nd, self._acc_nd)
        means = (self._acc / self._acc.new_tensor([max(k, 1) for k in counts])).tolist()
        loss_d, loss_g, d_real, d_fake = (m if k else None for m, k in zip(means, counts))
        self._acc.zero_()
        self._acc_nd = self._acc_ng = 0
        record = {"step": self.step_count, "time": round(self.elapsed(), 4),
                  "loss_d": loss_d, "loss_g": loss_g, "d_real": d_real, "d_fake": d_fake,
                  "d_updates": self.d_updates, "g_updates": self.g_updates,
                  "instance_noise_std": (self.last_noise_std if self.cfg.instance_noise.enabled
                                         else None)}
        bad = [k for k in ("loss_d", "loss_g", "d_real", "d_fake")
               if record[k] is not None and not math.isfinite(record[k])]
        if bad:
            raise Diverged(f"training diverged at step {self.step_count}: "
                           f"{', '.join(bad)} became {record[bad[0]]}")
        return record

    @torch.no_grad()
    def check_finite(self) -> None:
        """Raise :class:`Diverged` when a loss since the last log line, or any weight or
        buffer of G or D, is NaN or infinite: called before a checkpoint is written, so a
        diverged state never replaces a good checkpoint. One device sync."""
        parts = {"losses": [self._acc]}
        for name, model in (("G", self.G), ("D", self.D)):
            parts[name] = [t for t in model.state_dict().values() if t.is_floating_point()]
        # A tensor's sum is NaN/inf when one of its elements is (or when it overflows, which
        # needs weights beyond 1e30: diverged as well), and costs ~10x less than isfinite().all().
        flags = torch.stack([torch.stack([t.sum().float() for t in tensors]).sum().isfinite()
                             for tensors in parts.values()]).tolist()
        bad = [name for name, ok in zip(parts, flags) if not ok]
        if bad:
            what = {"losses": "the losses", "G": "G's weights", "D": "D's weights"}
            names = [what[b] for b in bad]
            listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
            raise Diverged(f"training diverged by step {self.step_count}: {listed} became NaN "
                           f"or infinite")

    @torch.no_grad()
    def generate(self, z: torch.Tensor | None = None) -> torch.Tensor:
        """G's samples for ``z`` (default: the fixed noise) in eval mode; G is restored after."""
        was_training = self.G.training
        self.G.eval()
        try:
            return self.G(self.fixed_noise if z is None else z).float()
        finally:
            self.G.train(was_training)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "device_type": self.device.type,
            "config": self.cfg.to_dict(),
            "step": self.step_count,
            "elapsed": self.elapsed(),
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "generator": self.generator.get_state(),
            "constraints": self.constraints.state_dict(),
            "acc": self._acc.detach().cpu(),
            "acc_n": self._acc_ng,  # G updates (= steps, as before Step D/G) since the line
            "acc_nd": self._acc_nd,
            "updates": [self.d_updates, self.g_updates],
            "instance_noise": self.noise.state_dict(),
            "last_noise_std": self.last_noise_std,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], *, device: str | torch.device | None = None,
                   progress=None):
        """Rebuild a trainer from :meth:`state_dict` output so that training continues exactly
        (on the same kind of device; see :meth:`load_state_dict`)."""
        cfg = Config.from_dict(state["config"])
        trainer = cls(cfg, device=device, progress=progress)
        trainer.load_state_dict(state)
        return trainer

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.constraints.configure(self.cfg.constraints)
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        saved_type = state.get("device_type", self.device.type)
        if saved_type == self.device.type:
            self.generator.set_state(state["generator"])
            self.constraints.load_state_dict(state["constraints"])
        else:
            # A generator's state only fits its own kind of device (e.g. continuing a CUDA run
            # on the CPU after an out-of-memory error): the random stream restarts from a seed
            # derived from the step, so the run stays reproducible but is not bit for bit the
            # one it would have been on the old device.
            self.generator.manual_seed(self.cfg.run.seed + 1 + 1_000_003 * int(state["step"]))
            self.constraints.init_generator.manual_seed(
                self.cfg.run.seed + 3 + 1_000_003 * int(state["step"]))
        self.step_count = int(state["step"])
        self.elapsed_before = float(state["elapsed"])
        self._started = time.perf_counter()
        self._acc = state["acc"].to(self.device)
        # checkpoints from before Step D/G: every step made one D statistic and one G update,
        # n_critic D updates and one G update
        self._acc_ng = int(state["acc_n"])
        self._acc_nd = int(state.get("acc_nd", self._acc_ng))
        steps = self.step_count
        self.d_updates, self.g_updates = state.get(
            "updates", [steps * self.cfg.optim.n_critic, steps])
        self.noise.load_state_dict(state.get("instance_noise", {"start": 0}))
        self.last_noise_std = float(state.get("last_noise_std", 0.0))

    def plain_state_dicts(self) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """G's and D's state dicts with constraints baked in (what the forward pass uses)."""
        g = {k: v.detach().cpu().clone() for k, v in self.G.state_dict().items()}
        return g, self.constraints.plain_state_dict()
