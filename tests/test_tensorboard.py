"""``python main.py tensorboard`` and ``run.tensorboard``: run folders as TensorBoard event files,
read back with TensorBoard's own reader (EventAccumulator, the HParams plugin's backend) and
compared with the run folders' files, read here independently."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, tiny_2d, tiny_image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import metadata as hp_metadata

from core import config as config_mod
from core.config import Config
from core.session import TrainingSession
from core.tensorboard_export import tensorboard_main
from core.tensorboard_log import EXTRA, LIVE_FOLDER

pytestmark = pytest.mark.slow  # trains runs (module fixture) and starts Python processes


def _train(out: Path, cfg: Config, steps: int, changes=(), *, stop_at: int | None = None):
    session = TrainingSession(out, cfg, steps=steps, changes=changes, progress=lambda *a: None)
    while not session.done and session.trainer.step_count != stop_at:
        session.advance()
    if stop_at is None:
        session.finish()
    else:
        session.close()  # stopped early, as by Ctrl-C after the last checkpoint
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A sweep folder of two 2D trials (one switches SN on mid-run) and an image run."""
    root = tmp_path_factory.mktemp("tb_runs")
    sweep = root / "sweep"
    for seed, spectral in ((0, False), (1, True)):
        cfg = tiny_2d(run__seed=seed, constraints__spectral__enabled=spectral,
                      run__log_every=2, run__probe_every=6)
        changes = [(6, "constraints.spectral.enabled", "true")] if not spectral else []
        _train(sweep / f"spectral={spectral}_seed{seed}", cfg, 12, changes)
    (sweep / "summary.csv").write_text("not a run\n")
    image = _train(root / "digits", tiny_image(run__sample_every=3), 6,
                   [(3, "constraints.clip.enabled", "true")])
    return sweep, image


