"""The other stabilizers: instance noise, one-sided label smoothing, DRAGAN, AdamW and the
optimizer switch; each against a hand computation or an independent replay."""

import copy
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from core import config as C
from core.cli import train_main
from core.config import Config, ConfigError
from core.constraints.penalty import dragan_points, gradient_penalty
from core.instance_noise import InstanceNoise, annealed_std
from core.losses import d_loss
from core.session import TrainingSession
from core.trainer import Trainer
from tests.helpers import tiny_2d, tiny_image


# ----------------------------------------------------------------------------- DRAGAN
class HalfSquaredNorm(nn.Module):
    """D(x) = ||x||^2 / 2, so grad D(x) = x: the penalty is known in closed form."""

    def forward(self, x):
        return 0.5 * x.flatten(1).pow(2).sum(1)


def test_dragan_penalty_of_a_linear_critic_is_lambda_times_excess_squared():
    D = nn.Linear(2, 1)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[3.0, 4.0]]))  # ||grad D|| = 5 everywhere
        D.bias.zero_()
    real = torch.randn(16, 2)
    value, norms = gradient_penalty(D, real, real, "dragan", 10.0, torch.Generator().manual_seed(0))
    assert value.item() == pytest.approx(10.0 * (5.0 - 1.0) ** 2)
    assert torch.allclose(norms, torch.full((16,), 5.0))


def test_dragan_penalty_value_on_points_computed_by_hand():
    real = torch.tensor([[0.5, -0.25], [1.0, 2.0], [-1.5, 0.0], [0.2, 0.3]])
    c, lam = 0.5, 7.0
    gen = torch.Generator().manual_seed(3)
    replay = torch.Generator().manual_seed(3)
    value, norms = gradient_penalty(HalfSquaredNorm(), real, real, "dragan", lam, gen, c)
    # by hand, from the same draws: u ~ U[0,1) per coordinate, then alpha ~ U[0,1) per sample
    u = torch.rand(real.shape, generator=replay).double().numpy()
    alpha = torch.rand((4, 1), generator=replay).double().numpy()
    x = real.double().numpy()
    std = x.std(ddof=1)  # torch.std: the unbiased estimate over the whole batch
    x_hat = x + alpha * c * std * u
    expected_norms = np.linalg.norm(x_hat, axis=1)  # grad D(x_hat) = x_hat
    assert norms.double().numpy() == pytest.approx(expected_norms, rel=1e-6)
    assert value.item() == pytest.approx(lam * np.mean((expected_norms - 1.0) ** 2), rel=1e-6)


def test_dragan_points_stay_within_c_std_above_the_real_points():
    real = torch.randn(256, 2) * 3
    pts = dragan_points(real, 0.5, torch.Generator().manual_seed(0))
    delta = pts - real
    bound = 0.5 * real.std().item()
    assert delta.min() >= 0 and delta.max() < bound and delta.max() > 0.8 * bound


def test_probes_measure_the_gradient_where_dragan_acts():
    t = Trainer(tiny_2d(constraints__gp__enabled=True, constraints__gp__kind="dragan"))
    from core.probes import Prober

    D = nn.Sequential(nn.Linear(2, 1))  # a linear D: its gradient norm is ||w|| everywhere
    with torch.no_grad():
        D[0].weight.copy_(torch.tensor([[0.6, 0.8]]))
    t.D = D
    t.constraints.D = D
    t.constraints.layers = [("0", D[0])]
    fields = Prober(t).probe(slow=False)
    assert fields["lip_grad_mean_perturbed"] == pytest.approx(1.0, rel=1e-6)


def test_dragan_trains_and_changes_the_penalty_live():
    t = Trainer(tiny_2d(loss__kind="bce", constraints__gp__enabled=True))
    t.step()
    t.submit("constraints.gp.kind", "dragan")
    t.submit("constraints.gp.dragan_c", 2.0)
    t.step()
    assert t.constraints.cfg.gp.kind == "dragan" and t.constraints.cfg.gp.dragan_c == 2.0
    assert math.isfinite(t.log_record()["loss_d"])


