import csv

import pytest

from core import compare as C
from core import config as config_mod
from core.config import Config, ConfigError
from tests.helpers import tiny_2d


def _cfg(**values) -> Config:
    cfg = Config()
    cfg.update({k.replace("__", "."): v for k, v in values.items()})
    return cfg


def test_labels_name_a_constraint_switch():
    a, b = _cfg(constraints__spectral__enabled=True), _cfg()
    assert C.run_labels([a, b]) == ["spectral on", "spectral off"]


def test_labels_for_seed_loss_and_several_differences_joined():
    assert C.run_labels([_cfg(run__seed=0), _cfg(run__seed=1)]) == ["seed 0", "seed 1"]
    assert C.run_labels([_cfg(), _cfg(loss__kind="hinge")]) == ["loss bce", "loss hinge"]
    labels = C.run_labels([
        _cfg(constraints__spectral__enabled=True, loss__kind="hinge"),
        _cfg(constraints__spectral__enabled=False, loss__kind="hinge"),
        _cfg(constraints__spectral__enabled=False, loss__kind="bce"),
    ])
    assert labels == ["spectral on, loss hinge", "spectral off, loss hinge",
                      "spectral off, loss bce"]


def test_labels_name_values_in_their_own_words():
    labels = C.run_labels([_cfg(constraints__gp__weight=1.0, optim__lr_d=1e-3,
                                constraints__gp__kind="r1"), _cfg()])
    assert labels == ["gp weight 1, gp r1, lr_d 0.001", "gp weight 10, gp two_sided, lr_d 0.0002"]
    ds = C.run_labels([_cfg(data__dataset="grid25"), _cfg()])
    assert ds == ["grid25", "ring8"]


def test_identical_configs_get_a_distinguishing_number():
    assert C.run_labels([_cfg(), _cfg()]) == ["run 1", "run 2"]
    assert C.run_labels([_cfg()]) == ["run"]
    labels = C.run_labels([_cfg(), _cfg(), _cfg(constraints__spectral__enabled=True)])
    assert labels == ["spectral off (1)", "spectral off (2)", "spectral on"]
    assert len(set(C.number_duplicates(["run", "run", "run 1"]))) == 3


def test_recording_keys_only_name_a_run_when_nothing_else_differs():
    a = _cfg(run__steps=300, run__log_every=5)
    b = _cfg(run__steps=2000)
    assert C.run_labels([a, b]) == ["steps 300, log_every 5", "steps 2000, log_every 10"]
    a.set("constraints.clip.enabled", True)
    assert C.run_labels([a, b]) == ["clip on", "clip off"]


def test_long_labels_are_cut_after_three_differences():
    a = _cfg(run__seed=3, loss__kind="hinge", optim__lr_g=1e-3, optim__lr_d=1e-3,
             model__depth=2)
    labels = C.run_labels([a, _cfg()])
    assert labels[0] == "depth 2, loss hinge, lr_g 0.001, +2 more"
    assert all(len(lab) < 48 for lab in labels)


def test_differing_keys_order_switches_first():
    a = _cfg(run__seed=1, constraints__gp__weight=5.0, constraints__spectral__enabled=True,
             loss__kind="hinge")
    assert C.differing_keys([a, _cfg()]) == [
        "constraints.spectral.enabled", "constraints.gp.weight", "loss.kind", "run.seed"]
    assert C.differing_keys([a]) == []


def test_caption_names_runs_and_differences():
    a, b = _cfg(constraints__spectral__enabled=True), _cfg()
    text = C.caption([a, b], ["spectral on", "spectral off"], ["20261123-a", "20261123-b"])
    assert text.startswith("Runs: spectral on (20261123-a); spectral off (20261123-b).")
    assert "constraints.spectral.enabled (on / off)" in text
    assert "Same: ring8, mlp, loss bce, optimizer adam" in text
    assert "spectral" not in text.split("Same:")[1]  # the difference is not a common setting
    assert C.caption([a], ["run"]).startswith("Run: run. Same: ring8")
    with pytest.raises(ValueError):
        C.caption([a, b], ["x"])


def test_duplicate_with_change_differs_only_in_the_changed_keys():
    base = tiny_2d(run__seed=7)
    dup = C.duplicate_with_change(base, {"constraints.spectral.enabled": True})
    assert C.changed_keys(base, dup) == ["constraints.spectral.enabled"]
    assert dup.run.seed == 7 and base.constraints.spectral.enabled is False  # base untouched
    two = C.duplicate_with_change(base, C.parse_changes(["loss.kind=hinge", "optim.lr_d=1e-3"]))
    assert C.changed_keys(base, two) == ["loss.kind", "optim.lr_d"]
    assert two.optim.lr_d == 1e-3
    text = C.duplicate_with_change(base, {"constraints.clip.enabled": "true"})
    assert C.changed_keys(base, text) == ["constraints.clip.enabled"]
    # through a file, as the run folders hold it
    assert C.changed_keys(config_mod.Config.from_dict(base.to_dict()), dup) == [
        "constraints.spectral.enabled"]


