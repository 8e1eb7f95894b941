"""Presets: each carries a guide, loads, validates and trains a few steps; the [guide] table
is accepted by the config loader and nothing else new is."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import config as C
from core.config import ConfigError
from core.presets import DEFAULT_PRESET, list_presets, preset_guide, presets_main
from core.resource_paths import presets_dir
from core.session import TrainingSession

ROOT = Path(__file__).resolve().parents[1]
PRESETS = list_presets()
# Presets whose data needs a download: trained here on the offline digits at the same model.
OFFLINE = {"mnist": {"data.dataset": "digits"},
           "cifar10": {"data.dataset": "digits", "data.channels": 3,
                       "model.g_width": 4, "model.d_width": 4}}


def test_presets_are_the_shipped_files():
    assert presets_dir() == ROOT / "resources" / "presets"  # the source tree's
    assert DEFAULT_PRESET in PRESETS
    # the experiments, and the existing file names kept
    assert {"ring8", "dcgan_notebook", "mnist_dcgan", "cifar10_sngan", "d_wins",
            "wgan_clip", "wgan_gp", "sn_wasserstein", "rowsum_vs_sn", "grid25"} <= set(PRESETS)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_has_a_guide_loads_and_trains(name, tmp_path):
    path = PRESETS[name]
    guide = preset_guide(path)
    assert guide is not None, f"{name} has no [guide] title/text"
    title, text = guide
    assert title and len(text) > 80 and "TBD" not in text
    cfg = C.load(path)
    cfg.validate()
    for key, value in OFFLINE.get(cfg.data.dataset, {}).items():
        cfg.set(key, value)
    cfg.run.device = "cpu"
    cfg.data.batch_size = min(cfg.data.batch_size, 16)
    cfg.quality.final_mode_samples = min(cfg.quality.final_mode_samples, 500)  # stacked: 26,000
    session = TrainingSession(tmp_path / "run", cfg, steps=2)
    while not session.done:
        session.advance()
    session.finish()
    assert (tmp_path / "run" / "metrics.jsonl").read_text().strip()


def test_config_without_guide_still_loads_and_unknown_tables_are_refused(tmp_path):
    plain = tmp_path / "plain.toml"
    plain.write_text('[data]\ndataset = "ring8"\n')
    assert C.load(plain).data.dataset == "ring8"
    assert preset_guide(plain) is None
    with_guide = tmp_path / "guided.toml"
    with_guide.write_text('[guide]\ntitle = "T"\ntext = "what to watch"\n[data]\ndataset = "grid25"\n')
    assert C.load(with_guide).data.dataset == "grid25"
    assert preset_guide(with_guide) == ("T", "what to watch")
    assert "guide" not in C.dumps(C.load(with_guide))  # not part of the resolved config
    for body, message in (
            ('[notes]\ntext = "x"\n', "unknown key 'notes' in the top level"),
            ('[guide]\ntitle = "T"\nauthor = "me"\n', "unknown key 'guide.author'"),
            ('[guide]\ntitle = 3\n', "guide.title must be a string"),
            ('guide = "x"\n', "'guide' must be a table")):
        bad = tmp_path / "bad.toml"
        bad.write_text(body)
        with pytest.raises(ConfigError, match=message):
            C.load(bad)


def _words(text: str) -> str:
    return " ".join(text.split())


def test_readme_lists_every_preset_with_its_guide():
    """The README lists each preset by file and title; docs/presets.md holds each guide in full,
    word for word, so an edited guide cannot leave its copy there stale."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guides = _words((ROOT / "docs" / "presets.md").read_text(encoding="utf-8"))
    for name, path in PRESETS.items():
        title, text = preset_guide(path)
        assert f"`{name}.toml`" in readme, name
        assert title in readme, name
        assert _words(f"**`{name}.toml`: {title.rstrip('.')}.** {text}") in guides, name


def test_a_preset_is_named_wherever_a_config_file_is_asked_for(tmp_path, monkeypatch, capsys):
    """After a pip install the presets lie inside site-packages: their names work in place of
    a path (--config, a sweep's base); a file of that name, where there is one, wins."""
    monkeypatch.chdir(tmp_path)
    assert C.load("wgan_gp") == C.load(PRESETS["wgan_gp"])
    assert C.load("wgan_gp.toml") == C.load(PRESETS["wgan_gp"])
    (tmp_path / "wgan_gp.toml").write_text('[data]\ndataset = "grid25"\n')
    assert C.load("wgan_gp.toml").data.dataset == "grid25"
    with pytest.raises(ConfigError, match=r"config file not found: nope \(nor a preset: "
                                          r"cifar10_sngan, d_wins, .*wgan_gp\)"):
        C.load("nope")
    with pytest.raises(ConfigError, match=r"config file not found: sub/ring8$"):
        C.load("sub/ring8")  # a path is never taken for a name
    from core.sweep import load_sweep

    (tmp_path / "s.toml").write_text('base = "sn_wasserstein"\nsteps = 3\n')
    sweep = load_sweep(tmp_path / "s.toml")
    assert sweep.base == PRESETS["sn_wasserstein"]
    assert presets_main([]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[:len(PRESETS)]] == list(PRESETS)
    assert out[0].split(None, 1)[1] == preset_guide(PRESETS[out[0].split()[0]])[0]
    assert presets_main(["--bogus"]) == 2