# ----------------------------------------------------------------------------- instance noise
@pytest.mark.parametrize("step,expected", [(0, 0.2), (25, 0.15), (50, 0.1), (99, 0.002),
                                           (100, 0.0), (150, 0.0)])
def test_annealed_sigma_at_given_steps(step, expected):
    assert annealed_std(0.2, 100, 0, step) == pytest.approx(expected)


def test_anneal_starts_when_switched_on_and_restarts_on_a_new_sigma():
    cfg = C.InstanceNoiseConfig(enabled=False, std=0.4, anneal_steps=10)
    noise = InstanceNoise(cfg)
    assert noise.std_at(3) == 0.0  # off
    noise.configure(C.InstanceNoiseConfig(True, 0.4, 10), step=20)
    assert [noise.std_at(s) for s in (20, 25, 30, 40)] == pytest.approx([0.4, 0.2, 0.0, 0.0])
    noise.configure(C.InstanceNoiseConfig(True, 0.8, 10), step=40)
    assert noise.std_at(45) == pytest.approx(0.4)
    assert annealed_std(0.3, 0, 0, 10**6) == 0.3  # no anneal: constant


def test_logged_sigma_follows_the_anneal_and_survives_a_resume(tmp_path):
    cfg = tiny_2d(instance_noise__enabled=True, instance_noise__std=0.3,
                  instance_noise__anneal_steps=4, run__log_every=1, run__checkpoint_every=2,
                  run__steps=3)
    s = TrainingSession(tmp_path / "run", cfg)
    logged = [s.advance()["instance_noise_std"] for _ in range(3)]
    s.finish()
    s = TrainingSession(tmp_path / "run", resume=True, steps=6)
    while not s.done:
        logged.append(s.advance()["instance_noise_std"])
    s.finish()
    # the update completing step t + 1 uses 0.3 (1 - t / 4)
    assert logged == pytest.approx([0.3, 0.225, 0.15, 0.075, 0.0, 0.0])


def test_instance_noise_is_added_to_real_and_fake_inputs_of_d():
    t = Trainer(tiny_2d(instance_noise__enabled=True, instance_noise__std=0.5))
    t.step()
    n, sigma = t.cfg.data.batch_size, 0.5
    replay = torch.Generator().set_state(t.generator.get_state())
    seen = []
    hook = t.D.fc1.register_forward_hook(lambda m, inp, out: seen.append(inp[0].detach().clone()))
    g_before = {k: v.clone() for k, v in t.G.state_dict().items()}
    t.step()
    hook.remove()
    real = t.sampler.sample(n, replay)
    z = torch.randn(n, t.cfg.model.z_dim, generator=replay)
    real_noisy = real + torch.empty_like(real).normal_(0.0, sigma, generator=replay)
    noise_fake = torch.empty(n, 2).normal_(0.0, sigma, generator=replay)
    G = Trainer(tiny_2d()).G
    G.load_state_dict(g_before)
    with torch.no_grad():
        fake = G(z)
    d_step, g_step = seen  # the critic update (real and fake together), then G's update
    assert torch.equal(d_step[:n], real_noisy)
    assert torch.allclose(d_step[n:], fake + noise_fake, atol=1e-6)
    assert torch.allclose(g_step, fake + noise_fake, atol=1e-6)  # the same noisy fakes


def test_noise_off_or_annealed_away_draws_nothing():
    """A run whose noise has annealed to 0 trains exactly like one without noise from there."""
    a = Trainer(tiny_2d())
    b = Trainer(tiny_2d(instance_noise__enabled=True, instance_noise__anneal_steps=2))
    for _ in range(2):
        b.step()
    a.load_state_dict(copy.deepcopy({**b.state_dict(), "config": a.cfg.to_dict()}))
    for _ in range(3):
        a.step()
        b.step()
    assert all(torch.equal(v, b.D.state_dict()[k]) for k, v in a.D.state_dict().items())