def test_duplicate_with_change_refuses_bad_changes_in_one_line():
    base = tiny_2d()
    for changes, message in [
        ({}, "at least one key"),
        ({"optim.lr_d": -1.0}, "optim.lr_d must be > 0, got -1"),
        ({"optim.nope": 1}, "unknown key 'optim.nope'"),
        ({"run.seed": 0}, "run.seed is already 0"),
        ({"model.arch": "dcgan"}, "model.arch must be 'mlp'"),
    ]:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as info:
            C.duplicate_with_change(base, changes)
        assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="must look like KEY=VALUE"):
        C.parse_changes(["loss.kind"])
    # switching dataset and architecture together is one valid change
    img = C.duplicate_with_change(base, {"data.dataset": "digits", "model.arch": "dcgan"})
    assert C.changed_keys(base, img) == ["data.dataset", "model.arch"]


def test_comparison_csv_has_one_column_per_run(tmp_path):
    run_a = [{"step": 10, "loss_d": 1.5, "sigma": {"net.0": 2.0}},
             {"step": 20, "loss_d": 1.25, "sigma": {"net.0": 1.0}}]
    run_b = [{"step": 10, "loss_d": 0.5}, {"step": 20, "loss_d": None},
             {"step": 30, "loss_d": 0.25}]
    series = [C.metric_series("spectral on", run_a, "loss_d"),
              C.metric_series("spectral off", run_b, "loss_d")]
    path = C.write_comparison_csv(tmp_path / "cmp" / "loss_d.csv", series)
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["step", "spectral on", "spectral off"]
    assert rows[1:] == [["10", "1.5", "0.5"], ["20", "1.25", ""], ["30", "", "0.25"]]
    sig = C.metric_series("a", run_a, "sigma.net.0")
    assert (list(sig.steps), list(sig.values)) == ([10, 20], [2.0, 1.0])
    assert list(C.metric_series("b", run_b, "sigma.net.0").steps) == []
    with pytest.raises(ValueError, match="unique"):
        C.comparison_rows([series[0], series[0]])


def test_comparison_keeps_the_last_value_of_a_repeated_step():
    header, rows = C.comparison_rows([C.Series("a", [1, 2, 2, 3], [1.0, 2.0, 2.5, 3.0])])
    assert rows == [["1", "1.0"], ["2", "2.5"], ["3", "3.0"]]


def test_several_constraint_switches_read_as_what_is_on():
    labels = C.run_labels([
        _cfg(constraints__spectral__enabled=True),
        _cfg(),
        _cfg(constraints__gp__enabled=True, loss__kind="wasserstein"),
        _cfg(constraints__gp__enabled=True, constraints__spectral__enabled=True),
    ])
    assert labels == ["spectral on, loss bce", "gp/spectral off, loss bce",
                      "gp on, loss wasserstein", "gp + spectral on, loss bce"]


# ----------------------------------------------------------------- a switch during the run
def _switched_off_at_60():
    """A run started with SN on whose SN was switched off at step 60 (its events.jsonl)."""
    return [{"step": 60, "time": 1.0, "change": {"constraints.spectral.enabled": False}}]


def test_a_switch_during_the_run_is_in_the_label():
    on = _cfg(constraints__spectral__enabled=True)
    off = _cfg()
    # Against a run that never had SN: the switched run is not simply "spectral on".
    assert C.run_labels([on, off], events=[_switched_off_at_60(), []]) == [
        "spectral on -> off @60", "spectral off"]
    # Against the same start config kept on: the start configs are equal, the runs are not.
    assert C.run_labels([on, on.copy()], events=[_switched_off_at_60(), []]) == [
        "spectral on -> off @60", "spectral on"]
    # The events of a live run come as core.contract.Event objects.
    from core.contract import Event
    ev = [Event.from_dict(e) for e in _switched_off_at_60()]
    assert C.run_labels([on, off], events=[ev, None])[0] == "spectral on -> off @60"
    # The same switch in every run tells nothing apart: the start difference labels them.
    assert C.run_labels([on, _cfg(run__seed=1, constraints__spectral__enabled=True)],
                        events=[_switched_off_at_60(), _switched_off_at_60()]) == [
        "seed 0", "seed 1"]


def test_a_switch_during_the_run_is_in_the_caption():
    on, off = _cfg(constraints__spectral__enabled=True), _cfg()
    text = C.caption([on, off], ["spectral on -> off @60", "spectral off"], ["a", "b"],
                     events=[_switched_off_at_60(), []])
    assert "They differ in constraints.spectral.enabled (on -> off @60 / off)" in text
    # A lone run's caption says what it ended with, not only how it started.
    lone = C.caption([on], ["run"], ["a"], events=[_switched_off_at_60()])
    assert "spectral on -> off @60" in lone
    assert "Same: ring8, mlp, loss bce, optimizer adam, clip/gp/rowsum off, " \
           "spectral on -> off @60, seed 0." in lone


def test_a_switch_during_the_run_among_several_switches():
    # The joined switch part names what a run has on; a switch changed during the run is
    # told with its history in place of "on" / "off" (no "gp off" for it to carry).
    on = _cfg(constraints__spectral__enabled=True)
    labels = C.run_labels([on, _cfg(), _cfg(constraints__gp__enabled=True, run__seed=1)],
                          events=[_switched_off_at_60(), [], []])
    assert labels == ["spectral on -> off @60, seed 0", "gp/spectral off, seed 0",
                      "gp on, seed 1"]
