"""The override grammar (KEY=VALUE, STEP:KEY=VALUE) and the describer: one parser and one
name per key for every place that reads or writes a change."""

import pytest

from core import overrides as O
from core.config import ConfigError


def test_setting_is_typed_for_its_key():
    assert O.parse_setting("constraints.spectral.enabled=true") == (
        "constraints.spectral.enabled", True)
    assert O.parse_setting(" optim.lr_d = 1e-3") == ("optim.lr_d", 0.001)
    assert O.parse_settings(["loss.kind=hinge", "run.seed=3"]) == {"loss.kind": "hinge",
                                                                   "run.seed": 3}


@pytest.mark.parametrize("text,fragment", [
    ("loss.kind", "--set must look like KEY=VALUE, got 'loss.kind'"),
    ("=3", "--set must look like KEY=VALUE"),
    ("optim.nope=1", "unknown key 'optim.nope'"),
    ("optim.n_critic=two", "optim.n_critic must be an integer"),
])
def test_bad_setting_is_one_line_naming_it(text, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        O.parse_setting(text)
    assert "\n" not in str(info.value)


def test_change_parses_step_key_and_typed_value():
    change = O.parse_change("500:constraints.spectral.enabled=false")
    assert (change.step, change.key, change.value) == (500, "constraints.spectral.enabled", False)
    assert change.entry == (500, "constraints.spectral.enabled", False)
    assert O.parse_change("0:optim.lr_g=2e-4").value == 2e-4


@pytest.mark.parametrize("text,fragment", [
    ("optim.lr_d=1", "--change must look like STEP:KEY=VALUE"),
    ("5:optim.lr_d", "--change must look like STEP:KEY=VALUE"),
    ("x:optim.lr_d=1", "--change step must be an integer, got 'x'"),
    ("-1:optim.lr_d=1", "--change step must be >= 0, got -1"),
    ("5:model.arch=dcgan", "--change cannot change model.arch during a run; set it with --set"),
    ("5:optim.n_critic=two", "optim.n_critic must be an integer"),
])
def test_bad_change_is_one_line_naming_it(text, fragment):
    with pytest.raises(ConfigError, match=fragment):
        O.parse_change(text)


def test_the_source_names_where_the_change_was_written():
    with pytest.raises(ConfigError, match="a change cannot change model.depth during a run; "
                                          r"set it with \[set\] or \[grid\] instead"):
        O.parse_change("10:model.depth=2", source="a change", fix="[set] or [grid]")


def test_one_name_per_switch_in_every_format():
    key = "constraints.spectral.enabled"
    assert O.describe(key, True) == "spectral on"                       # legend label
    assert O.describe(key, True, O.MARKER) == "SN on"                   # plot marker
    names = O.folder_names([key, "loss.kind"])
    assert O.describe(key, True, O.FOLDER, name=names[key]) == "spectral.enabled=true"
    for name, (label, marker) in O.SWITCH_NAMES.items():
        k = f"constraints.{name}.enabled"
        assert O.describe(k, False) == f"{label} off"
        assert O.describe(k, False, O.MARKER) == f"{marker} off"


def test_describer_formats_values_and_other_keys():
    assert O.describe("constraints.clip.c", 0.05, O.MARKER) == "clip c=0.05"
    assert O.describe("optim.lr_d", 0.001, O.MARKER) == "lr_d=0.001"
    assert O.describe("constraints.gp.weight", 10.0) == "gp weight 10"
    assert O.describe("data.dataset", "grid25") == "grid25"
    assert O.describe("loss.kind", "hinge") == "loss hinge"
    assert O.describe("run.seed", 1) == "seed 1"
    # How spectral norm finds σ: a label, a marker and a folder name that say so.
    method = "constraints.spectral.method"
    assert O.describe(method, "exact") == "spectral σ exact"
    assert O.describe(method, "exact", O.MARKER) == "SN σ=exact"
    assert O.describe(method, "exact", O.FOLDER, name=O.folder_names([method])[method]) == \
        "spectral.method=exact"
    assert O.describe_history(method, "power", [(60, "exact")]) == \
        "spectral σ power -> exact @60"
    assert O.describe_change({"constraints.gp.enabled": True, "optim.lr_d": 1e-4}) == \
        "GP on, lr_d=0.0001"
    # Two grid keys with the same last two parts keep their whole key in folder names.
    assert O.folder_names(["a.b.c", "x.b.c", "loss.kind"]) == {
        "a.b.c": "a.b.c", "x.b.c": "x.b.c", "loss.kind": "loss.kind"}


def test_history_tells_a_change_during_the_run():
    key = "constraints.spectral.enabled"
    assert O.describe_history(key, True, []) == "spectral on"
    assert O.describe_history(key, True, [(60, False)]) == "spectral on -> off @60"
    assert O.describe_history(key, False, [(10, True), (90, False)]) == \
        "spectral off -> on @10 -> off @90"
    assert O.describe_history("optim.lr_d", 2e-4, [(500, 1e-4)]) == "lr_d 0.0002 -> 0.0001 @500"
