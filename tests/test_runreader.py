import json
import os

import pytest

from core import config as C
from core.cli import train_main
from core.runreader import JsonlTail, RunReader, RunReadError, read_jsonl
from tests.helpers import tiny_2d, tiny_image


def _append(path, text, mode="a"):
    with open(path, mode + "b") as fh:
        fh.write(text if isinstance(text, bytes) else text.encode())


def test_tail_holds_back_a_half_written_line_and_never_duplicates(tmp_path):
    path = tmp_path / "m.jsonl"
    tail = JsonlTail(path)
    assert tail.read_new() == []  # not there yet
    _append(path, '{"step": 1}\n{"st', "w")
    assert tail.read_new() == [{"step": 1}]
    assert tail.incomplete_tail
    assert tail.read_new() == []
    _append(path, 'ep": 2}')
    assert tail.read_new() == []  # complete JSON, but the newline is not written yet
    _append(path, '\n{"step": 3}\n')
    assert tail.read_new() == [{"step": 2}, {"step": 3}]
    assert not tail.incomplete_tail and tail.problems == []


def test_tail_reads_only_what_was_appended(tmp_path):
    path = tmp_path / "m.jsonl"
    _append(path, "".join(json.dumps({"step": i}) + "\n" for i in range(1000)), "w")
    tail = JsonlTail(path)
    assert len(tail.read_new()) == 1000
    _append(path, '{"step": 1000}\n')
    before = tail._offset
    assert tail.read_new() == [{"step": 1000}]
    assert tail._offset - before == len('{"step": 1000}\n')


def test_unusable_lines_are_skipped_and_named(tmp_path):
    path = tmp_path / "m.jsonl"
    _append(path, b'{"step": 1}\n[1, 2]\nnot json\n\xff\xfe\n{"step": 5}\n', "w")
    objs, problems = read_jsonl(path)
    assert objs == [{"step": 1}, {"step": 5}]
    assert [(p.line, p.reason.split(" (")[0]) for p in problems] == [
        (2, "is not a JSON object"), (3, "is not valid JSON"), (4, "is not UTF-8 text")]
    assert str(problems[0]) == f"{path} line 2 is not a JSON object (got list)"


def test_tail_restarts_when_the_file_is_replaced_or_shrinks(tmp_path):
    path = tmp_path / "m.jsonl"
    _append(path, '{"step": 1}\n{"step": 2}\n{"step": 3}\n', "w")
    tail = JsonlTail(path)
    assert len(tail.read_new()) == 3
    new = tmp_path / "m.jsonl.new"  # a resume's atomic trim: new file renamed over the old
    _append(new, '{"step": 1}\n{"step": 2}\n{"step": 9}\n{"step": 10}\n', "w")
    os.replace(new, path)
    assert [o["step"] for o in tail.read_new()] == [1, 2, 9, 10]
    assert tail.restarted
    _append(path, '{"step": 1}\n', "w")  # truncated in place
    assert tail.read_new() == [{"step": 1}] and tail.restarted


def test_run_reader_returns_exactly_the_run_files(tmp_path):
    cfg = tmp_path / "cfg.toml"
    C.save(tiny_image(), cfg)
    out = tmp_path / "run"
    assert train_main(["--config", str(cfg), "--out", str(out), "--steps", "6", "--no-progress",
                       "--set", "run.sample_every=3",
                       "--change", "2:constraints.spectral.enabled=true"]) == 0
    reader = RunReader(out)
    update = reader.poll()
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert update.metrics == lines and [m["step"] for m in lines] == [2, 4, 6]
    assert [e["change"] for e in update.events] == [{"constraints.spectral.enabled": True}]
    assert [s for s, _ in update.samples] == [3, 6]
    assert all(p.is_file() for _, p in update.samples)
    assert reader.finished and reader.last_step == 6
    assert not reader.poll()  # nothing new


def test_run_reader_follows_a_run_as_it_is_written(tmp_path):
    from core.session import TrainingSession

    session = TrainingSession(tmp_path / "run", tiny_2d(**{"run__steps": 30}))
    reader = RunReader(tmp_path / "run")
    seen = []
    while not session.done:
        session.advance()
        seen += [m["step"] for m in reader.poll().metrics]
    session.finish()
    seen += [m["step"] for m in reader.poll().metrics]
    assert seen == [5, 10, 15, 20, 25, 30]
    assert reader.finished


@pytest.mark.parametrize("make, problem", [
    (lambda p: None, "does not exist"),
    (lambda p: p.write_text("x"), "not a folder"),
    (lambda p: p.mkdir(), "has no config.toml"),
    (lambda p: (p.mkdir(), (p / "config.toml").write_text("[data\n")), "not valid TOML"),
    (lambda p: (p.mkdir(), (p / "config.toml").write_text("[optim]\nlr_d = -1\n")),
     "optim.lr_d must be > 0"),
    (lambda p: (p.mkdir(), C.save(tiny_2d(), p / "config.toml")), "has no metrics.jsonl"),
])
def test_a_folder_that_is_not_a_run_is_refused_with_one_line(tmp_path, make, problem):
    path = tmp_path / "notarun"
    make(path)
    with pytest.raises(RunReadError) as err:
        RunReader(path)
    message = str(err.value)
    assert str(path) in message and problem in message and "\n" not in message


def test_lines_become_typed_records_tolerating_newer_fields():
    from core.runreader import event_record, metrics_record

    raw = {"step": 5, "time": 0.1, "loss_d": 1.0, "loss_g": 2.0, "d_real": 0.5, "d_fake": -0.5,
           "sigma": {"fc1": 1.5}, "a_field_of_a_newer_version": 3}
    rec = metrics_record(raw)
    assert rec.step == 5 and rec.sigma == {"fc1": 1.5} and rec.lip_bound is None
    with pytest.raises(ValueError, match="no loss_g"):
        metrics_record({k: v for k, v in raw.items() if k != "loss_g"})
    ev = event_record({"step": 3, "time": 1.0, "change": {"loss.kind": "hinge"}})
    assert (ev.step, ev.change) == (3, {"loss.kind": "hinge"})
    with pytest.raises(ValueError, match="not an event"):
        event_record({"step": 3})