# ----------------------------------------------------------------------------- label smoothing
def test_label_smoothing_loss_matches_a_hand_computation():
    real = torch.tensor([2.0, -1.0, 0.5, 30.0])
    fake = torch.tensor([-3.0, 0.25, 4.0, -30.0])
    s = 0.1
    # BCE(x, t) = -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], real target t = 1 - s;
    # log sigmoid(x) = -log(1 + e^-x) and log(1 - sigmoid(x)) = -log(1 + e^x), in float64
    r, f = real.double().numpy(), fake.double().numpy()
    log_sig, log_one_minus = -np.logaddexp(0, -r), -np.logaddexp(0, r)
    expected = (-np.mean((1 - s) * log_sig + s * log_one_minus)
                + np.mean(np.logaddexp(0, f)))
    assert d_loss("bce", real, fake, s).item() == pytest.approx(expected, rel=1e-5)
    assert torch.equal(d_loss("bce", real, fake, 0.0), d_loss("bce", real, fake))


def test_label_smoothing_is_refused_where_it_has_no_meaning(tmp_path):
    cfg = Config()
    cfg.set("loss.label_smoothing", 0.1)
    with pytest.raises(ConfigError, match="loss.label_smoothing = 0.1 has no meaning for "
                                          "loss.kind 'hinge'"):
        cfg.set("loss.kind", "hinge")
    with pytest.raises(ConfigError, match="no meaning for loss.kind 'wasserstein'"):
        Config().update({"loss.kind": "wasserstein", "loss.label_smoothing": 0.2})
    cfg_file = tmp_path / "c.toml"
    C.save(tiny_2d(loss__kind="hinge"), cfg_file)
    assert train_main(["--config", str(cfg_file), "--out", str(tmp_path / "a"), "--no-progress",
                       "--set", "loss.label_smoothing=0.1"]) == 2
    C.save(tiny_2d(loss__label_smoothing=0.1), cfg_file)
    assert train_main(["--config", str(cfg_file), "--out", str(tmp_path / "b"), "--no-progress",
                       "--change", "5:loss.kind=hinge"]) == 2
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    t = Trainer(tiny_2d(loss__label_smoothing=0.1))
    with pytest.raises(ConfigError, match="no meaning"):
        t.submit("loss.kind", "hinge")


# ----------------------------------------------------------------------------- optimizers
def _state(opt, p):
    return {k: v.clone() if torch.is_tensor(v) else v for k, v in opt.state[p].items()}


def test_adam_to_adamw_carries_every_state_and_says_so():
    t = Trainer(tiny_2d(optim__weight_decay=0.05))
    for _ in range(3):
        t.step()
    p = next(t.D.parameters())
    before = _state(t.opt_d, p)
    t.submit("optim.name", "adamw")
    events = t.apply_pending()
    assert isinstance(t.opt_d, torch.optim.AdamW) and isinstance(t.opt_g, torch.optim.AdamW)
    assert t.opt_d.param_groups[0]["params"][0] is p  # same Parameters
    after = t.opt_d.state[p]
    assert float(after["step"]) == float(before["step"]) == 3
    for key in ("exp_avg", "exp_avg_sq"):
        assert torch.equal(after[key], before[key])
    assert t.opt_d.param_groups[0]["weight_decay"] == 0.05
    assert "every state carried" in events[0]["note"]
    assert t.drain_notes() == [f"step 3: {events[0]['note']}"]
    t.submit("optim.weight_decay", 0.2)
    t.step()
    assert t.opt_d.param_groups[0]["weight_decay"] == 0.2


