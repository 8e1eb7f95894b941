import pytest

from core import config as C
from core.config import Config, ConfigError


def test_defaults_validate_and_cover_design_keys():
    cfg = Config()
    cfg.validate()
    keys = set(C.all_keys())
    for key in ["data.dataset", "data.batch_size", "data.root", "model.arch", "model.z_dim",
                "model.g_width", "model.d_width", "model.d_norm", "loss.kind", "optim.name",
                "optim.lr_g", "optim.lr_d", "optim.beta1", "optim.beta2", "optim.n_critic",
                "constraints.clip.enabled", "constraints.clip.c", "constraints.gp.enabled",
                "constraints.gp.weight", "constraints.gp.kind", "constraints.spectral.enabled",
                "constraints.spectral.power_iters", "constraints.spectral.on_disable",
                "constraints.rowsum.enabled", "constraints.rowsum.target", "run.seed",
                "run.device", "run.steps", "run.log_every", "run.checkpoint_every"]:
        assert key in keys


def test_toml_round_trip(tmp_path):
    cfg = Config()
    cfg.set("optim.lr_d", 1e-3)
    cfg.set("constraints.gp.kind", "r1")
    cfg.set("constraints.spectral.enabled", True)
    cfg.set("data.root", "/some/where")
    path = tmp_path / "c.toml"
    C.save(cfg, path)
    back = C.load(path)
    assert back == cfg
    assert back.to_dict() == cfg.to_dict()


def test_presets_load():
    from pathlib import Path

    presets = sorted(Path("resources/presets").glob("*.toml"))
    assert presets, "no presets found"
    for path in presets:
        C.load(path)


@pytest.mark.parametrize("key,text,message", [
    ("optim.lr_d", "-1", "optim.lr_d must be > 0, got -1"),
    ("optim.lr_g", "0", "optim.lr_g must be > 0, got 0"),
    ("optim.beta1", "1", "optim.beta1 must be < 1, got 1"),
    ("optim.beta2", "-0.1", "optim.beta2 must be >= 0, got -0.1"),
    ("optim.n_critic", "0", "optim.n_critic must be >= 1, got 0"),
    ("data.batch_size", "100000", "data.batch_size must be <= 65536, got 100000"),
    ("optim.n_critic", "2.5", "optim.n_critic must be an integer, got '2.5'"),
    ("optim.lr_d", "fast", "optim.lr_d must be a number, got 'fast'"),
    ("constraints.clip.enabled", "maybe", "constraints.clip.enabled must be true or false"),
    ("loss.kind", "l2", "loss.kind must be one of bce, hinge, wasserstein; got 'l2'"),
    ("constraints.gp.kind", "both", "constraints.gp.kind must be one of two_sided, one_sided, r1"),
    ("optim.lr_d", "nan", "optim.lr_d must be a finite number"),
    ("optim.lr_d", "inf", "optim.lr_d must be a finite number"),
])
def test_set_text_errors_name_key_and_range(key, text, message):
    cfg = Config()
    before = cfg.get(key)
    with pytest.raises(ConfigError) as err:
        cfg.set_text(key, text)
    assert message in str(err.value)
    assert cfg.get(key) == before  # a refused value changes nothing


@pytest.mark.parametrize("key,fragment", [
    ("optim.lr", "unknown key 'optim.lr'"),
    ("optimizer.lr_d", "unknown key 'optimizer.lr_d'"),
    ("optim", "is a section, not a value"),
    ("optim.lr_d.x", "is a value"),
])
def test_unknown_keys_are_errors(key, fragment):
    with pytest.raises(ConfigError) as err:
        Config().set_text(key, "1")
    assert fragment in str(err.value)


@pytest.mark.parametrize("value,message", [
    (True, "optim.n_critic must be an integer, got True"),
    ("3", "optim.n_critic must be an integer, got '3'"),
])
def test_typed_set_refuses_wrong_types(value, message):
    with pytest.raises(ConfigError, match=message):
        Config().set("optim.n_critic", value)


def test_set_text_parses_types():
    cfg = Config()
    assert cfg.set_text("constraints.spectral.enabled", "true") is True
    assert cfg.set_text("optim.n_critic", "5") == 5
    assert cfg.set_text("optim.lr_g", "1e-3") == pytest.approx(1e-3)
    assert cfg.set_text("loss.kind", '"hinge"') == "hinge"
    assert cfg.set_text("optim.n_critic", "2.0") == 2


@pytest.mark.parametrize("toml,fragment", [
    ("[optim]\nlr = 1\n", "unknown key 'optim.lr' in [optim]"),
    ("[nonsense]\nx = 1\n", "unknown key 'nonsense' in the top level"),
    ("optim = 3\n", "'optim' must be a table"),
    ("[optim]\nlr_d = \"fast\"\n", "optim.lr_d must be a number, got 'fast'"),
    ("[optim]\nn_critic = true\n", "optim.n_critic must be an integer, got True"),
    ("[constraints.clip]\nenabled = 1\n", "constraints.clip.enabled must be true or false"),
    ("[run]\nsteps = 0\n", "run.steps must be >= 1, got 0"),
    ("[data]\ndataset = \"mnist2\"\n", "data.dataset must be one of"),
    ("[data]\ndataset = \"digits\"\n", "model.arch must be an image architecture"),
    ("[model]\narch = \"dcgan\"\n", "model.arch must be 'mlp' for 2D dataset 'ring8'"),
    ("this is = not toml [", "is not valid TOML"),
])
def test_load_errors(tmp_path, toml, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as err:
        C.load(path)
    assert fragment in str(err.value)
    assert str(path) in str(err.value)


def test_load_missing_and_unreadable(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        C.load(tmp_path / "nope.toml")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot read config file"):
        C.load(binary)


def test_cross_field_validation_rolls_back():
    cfg = Config()
    with pytest.raises(ConfigError, match="model.arch must be 'mlp'"):
        cfg.set("model.arch", "dcgan")
    assert cfg.model.arch == "mlp"


def test_live_keys():
    assert C.is_live("constraints.spectral.enabled")
    assert C.is_live("optim.lr_d")
    assert C.is_live("constraints.gp.weight")
    assert not C.is_live("model.arch")
    assert not C.is_live("data.dataset")
    assert not C.is_live("run.seed")


def test_update_is_atomic_and_checks_cross_field_rules_on_the_result():
    cfg = Config()
    cfg.update({"data.dataset": "digits", "model.arch": "dcgan"})
    assert (cfg.data.dataset, cfg.model.arch) == ("digits", "dcgan")
    with pytest.raises(ConfigError, match="optim.lr_d must be > 0"):
        cfg.update({"data.dataset": "ring8", "model.arch": "mlp", "optim.lr_d": -1.0})
    assert (cfg.data.dataset, cfg.model.arch) == ("digits", "dcgan")