def _read(logdir: Path) -> EventAccumulator:
    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def _expected_scalars(run: Path) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, float32 value)]} of metrics.jsonl: every number, one level of objects
    flattened as field/key; null (non-finite), strings, booleans and lists are not scalars."""
    out: dict[str, list] = {}
    for line in (run / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        for field, value in record.items():
            items = value.items() if isinstance(value, dict) else [(None, value)]
            for key, v in items:
                if field != "step" and type(v) in (int, float):
                    tag = field if key is None else f"{field}/{key}"
                    out.setdefault(tag, []).append((record["step"], float(np.float32(v))))
    return out


def _scalars(acc: EventAccumulator) -> dict[str, list[tuple[int, float]]]:
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def _flat_config(run: Path) -> dict:
    flat = {}

    def walk(tree, prefix):
        for k, v in tree.items():
            if isinstance(v, list):  # a drawn dataset's points: an hparam names their count
                v = f"{len(v)} points"
            walk(v, f"{prefix}{k}.") if isinstance(v, dict) else flat.__setitem__(prefix + k, v)

    walk(tomllib.loads((run / "config.toml").read_text()), "")
    return flat


def _hparams(acc: EventAccumulator):
    content = acc.PluginTagToContent("hparams")
    start = hp_metadata.parse_session_start_info_plugin_data(
        content[hp_metadata.SESSION_START_INFO_TAG])
    end = content.get(hp_metadata.SESSION_END_INFO_TAG)
    end = hp_metadata.parse_session_end_info_plugin_data(end) if end is not None else None
    values = {k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind"))
              for k, v in start.hparams.items()}
    return start, values, end


def test_every_scalar_image_event_and_hparam_reads_back(runs, tmp_path, capsys):
    sweep, image = runs
    logdir = tmp_path / "tb"
    assert tensorboard_main([str(sweep), str(image), "--out", str(logdir)]) == 0
    assert "wrote 3 runs" in capsys.readouterr().err
    trials = sorted(p for p in sweep.iterdir() if p.is_dir())
    converted = {run: logdir / "sweep" / run.name for run in trials} | {image: logdir / "digits"}
    for run, folder in converted.items():
        acc = _read(folder)
        expected = _expected_scalars(run)
        assert _scalars(acc) == expected, run
        assert "sigma/fc1" in expected or "sigma/block1.conv" in expected
        # Events: the applied changes as text at their steps.
        events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
        texts = ([(e.step, e.tensor_proto.string_val[0].decode()) for e in acc.Tensors("events")]
                 if "events" in acc.Tags()["tensors"] else [])
        assert [s for s, _ in texts] == [e["step"] for e in events]
        for (_, text), event in zip(texts, events):
            (key, value), = event["change"].items()
            assert f"`{key}` = `{json.dumps(value)}`" in text
        # The config as hparams, and a finished session.
        start, values, end = _hparams(acc)
        flat = _flat_config(run)
        assert values == {k: float(v) if type(v) is int else v for k, v in flat.items()}
        assert start.group_name == folder.relative_to(logdir).as_posix()
        assert end is not None and end.status == api_pb2.STATUS_SUCCESS
    # Sample grids: the PNG files' bytes at their steps.
    images = [(e.step, e.encoded_image_string) for e in _read(logdir / "digits").Images("samples")]
    pngs = sorted((image / "samples").glob("step_*.png"))
    assert images == [(int(p.stem[5:]), p.read_bytes()) for p in pngs]
    assert [s for s, _ in images] == [3, 6]
    # Converting again replaces the event files instead of adding to them.
    assert tensorboard_main([str(image), "--out", str(logdir)]) == 0
    assert len(list((logdir / "digits").glob("events.out.tfevents.*"))) == 1


def test_the_hparams_view_compares_the_sweep(runs, tmp_path):
    """What TensorBoard's HParams plugin computes from the converted sweep (its own backend,
    as its dashboard asks for it): one session per trial, the varied keys first."""
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import backend_context

    sweep, _ = runs
    logdir = tmp_path / "tb"
    assert tensorboard_main([str(sweep), "--out", str(logdir)]) == 0
    mux = plugin_event_multiplexer.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    tb = base_plugin.TBContext(logdir=str(logdir), multiplexer=mux,
                               data_provider=data_provider.MultiplexerDataProvider(mux, str(logdir)))
    ctx, request = backend_context.Context(tb), context.RequestContext()
    content = ctx.hparams_metadata(request, "")
    experiment = ctx.experiment_from_metadata(
        request, "", include_metrics=True, hparams_run_to_tag_to_content=content,
        data_provider_hparams=ctx.hparams_from_data_provider(request, "", limit=None))
    differs = [h.name for h in experiment.hparam_infos if h.differs]
    assert differs == ["constraints.spectral.enabled", "run.seed"]
    assert len(experiment.hparam_infos) == len(_flat_config(next(sweep.glob("*_seed0"))))
    metrics = {m.name.tag for m in experiment.metric_infos}
    assert {"loss_d", "lip_bound", "sigma/fc1", "modes"} <= metrics
    sessions = sorted(run for run, tags in content.items()
                      if hp_metadata.SESSION_START_INFO_TAG in tags)
    assert sessions == ["sweep/spectral=False_seed0", "sweep/spectral=True_seed1"]


def test_new_numeric_fields_are_scalars_without_a_list(tmp_path, capsys):
    """Fields a newer version writes (image-quality metrics, say) become scalars by their
    type alone; what is not a finite number is left out."""
    run = tmp_path / "run"
    run.mkdir()
    config_mod.save(tiny_2d(run__steps=4), run / "config.toml")
    lines = [{"step": 2, "time": 0.5, "loss_d": 1.25, "fd": 31.5, "kid": None, "classes": 7,
              "quality": {"precision": 0.25, "recall": None, "note": "x"}, "converged": True,
              "spectrum": [1.0, 0.5], "lip_bound_note": "loose"},
             {"step": 4, "time": 1.0, "loss_d": 1.0, "fd": 20.0, "kid": 0.0125, "classes": 9,
              "quality": {"precision": 0.5, "recall": 0.75}}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines)
                                       + "not json\n")
    assert tensorboard_main([str(run), "--out", str(tmp_path / "tb")]) == 0
    err = capsys.readouterr().err
    assert f"warning: left out {run / 'metrics.jsonl'} line 3 is not valid JSON" in err
    assert _scalars(_read(tmp_path / "tb" / "run")) == {
        "time": [(2, 0.5), (4, 1.0)], "loss_d": [(2, 1.25), (4, 1.0)],
        "fd": [(2, 31.5), (4, 20.0)], "kid": [(4, float(np.float32(0.0125)))],
        "classes": [(2, 7.0), (4, 9.0)], "quality/precision": [(2, 0.25), (4, 0.5)],
        "quality/recall": [(4, 0.75)]}


def test_live_log_is_the_conversion_also_after_a_resume(tmp_path):
    """run.tensorboard = true writes while training what the converter writes from the
    folder; a resume rebuilds the log from the folder cut back to its checkpoint, so no step
    is there twice."""
    out = tmp_path / "live"
    cfg = tiny_image(run__sample_every=3, run__tensorboard=True, run__checkpoint_every=4)
    _train(out, cfg, 10, [(2, "constraints.spectral.enabled", "true")], stop_at=6)
    # stopped at 6 after the checkpoint of 4: the lines of step 6 are dropped by the resume
    assert [e.step for e in _read(out / LIVE_FOLDER).Scalars("loss_d")] == [2, 4, 6]
    session = TrainingSession(out, resume=True, steps=10,
                              changes=[(7, "constraints.clip.enabled", "true")])
    while not session.done:
        session.advance()
    session.finish()
    assert tensorboard_main([str(out), "--out", str(tmp_path / "tb")]) == 0
    live, converted = _read(out / LIVE_FOLDER), _read(tmp_path / "tb" / "live")
    assert _scalars(live) == _scalars(converted) == _expected_scalars(out)
    assert [e.step for e in live.Scalars("loss_d")] == [2, 4, 6, 8, 10]
    assert ([(e.step, e.encoded_image_string) for e in live.Images("samples")]
            == [(e.step, e.encoded_image_string) for e in converted.Images("samples")])
    assert [e.step for e in live.Images("samples")] == [3, 6, 9, 10]
    assert ([(e.step, e.tensor_proto) for e in live.Tensors("events")]
            == [(e.step, e.tensor_proto) for e in converted.Tensors("events")])
    assert [e.step for e in live.Tensors("events")] == [2, 7]
    start, values, end = _hparams(live)
    assert values["run.tensorboard"] is True and start.group_name == "live"
    assert end.status == api_pb2.STATUS_SUCCESS


@pytest.mark.parametrize("case", ["missing", "no_run", "broken_config", "out_is_a_file",
                                  "no_out"])
def test_bad_input_exits_2_with_one_line(case, runs, tmp_path, capsys):
    _, image = runs
    out = tmp_path / "tb"
    args = {
        "missing": [str(tmp_path / "nope"), "--out", str(out)],
        "no_run": [str(ROOT / "docs"), "--out", str(out)],
        "broken_config": [str(tmp_path / "broken"), "--out", str(out)],
        "out_is_a_file": [str(image), "--out", str(tmp_path / "file" / "tb")],
        "no_out": [str(image)],
    }[case]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.toml").write_text("[optim]\nlr_d = -1\n")
    (tmp_path / "broken" / "metrics.jsonl").write_text("")
    (tmp_path / "file").write_text("")
    assert tensorboard_main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    expected = {"missing": "does not exist", "no_run": "no run folder is in it",
                "broken_config": "optim.lr_d", "out_is_a_file": "cannot write",
                "no_out": "--out"}[case]
    assert expected in err
    assert not out.exists()


def test_without_tensorboard_one_line_names_the_extra(tmp_path):
    """With the package missing, the converter and run.tensorboard refuse with one line that
    says which extra to install, before anything is written."""
    cfg_file = tmp_path / "cfg.toml"
    config_mod.save(tiny_2d(), cfg_file)
    code = ("import sys\n"
            "sys.modules.update({'tensorboard': None})\n"  # as if it were not installed
            "from core.tensorboard_export import tensorboard_main\n"
            "from core.cli import train_main\n"
            f"a = tensorboard_main([{str(tmp_path)!r}, '--out', {str(tmp_path / 'tb')!r}])\n"
            f"b = train_main(['--config', {str(cfg_file)!r}, '--out', {str(tmp_path / 'run')!r},"
            " '--set', 'run.tensorboard=true', '--no-progress'])\n"
            "print(a, b)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.stdout.split() == ["2", "2"], proc.stderr
    lines = proc.stderr.splitlines()
    assert lines == [f"error: the tensorboard command needs the tensorboard package: {EXTRA}",
                     f"error: run.tensorboard = true needs the tensorboard package: {EXTRA}"]
    assert not (tmp_path / "tb").exists() and not (tmp_path / "run").exists()
