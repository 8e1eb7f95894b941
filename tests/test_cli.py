import json
import subprocess
import sys

import pytest
import torch

from core import config as C
from core.cli import train_main
from tests.helpers import tiny_2d

CONTRACT_FIELDS = ("step", "time", "loss_d", "loss_g", "d_real", "d_fake")


@pytest.fixture
def cfg_file(tmp_path):
    path = tmp_path / "cfg.toml"
    C.save(tiny_2d(), path)
    return path


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_train_writes_complete_run_folder(tmp_path, cfg_file):
    out = tmp_path / "run"
    rc = train_main(["--config", str(cfg_file), "--out", str(out), "--steps", "23", "--no-progress",
                     "--set", "constraints.spectral.enabled=true",
                     "--change", "12:constraints.spectral.enabled=false",
                     "--change", "12:optim.lr_d=0.001"])
    assert rc == 0
    saved = C.load(out / "config.toml")
    assert saved.run.steps == 23 and saved.constraints.spectral.enabled  # resolved, at start
    metrics = _lines(out / "metrics.jsonl")
    assert [m["step"] for m in metrics] == [5, 10, 15, 20, 23]  # last logged = final step
    for m in metrics:
        for f in CONTRACT_FIELDS:
            assert f in m
    assert all(b["time"] >= a["time"] for a, b in zip(metrics, metrics[1:]))
    events = _lines(out / "events.jsonl")
    assert [(e["step"], e["change"]) for e in events] == [
        (12, {"constraints.spectral.enabled": False}), (12, {"optim.lr_d": 0.001})]
    assert all(set(e) == {"step", "time", "change"} for e in events)

    last = out / "checkpoints" / "last"
    state = torch.load(last / "trainer.pt", weights_only=True)
    assert state["step"] == 23  # last checkpoint = final step
    assert not state["config"]["constraints"]["spectral"]["enabled"]
    G = torch.load(last / "G.pt", weights_only=True)
    D = torch.load(last / "D.pt", weights_only=True)
    assert all("parametrizations" not in k for k in list(G) + list(D))
    from core.trainer import Trainer
    t = Trainer(tiny_2d())
    t.G.load_state_dict(G)
    t.D.load_state_dict(D)


@pytest.mark.slow
def test_resume_continues_and_refuses_overwrite(tmp_path, cfg_file):
    out = tmp_path / "run"
    assert train_main(["--config", str(cfg_file), "--out", str(out), "--steps", "10",
                       "--no-progress"]) == 0
    # Same folder again without --resume: refused, nothing touched.
    before = (out / "metrics.jsonl").read_text()
    assert train_main(["--config", str(cfg_file), "--out", str(out), "--no-progress"]) == 2
    assert (out / "metrics.jsonl").read_text() == before
    assert train_main(["--out", str(out), "--resume", "--steps", "20", "--no-progress"]) == 0
    metrics = _lines(out / "metrics.jsonl")
    assert [m["step"] for m in metrics] == [5, 10, 15, 20]
    assert torch.load(out / "checkpoints/last/trainer.pt", weights_only=True)["step"] == 20


@pytest.mark.parametrize("extra,fragment", [
    (["--set", "optim.lr_d=-1"], "optim.lr_d must be > 0, got -1"),
    (["--set", "optim.nope=1"], "unknown key 'optim.nope'"),
    (["--set", "optim.n_critic=two"], "optim.n_critic must be an integer"),
    (["--set", "loss.kind"], "--set must look like KEY=VALUE"),
    (["--change", "x:optim.lr_d=1"], "--change step must be an integer"),
    (["--change", "5:model.arch=dcgan"], "cannot change model.arch during a run"),
    (["--change", "5:optim.lr_d=-3"], "optim.lr_d must be > 0"),
    (["--steps", "0"], "--steps must be >= 1"),
    (["--device", "tpu"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, cfg_file, capsys, extra,
                                                           fragment):
    out = tmp_path / "run"
    rc = train_main(["--config", str(cfg_file), "--out", str(out), "--no-progress", *extra])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert fragment in err
    assert not out.exists()


def test_bad_files_exit_2(tmp_path, capsys):
    out = tmp_path / "run"
    assert train_main(["--config", str(tmp_path / "missing.toml"), "--out", str(out)]) == 2
    assert "config file not found" in capsys.readouterr().err
    (tmp_path / "run2").mkdir()
    (tmp_path / "run2" / "checkpoints" / "last").mkdir(parents=True)
    (tmp_path / "run2" / "checkpoints" / "last" / "trainer.pt").write_bytes(b"PK\x03\x04trunc")
    assert train_main(["--out", str(tmp_path / "run2"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "trainer.pt is not a readable checkpoint" in err and len(err.strip().splitlines()) == 1
    torch.save({"hello": torch.zeros(1)}, tmp_path / "run2" / "checkpoints" / "last" / "trainer.pt")
    assert train_main(["--out", str(tmp_path / "run2"), "--resume"]) == 2
    assert "not a Lipschitz Playground trainer checkpoint" in capsys.readouterr().err
    assert train_main(["--out", str(tmp_path / "empty"), "--resume"]) == 2
    assert "has no checkpoints/last/trainer.pt" in capsys.readouterr().err


@pytest.mark.slow
def test_main_py_subprocess_end_to_end(tmp_path, cfg_file):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "main.py", "train", "--config", str(cfg_file), "--out",
                           str(out), "--steps", "5"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "step/s" in proc.stderr  # the progress bar shows the rate
    assert (out / "checkpoints" / "last" / "D.pt").is_file()
    bad = subprocess.run([sys.executable, "main.py", "train", "--config", str(cfg_file), "--out",
                          str(tmp_path / "r2"), "--set", "run.steps=-5"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: run.steps must be >= 1, got -5"


@pytest.mark.slow
def test_core_does_not_import_qt():
    code = ("import sys, pkgutil, importlib, core\n"
            "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
            "    importlib.import_module(m.name)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'PyQt5',"
            " 'PyQt6', 'shiboken6', 'sngan_gui')]\n"
            "print(','.join(bad))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
