import math

import pytest
import torch

from core.config import ConfigError
from core.trainer import Diverged, Trainer
from tests.helpers import tiny_2d, tiny_image


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("make", [tiny_2d, tiny_image])
@pytest.mark.parametrize("loss", ["bce", "hinge", "wasserstein"])
def test_step_changes_weights_and_losses_are_finite(make, loss):
    t = Trainer(make(loss__kind=loss))
    g0, d0 = _params(t.G), _params(t.D)
    for _ in range(3):
        t.step()
    rec = t.log_record()
    assert rec["step"] == 3
    for key in ("loss_d", "loss_g", "d_real", "d_fake", "time"):
        assert math.isfinite(rec[key])
    assert any(not torch.equal(v, t.G.state_dict()[k]) for k, v in g0.items())
    assert any(not torch.equal(v, t.D.state_dict()[k]) for k, v in d0.items())


def test_n_critic_and_rmsprop():
    t = Trainer(tiny_2d(optim__n_critic=3, optim__name="rmsprop", loss__kind="wasserstein"))
    t.step()
    assert t.opt_d.state[next(iter(t.D.parameters()))]["step"] == 3
    assert t.opt_g.state[next(iter(t.G.parameters()))]["step"] == 1


def test_same_seed_same_run_different_seed_differs():
    a, b, c = Trainer(tiny_2d()), Trainer(tiny_2d()), Trainer(tiny_2d(run__seed=1))
    for t in (a, b, c):
        for _ in range(5):
            t.step()
    assert all(torch.equal(v, b.G.state_dict()[k]) for k, v in a.G.state_dict().items())
    assert not all(torch.equal(v, c.G.state_dict()[k]) for k, v in a.G.state_dict().items())


def test_changes_apply_between_steps_as_events():
    t = Trainer(tiny_2d())
    t.step()
    t.submit("optim.lr_d", 1e-3)
    assert t.opt_d.param_groups[0]["lr"] == pytest.approx(2e-4)  # not yet: between steps only
    t.step()
    assert t.opt_d.param_groups[0]["lr"] == pytest.approx(1e-3)
    assert t.cfg.optim.lr_d == pytest.approx(1e-3)
    events = t.drain_events()
    assert len(events) == 1
    assert events[0]["step"] == 1 and events[0]["change"] == {"optim.lr_d": 1e-3}
    assert t.drain_events() == []


def test_betas_change_live():
    t = Trainer(tiny_2d())
    t.submit("optim.beta1", 0.0)
    t.step()
    assert t.opt_g.param_groups[0]["betas"] == (0.0, 0.999)


def test_refused_changes_never_reach_the_trainer():
    t = Trainer(tiny_2d())
    with pytest.raises(ConfigError, match="needs a new run"):
        t.submit("model.d_width", 8)
    with pytest.raises(ConfigError, match="optim.lr_d must be > 0"):
        t.submit("optim.lr_d", -1.0)
    t.step()
    assert t.drain_events() == []


def test_divergence_is_reported_not_crashing():
    t = Trainer(tiny_2d(loss__kind="wasserstein", optim__lr_d=1.0, optim__lr_g=1.0))
    with torch.no_grad():
        for p in t.D.parameters():
            p.fill_(float("nan"))
    t.step()
    with pytest.raises(Diverged, match="diverged at step 1"):
        t.log_record()


def _resume_equivalence(cfg, n):
    full = Trainer(cfg)
    for _ in range(2 * n):
        full.step()
    half = Trainer(cfg)
    for _ in range(n):
        half.step()
    state = half.state_dict()
    buf = __import__("io").BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    resumed = Trainer.from_state(torch.load(buf, weights_only=True))
    for _ in range(n):
        resumed.step()
    for a, b in ((full.G, resumed.G), (full.D, resumed.D)):
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        for k in sa:
            assert torch.equal(sa[k], sb[k]), k
    assert full.log_record()["loss_d"] == resumed.log_record()["loss_d"]


@pytest.mark.parametrize("sets", [
    {},
    {"constraints__spectral__enabled": True, "constraints__gp__enabled": True},
    {"constraints__rowsum__enabled": True, "constraints__clip__enabled": True,
     "optim__n_critic": 2, "loss__kind": "wasserstein"},
])
def test_resume_is_bit_for_bit_2d(sets):
    _resume_equivalence(tiny_2d(**sets), 7)


def test_resume_is_bit_for_bit_image_with_batchnorm_and_sn():
    _resume_equivalence(tiny_image(constraints__spectral__enabled=True), 3)


def test_resume_after_midrun_toggle():
    cfg = tiny_2d()
    full, half = Trainer(cfg), Trainer(cfg)
    for t in (full, half):
        for _ in range(3):
            t.step()
        t.submit("constraints.spectral.enabled", True)
        for _ in range(3):
            t.step()
    resumed = Trainer.from_state(half.state_dict())
    # Turning SN on later (after the resume) draws u from the saved init stream as well.
    for t in (full, resumed):
        t.submit("constraints.rowsum.enabled", True)
        for _ in range(3):
            t.step()
    for k, v in full.D.state_dict().items():
        assert torch.equal(v, resumed.D.state_dict()[k]), k


def test_generate_uses_eval_mode_and_restores_train():
    t = Trainer(tiny_image())
    t.step()
    x = t.generate()
    assert x.shape == (64, 1, 28, 28)
    assert t.G.training


def test_finishing_a_diverged_session_keeps_the_last_good_checkpoint(tmp_path):
    """The GUI finishes its session when it stops; after a divergence that must not log a
    line of zeros (the accumulator was read and reset) nor overwrite the good checkpoint."""
    import json

    from core.checkpoint import load_trainer_state
    from core.session import TrainingSession

    session = TrainingSession(tmp_path / "run", tiny_2d(run__checkpoint_every=5, run__steps=50))
    for _ in range(5):
        session.advance()
    with torch.no_grad():
        for p in session.trainer.D.parameters():
            p.fill_(float("nan"))
    with pytest.raises(Diverged):
        for _ in range(5):
            session.advance()
    session.finish()
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [5]
    state = load_trainer_state(session.folder.checkpoint_dir / "trainer.pt")
    assert state["step"] == 5


def test_session_hands_out_each_written_event_once(tmp_path):
    import json

    from core.session import TrainingSession

    session = TrainingSession(tmp_path / "run", tiny_2d(run__steps=50))
    session.advance()
    session.trainer.submit("optim.lr_d", 5e-4)
    session.advance()
    session.trainer.submit("constraints.clip.enabled", True)
    session.apply_pending()  # paused: applied without a step
    on_disk = [json.loads(line) for line in
               (tmp_path / "run" / "events.jsonl").read_text().splitlines()]
    assert session.drain_events() == on_disk and len(on_disk) == 2
    assert session.drain_events() == []
    session.finish()