def test_adam_rmsprop_switches_carry_the_second_moment_and_reset_the_first():
    t = Trainer(tiny_2d())
    for _ in range(4):
        t.step()
    p = next(t.D.parameters())
    v = t.opt_d.state[p]["exp_avg_sq"].clone()
    t.submit("optim.name", "rmsprop")
    note = t.apply_pending()[0]["note"]
    assert isinstance(t.opt_d, torch.optim.RMSprop) and "reset: exp_avg" in note
    sq = t.opt_d.state[p]["square_avg"]
    assert torch.allclose(sq, v / (1 - 0.999 ** 4))  # Adam's bias-corrected g² mean
    t.step()
    sq = t.opt_d.state[p]["square_avg"].clone()
    t.submit("optim.name", "adam")
    t.apply_pending()
    state = t.opt_d.state[p]
    assert float(state["step"]) == 5 and not state["exp_avg"].any()
    assert torch.allclose(state["exp_avg_sq"] / (1 - 0.999 ** 5), sq)


def test_adamw_switch_is_kept_across_checkpoint_and_resume(tmp_path):
    cfg = tiny_2d(run__steps=12, run__checkpoint_every=6, optim__weight_decay=0.1)
    whole = TrainingSession(tmp_path / "whole", cfg, changes=[(3, "optim.name", "adamw")])
    while not whole.done:
        whole.advance()
    whole.finish()
    part = TrainingSession(tmp_path / "part", cfg.copy(), steps=6,
                           changes=[(3, "optim.name", "adamw")])
    while not part.done:
        part.advance()
    part.finish()
    resumed = TrainingSession(tmp_path / "part", resume=True, steps=12)
    assert isinstance(resumed.trainer.opt_d, torch.optim.AdamW)
    assert resumed.trainer.opt_d.param_groups[0]["weight_decay"] == 0.1
    while not resumed.done:
        resumed.advance()
    resumed.finish()
    for name in ("G", "D"):
        a = getattr(whole.trainer, name).state_dict()
        b = getattr(resumed.trainer, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
    events = [json.loads(x) for x in (tmp_path / "part" / "events.jsonl").read_text().splitlines()]
    assert events[0]["change"] == {"optim.name": "adamw"} and "carried" in events[0]["note"]


def test_adamw_trains_image_models():
    t = Trainer(tiny_image(optim__name="adamw"))
    t.step()
    assert isinstance(t.opt_g, torch.optim.AdamW) and math.isfinite(t.log_record()["loss_g"])


@pytest.mark.slow
def test_an_optimizer_switch_from_the_cli_says_what_was_reset(tmp_path, capsys):
    cfg_file = tmp_path / "c.toml"
    C.save(tiny_2d(), cfg_file)
    assert train_main(["--config", str(cfg_file), "--out", str(tmp_path / "run"), "--steps",
                       "8", "--no-progress", "--change", "4:optim.name=rmsprop"]) == 0
    err = capsys.readouterr().err
    assert "note: step 4: optimizer adam -> rmsprop" in err and "reset: exp_avg" in err


def test_labels_and_markers_name_the_stabilizers():
    from core.compare import run_labels
    from sngan_gui.run_model import joined_marker_text, marker_text

    a = tiny_2d(instance_noise__enabled=True)
    b = tiny_2d(constraints__spectral__enabled=True)
    assert run_labels([a, b]) == ["spectral off, instance noise on",
                                  "spectral on, instance noise off"]
    assert marker_text({"instance_noise.enabled": True}) == "noise on"
    assert marker_text({"optim.name": "adamw"}) == "optimizer=adamw"
    assert marker_text({"loss.label_smoothing": 0.1}) == "smoothing=0.1"
    assert marker_text({"update": "D"}) == "D step"
    assert marker_text({"constraints.gp.kind": "dragan"}) == "GP kind=dragan"
    assert joined_marker_text(["D step", "D step", "G step"]) == "D step ×2, G step"


def test_labels_of_runs_with_single_updates_name_only_settings():
    from core.compare import caption, run_labels

    a, b = tiny_2d(), tiny_2d(run__seed=1)
    events = [[{"step": 3, "change": {"update": "D"}}],
              [{"step": 5, "change": {"constraints.spectral.enabled": True}},
               {"step": 5, "change": {"update": "G"}}]]
    assert run_labels([a, b], events=events) == ["spectral off, seed 0",
                                                 "spectral off -> on @5, seed 1"]
    assert "update" not in caption([a, b], ["x", "y"], events=events)
