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
- Adam is fused (see ``_make_optimizer``).
"""

from __future__ import annotations

import math
import queue
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from . import losses
from .config import Config, ConfigError, is_live
from .constraints import ConstraintSet
from .data import make_sampler
from .device import resolve_device
from .errors import first_line
from .models import build_models
from .pause_points import device_fault_point
from .probes.timing import PhaseTimer

FIXED_NOISE_COUNT = 64
CHECKPOINT_FORMAT = "lipschitz-playground/trainer"
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class PendingChange:
    """A change submitted to the trainer and not applied yet: a dotted config key and its new
    (typed) value. (``core.contract.Change`` is the front end's command that asks for one.)"""

    key: str
    value: Any


class Diverged(RuntimeError):
    """Raised by :meth:`Trainer.log_record` when a loss became NaN or infinite, and by
    :meth:`Trainer.check_finite` (before a checkpoint) when a loss or a weight did."""


class DeviceStepError(RuntimeError):
    """The device failed inside a training step (out of memory, a CUDA/MPS error).

    The step may have been cut half-way, so the trainer's state is no longer one of the run's
    states: continue from the last good checkpoint (``TrainingSession.continue_from_checkpoint``
    with another device or a smaller batch). ``reason`` is "out of memory" or "device error";
    ``device`` the device's name; ``step`` the number of steps completed before it."""

    def __init__(self, reason: str, device: str, step: int, detail: str):
        self.reason, self.device, self.step, self.detail = reason, device, step, detail
        super().__init__(f"{reason} on {device} in step {step + 1}: {detail}")


_DEVICE_ERROR_WORDS = ("CUDA", "cuDNN", "CUBLAS", "cublas", "MPS", "HIP", "XPU")


def device_failure(exc: BaseException) -> str | None:
    """Whether ``exc`` is the device failing (rather than a bug): "out of memory",
    "device error" or None."""
    text = str(exc)
    if isinstance(exc, torch.OutOfMemoryError) or (
            isinstance(exc, RuntimeError) and ("out of memory" in text
                                               or "can't allocate memory" in text)):
        return "out of memory"
    accelerator_error = getattr(torch, "AcceleratorError", None)
    if accelerator_error is not None and isinstance(exc, accelerator_error):
        return "device error"
    if isinstance(exc, RuntimeError) and any(word in text for word in _DEVICE_ERROR_WORDS):
        return "device error"
    return None


def _has_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


class Trainer:
    """Models, optimizers, constraints, data sampler, RNG streams and step counter of one run.

    Why one class of about 300 lines: a checkpoint must capture and restore every one of these
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
        self._acc = torch.zeros(4, device=self.device)
        self._acc_n = 0
        # Per-phase time split (core/probes/timing.py); laps never synchronize the device.
        self.timer = PhaseTimer(self.device, enabled=self.cfg.run.time_split)

    # ------------------------------------------------------------------ construction
    def _make_optimizer(self, model: nn.Module, lr: float) -> torch.optim.Optimizer:
        """Adam runs fused (one kernel per parameter instead of ~10 ops; 5% of a DCGAN step on
        the CPU) where torch has the kernel; RMSprop has none and uses the foreach path."""
        o = self.cfg.optim
        params = list(model.parameters())
        if o.name == "adam":
            if self.device.type in ("cpu", "cuda", "mps"):
                try:
                    return torch.optim.Adam(params, lr=lr, betas=(o.beta1, o.beta2), fused=True)
                except (RuntimeError, ValueError):
                    pass  # a device/dtype without the fused kernel
            return torch.optim.Adam(params, lr=lr, betas=(o.beta1, o.beta2))
        if o.name == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr, foreach=True)
        raise ConfigError(f"optim.name must be one of adam, rmsprop; got '{o.name}'")

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
        self.cfg.set(key, value)
        value = self.cfg.get(key)
        o = self.cfg.optim
        if key.startswith("optim."):
            for opt, lr in ((self.opt_g, o.lr_g), (self.opt_d, o.lr_d)):
                for group in opt.param_groups:
                    group["lr"] = lr
                    if "betas" in group:
                        group["betas"] = (o.beta1, o.beta2)
        if key.startswith("constraints."):
            self.constraints.configure(self.cfg.constraints)
        if key == "run.time_split":
            self.timer.enabled = bool(value)
        event = {"step": self.step_count, "time": round(self.elapsed(), 4),
                 "change": {key: value}}
        self.new_events.append(event)
        return event

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
        try:
            device_fault_point(self.step_count + 1)  # test-only; inert unless a test sets it
            self._step()
        except Exception as exc:
            reason = device_failure(exc)
            if reason is None:
                raise
            raise DeviceStepError(reason, str(self.device), self.step_count,
                                  first_line(str(exc), limit=200)) from exc

    def _step(self) -> None:
        timer = self.timer
        timer.start()  # after the changes, which may switch the timer on or off
        cfg = self.cfg
        n, kind = cfg.data.batch_size, cfg.loss.kind
        G, D, cons = self.G, self.D, self.constraints
        layer_constrained = cfg.constraints.spectral.enabled or cfg.constraints.rowsum.enabled

        for i in range(cfg.optim.n_critic):
            last = i == cfg.optim.n_critic - 1
            real = self._real(n)
            z = self._noise(n)
            timer.lap("data")
            if last:
                fake = G(z)
            else:
                with torch.no_grad():
                    fake = G(z)
            fake_d = fake.detach()
            timer.lap("g_step")
            cons.before_d_step()
            with cons.cached():
                if timer.enabled and layer_constrained:
                    # Fill the cache now (the same values the forward would compute) so the
                    # constrained weights' cost is timed as constraint overhead.
                    for _, layer in cons.layers:
                        layer.weight  # noqa: B018
                timer.lap("constraint")
                real_out, fake_out = self._d_outputs(real, fake_d)
                loss_d = losses.d_loss(kind, real_out, fake_out)
                timer.lap("d_step")
                penalty = cons.penalty(D, real, fake_d)
                total_d = loss_d if penalty is None else loss_d + penalty
                timer.lap("constraint")
            self.opt_d.zero_grad(set_to_none=True)
            total_d.backward()
            self.opt_d.step()
            timer.lap("d_step")
            cons.after_d_step()
            timer.lap("constraint")

        D.requires_grad_(False)
        try:
            with cons.cached():
                gen_out = D(fake)
                loss_g = losses.g_loss(kind, gen_out)
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
        finally:
            D.requires_grad_(True)
        timer.lap("g_step")

        with torch.no_grad():
            self._acc += torch.stack([total_d.detach(), loss_g.detach(),
                                      real_out.detach().mean(), fake_out.detach().mean()])
        self._acc_n += 1
        self.step_count += 1

    def log_record(self) -> dict[str, Any]:
        """Read the values accumulated since the last log line (one device sync).

        ``loss_d`` (including any penalty), ``loss_g``, ``d_real`` and ``d_fake`` (mean raw D
        output: logit or critic value) are means over the steps since the previous record.
        Raises :class:`Diverged` when any of them is NaN or infinite.
        """
        n = max(self._acc_n, 1)
        loss_d, loss_g, d_real, d_fake = (self._acc / n).tolist()
        self._acc.zero_()
        self._acc_n = 0
        record = {"step": self.step_count, "time": round(self.elapsed(), 4),
                  "loss_d": loss_d, "loss_g": loss_g, "d_real": d_real, "d_fake": d_fake}
        bad = [k for k in ("loss_d", "loss_g", "d_real", "d_fake") if not math.isfinite(record[k])]
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
            "acc_n": self._acc_n,
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
        self._acc_n = int(state["acc_n"])

    def plain_state_dicts(self) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """G's and D's state dicts with constraints baked in (what the forward pass uses)."""
        g = {k: v.detach().cpu().clone() for k, v in self.G.state_dict().items()}
        return g, self.constraints.plain_state_dict()
