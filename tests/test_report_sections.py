"""The reproduction report's verdicts, each on a few hand-made run folders: the criteria are
the sections' named constants, so a verdict flips exactly where its criterion says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core import config as config_mod
from core.reproduce.runs import CONSTRAINTS, ReportContext, Run
from core.reproduce.sections import SECTIONS, coverage, dwins, gp_interp, grey_noise, parzen, \
    robustness, section_name, sigma_sn, sn_lag, spectra, stacked_modes, timing, weights
from core.sweep_spec import Sweep, Trial
from tests.helpers import tiny_2d


def _line(step: int, **fields) -> dict:
    base = {"step": step, "time": 0.1 * step, "loss_d": 1.0, "loss_g": 1.0, "d_real": 0.0,
            "d_fake": 0.0}
    return {**base, **fields}


class Folders:
    """Hand-made run folders: experiment -> variant -> runs, each a list of metrics lines."""

    def __init__(self, root: Path):
        self.root = root
        self.runs: dict[str, dict[str, list[Run]]] = {}
        self.sweeps: dict[str, Sweep] = {}

    def add(self, experiment: str, variant: str | None, lines: list[dict], *, seed: int = 0,
            critic: dict[str, np.ndarray] | None = None, changes: tuple[str, ...] = (),
            **sets) -> Run:
        cfg = tiny_2d(run__steps=max(m["step"] for m in lines), run__seed=seed, **sets)
        name = f"{variant}_seed{seed}" if variant else f"seed{seed}"
        folder = self.root / experiment / name
        folder.mkdir(parents=True)
        config_mod.save(cfg, folder / "config.toml")
        (folder / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in lines))
        if critic is not None:
            (folder / "checkpoints" / "last").mkdir(parents=True)
            torch.save({k: torch.from_numpy(v) for k, v in critic.items()},
                       folder / "checkpoints" / "last" / "D.pt")
        trial = Trial(name, variant, {}, seed, cfg.to_dict(), list(changes))
        sweep = self.sweeps.setdefault(experiment, Sweep(self.root / f"{experiment}.toml",
                                                         self.root, [], []))
        sweep.trials.append(trial)
        run = Run(folder, trial)
        self.runs.setdefault(experiment, {}).setdefault(variant or "all", []).append(run)
        return run

    def context(self) -> ReportContext:
        return ReportContext(self.runs, self.sweeps)


@pytest.fixture
def folders(tmp_path):
    return Folders(tmp_path)


def _verdicts(section, ctx) -> list[str]:
    return [f.verdict for f in section.findings(section.compute(ctx))]


# --------------------------------------------------------------------------- D wins
@pytest.mark.parametrize("min_d,max_g,won", [
    (0.01, 12.0, True),
    (dwins.D_WINS_LOSS_D_BELOW, 20.0, False),   # the D loss must go below, not reach
    (0.001, dwins.D_WINS_LOSS_G_ABOVE, False),  # the G loss must go above
    (0.6, 1.4, False),
])
def test_d_wins_verdict_follows_its_criterion(folders, min_d, max_g, won):
    lines = [_line(10, loss_d=0.9, loss_g=1.0), _line(20, loss_d=min_d, loss_g=max_g),
             _line(30, loss_d=0.7, loss_g=1.0)]
    folders.add("dcgan", "none", lines)
    folders.add("dcgan_switch", None, lines, changes=("15:constraints.spectral.enabled=true",))
    data = dwins.compute(folders.context())
    assert data.switch_step == 15
    (only,) = dwins.findings(data)
    assert only.verdict == ("reproduces" if won else "does not reproduce here")
    # The text states the same verdict, computed once.
    text = dwins.text(data)
    assert ("**reproduced**" in text) == won and ("**not reproduced here**" in text) != won
    assert f"D loss min {min_d:.3g}, G loss max {max_g:.3g}" == only.ours


def test_d_wins_around_the_switch_compares_with_the_control(folders):
    none = [_line(s, loss_d=0.1, loss_g=5.0, lip_bound=100.0) for s in range(5, 45, 5)]
    switched = none[:3] + [_line(s, loss_d=1.2, loss_g=1.0, lip_bound=1.0)
                           for s in range(20, 45, 5)]
    folders.add("dcgan", "none", none)
    folders.add("dcgan_switch", None, switched, changes=("15:constraints.spectral.enabled=true",))
    data = dwins.compute(folders.context())
    assert data.switched.startswith("with the switch: D loss 0.1 -> 1.2, G loss 5 -> 1")
    assert data.control.startswith("without it (the same run, no switch): D loss 0.1 -> 0.1")


# --------------------------------------------------------------------------- GP near 1
@pytest.mark.parametrize("tail,verdict", [
    (1.1, "near 1"), (1.0 + 1.25 * gp_interp.NEAR_ONE, "not near 1"), (0.5, "not near 1")])
def test_gp_interpolates_verdict(folders, tail, verdict):
    lines = [_line(s, lip_grad_mean_interp=3.0 if s < 40 else tail) for s in range(10, 60, 10)]
    folders.add("weights", "gp", lines)
    folders.add("coverage_ring8", "gp", lines)
    folders.add("coverage_grid25", "none", lines)  # no GP runs: no finding for that group
    found = gp_interp.findings(gp_interp.compute(folders.context()))
    assert [f.finding for f in found] == [
        "GP: ‖∇D‖ on interpolates near 1 (Swiss roll, WGAN-GP (section 2))",
        "GP: ‖∇D‖ on interpolates near 1 (ring8, BCE + GP (section 1))"]
    assert found[0].verdict.startswith(verdict)
    assert found[1].verdict == "not the paper's setting (BCE loss): " + found[0].verdict


# --------------------------------------------------------------------------- σ under SN
@pytest.mark.parametrize("worst,ok", [(1.04, True), (1.0 + sigma_sn.MAX_DEVIATION, False),
                                      (0.9, False)])
def test_sigma_under_sn_verdict(folders, worst, ok):
    folders.add("dcgan", "spectral", [_line(10, sigma={"a": 1.0, "b": 0.99}),
                                      _line(20, sigma={"a": worst, "b": 1.0})])
    folders.add("coverage_ring8", "spectral", [_line(10, sigma={"fc1": 1.2})])
    data = sigma_sn.compute(folders.context())
    assert data.mlp == [1.2]
    (only,) = sigma_sn.findings(data)
    assert only.verdict == ("reproduces" if ok else
                            "does not reproduce (criterion: within 5 % of 1)")


# --------------------------------------------------------------------------- SN lag
def _lag_run(folders, experiment, variant, sigmas, bound=1.0):
    folders.add(experiment, variant, [_line(10 * (i + 1), sigma=dict(s), lip_bound=bound)
                                      for i, s in enumerate(sigmas)])


def test_sn_lag_reads_the_largest_sigma_and_the_share_of_lagging_lines(folders):
    _lag_run(folders, "sn_lag_ring8", "iters1", [{"fc1": 1.0, "fc2": 1.5},
                                                 {"fc1": 1.03, "fc2": 1.01},
                                                 {"fc1": 1.0, "fc2": 1.0}], bound=2.0)
    data = sn_lag.compute(folders.context())
    assert data.steps == {"ring8": 30}  # no DCGAN sweep here: no DCGAN rows
    lag = data.stats["ring8"]["iters1"]
    assert lag.layers["fc2"].top == 1.5 and lag.layers["fc1"].top == 1.03
    assert lag.layers["fc1"].lagging == pytest.approx(1 / 3)  # above LAG_LEVEL = 1.02
    assert lag.layers["fc2"].lagging == pytest.approx(1 / 3)
    assert lag.top == 1.5 and lag.low == 1.0 and lag.bound_top == 2.0
    assert lag.steps == [10, 20, 30] and lag.worst == [1.5, 1.03, 1.0]


@pytest.mark.parametrize("one,three,exact,verdicts", [
    (1.0 + sn_lag.HOLDS_TOLERANCE + 0.01, 1.03, 1.0 + sn_lag.EXACT_TOLERANCE / 2,
     ["does not reproduce", "confirmed", "confirmed"]),
    (1.0 + sn_lag.HOLDS_TOLERANCE, 1.06, 1.0 + 2 * sn_lag.EXACT_TOLERANCE,
     ["reproduces", "not confirmed", "not confirmed"]),   # 3 iterations lagged more than 1
])
def test_sn_lag_verdicts_follow_their_criteria(folders, one, three, exact, verdicts):
    _lag_run(folders, "sn_lag_ring8", "iters1", [{"fc1": 1.0}, {"fc1": one}])
    _lag_run(folders, "sn_lag_ring8", "iters3", [{"fc1": three}])
    _lag_run(folders, "sn_lag_ring8", "exact", [{"fc1": exact}])
    holds, exact_finding, more = sn_lag.findings(sn_lag.compute(folders.context()))
    assert [f.verdict.split(" (")[0] for f in (holds, exact_finding, more)] == verdicts
    assert holds.ours == f"max σ ring8: {one:.3f}"
    if verdicts[0] != "reproduces":
        assert holds.verdict == ("does not reproduce (criterion: every σ within 5% of 1): "
                                 "the power iteration lags")


def test_sn_lag_table_has_a_row_per_layer_and_the_bound(folders, tmp_path):
    for variant, fc1 in (("iters1", 1.2), ("iters3", 1.1), ("exact", 1.0)):
        _lag_run(folders, "sn_lag_ring8", variant, [{"fc1": fc1, "out": 1.0}])
    data = sn_lag.compute(folders.context())
    md = sn_lag.text(data)
    assert md.strip().startswith("## 8. SN lag")
    assert [line for line in md.splitlines() if line.startswith("| ring8")] == [
        "| ring8 | fc1 | 1.2000 (100 %) | 1.1000 (100 %) | 1.0000 (0 %) |",
        "| ring8 | out | 1.0000 (0 %) | 1.0000 (0 %) | 1.0000 (0 %) |",
        "| ring8 | lip_bound max | 1 | 1 | 1 |"]
    assert sn_lag.figure(data, tmp_path) == "![SN lag](sn_lag.png)"
    assert (tmp_path / "sn_lag.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sn_lag.figure(sn_lag.SNLag({}, {}), tmp_path) is None


# --------------------------------------------------------------------------- clipping piles
@pytest.mark.parametrize("clipped_share,gp_edge,ok", [(0.5, False, True), (0.2, False, False),
                                                       (0.5, True, False)])
def test_weights_pile_verdict(folders, clipped_share, gp_edge, ok):
    rng = np.random.default_rng(0)
    c = 0.01
    clip_w = rng.uniform(-c / 2, c / 2, size=(10, 10))
    clip_w.flat[: int(100 * clipped_share)] = c
    gp_w = rng.uniform(-1, 1, size=(10, 10))
    if gp_edge:  # a tenth of the GP critic's weights at the ends of its range
        gp_w.flat[:10] = 1.0
    folders.add("weights", "clip", [_line(10, sigma={"fc1": 1.0}, clip_share={"fc1": 0.9}),
                                    _line(20, sigma={"fc1": 1.0},
                                          clip_share={"fc1": clipped_share})],
                critic={"fc1.weight": clip_w}, constraints__clip__enabled=True,
                constraints__clip__c=c)
    folders.add("weights", "gp", [_line(20, sigma={"fc1": 3.0})], critic={"fc1.weight": gp_w})
    (only,) = weights.findings(weights.compute(folders.context()))
    assert only.verdict == ("reproduces" if ok else
                            "does not reproduce (criterion: > 25 % / < 5 %)")


# --------------------------------------------------------------------------- spectra
def test_spectra_verdict_compares_stable_ranks(folders):
    flat = np.diag([1.0] * 8)                 # stable rank 8
    peaked = np.diag([1.0] + [0.1] * 7)       # stable rank 1.07
    for variant, w in (("clip", peaked), ("spectral", flat)):
        folders.add("dcgan", variant, [_line(10, sigma={"l": 1.0})], critic={"l.weight": w})
    data = spectra.compute(folders.context())
    (only,) = spectra.findings(data)
    assert only.verdict == "reproduces"
    assert data.rows == [["l", "1", "1.07", "1 / 8", "1", "8.00", "8 / 8"]]
    # The other way round the criterion fails.
    assert data.mean_stable_rank("clip") < spectra.STABLE_RANK_RATIO * data.mean_stable_rank(
        "spectral")


# --------------------------------------------------------------------------- timing
def _timed(ms: float, constraint: float = 0.0) -> list[dict]:
    split = {"data": 0.0, "d_step": ms - constraint, "g_step": 0.0, "constraint": constraint,
             "probe": 99.0}
    return [_line(10, time_split_ms=split), _line(20, time_split_ms=split)]


@pytest.mark.parametrize("spectral_ms,verdict", [
    (11.0, "agrees"), (15.0, "differs (criterion: DCGAN ratio within 0.15)"),
    (8.0, "not measurable in this run (see section 7)")])
def test_timing_verdict(folders, spectral_ms, verdict):
    for exp in ("timing", "coverage_ring8"):
        folders.add(exp, "none", _timed(10.0))
        folders.add(exp, "spectral", _timed(spectral_ms, constraint=1.0))
        folders.add(exp, "gp", _timed(14.0, constraint=2.0))
    data = timing.compute(folders.context())
    assert data.dcgan["spectral"] == spectral_ms  # the probe phase is not training time
    assert data.within["spectral"] == pytest.approx(spectral_ms / (spectral_ms - 1.0))
    spectral_finding, gp_finding = timing.findings(data)
    assert spectral_finding.verdict == verdict
    assert gp_finding.verdict == ("not measurable in this run (see section 7)"
                                  if spectral_ms < 10 * timing.UNRELIABLE_BELOW else "agrees")


# --------------------------------------------------------------------------- coverage
def test_coverage_findings_and_flat_critics(folders):
    for ds in ("ring8", "grid25"):
        for v in CONSTRAINTS:
            for seed in (0, 1):
                folders.add(f"coverage_{ds}", v, [_line(10, modes=4 + seed, hq=0.5,
                                                        lip_grad=0.01 if v == "clip" else 1.0)],
                            seed=seed)
    data = coverage.compute(folders.context())
    assert data.flat() == ["clip"]
    found = coverage.findings(data)
    assert [f.ours for f in found] == ["4.5 modes, 50.0 % hq"] * 2
    assert "With clip the critic ends up nearly flat on ring8" in coverage.text(data)


def test_every_section_has_the_four_steps():
    from core.reproduce import EXPERIMENTS

    experiments = {e.name for e in EXPERIMENTS}
    for section in SECTIONS:
        for step in ("compute", "findings", "text"):
            assert callable(getattr(section, step)), (section.__name__, step)
        # reproduce --only runs what READS names; every experiment is read by some section
        assert section.READS and set(section.READS) <= experiments, section.__name__
    assert set().union(*(s.READS for s in SECTIONS)) == experiments


def test_sections_are_numbered_in_report_order():
    # --only merges a section into an existing report by its heading's number
    import inspect
    import re

    numbers = [int(n) for section in SECTIONS
               for n in re.findall(r"^## (\d+)\. ", inspect.getsource(section.text), re.M)]
    assert numbers == list(range(1, len(SECTIONS) + 1)), [section_name(s) for s in SECTIONS]


# --------------------------------------------------------------------------- image sections
FLOOR, CEILING = 1.0, 2001.0  # fd level at 10 %: 201


def _quality(step: int, fd: float, classes: float = 10, **fields) -> dict:
    return _line(step, fd=fd, classes=classes, quality_floor={"fd": FLOOR, "parzen_ll": 800.0},
                 quality_ceiling={"fd": CEILING, "parzen_ll": -600.0}, **fields)


def _descent(reach: int | None, horizon: int = 1000, every: int = 100, key_at=None):
    """Quality lines whose fd falls below the 10 % level (201) first at ``reach`` (never for
    None) and whose classes reach 10 at the same step."""
    out = []
    for step in range(every, horizon + 1, every):
        done = reach is not None and step >= reach
        out.append(_quality(step, 150.0 if done else 900.0, 10 if done else 6,
                            **(key_at(step, done) if key_at else {})))
    return out


def test_grey_noise_level_is_from_each_runs_floor_and_ceiling(folders):
    at_level = FLOOR + grey_noise.FD_LEVEL_SHARE * (CEILING - FLOOR)
    run = folders.add("grey_noise", "none", [_quality(100, at_level + 0.01),
                                              _quality(200, at_level), _quality(300, 1.0)])
    assert grey_noise.fd_level(run) == pytest.approx(201.0)
    assert grey_noise.left_grey_noise(run) == 200  # at the level counts, just above does not


@pytest.mark.parametrize("none,sn,outcome", [
    ((300, 300, 300), (600, 500, 700), "SN later"),               # 2x later
    ((300, 300, 300), (400, 400, 400), "about the same"),          # 1.33x: below LATER_RATIO
    ((600, 600, 600), (300, 300, 300), "SN earlier"),
    ((300, 300, 300), (None, None, None), "SN later"),             # > 1000 against 300
    ((500, None, 500), (600, 600, 600), "undetermined (runs that never got there leave the "
                                        "ratio open)"),
    ((None, None, None), (None, None, None), "neither reached it within 1000 steps"),
])
def test_grey_noise_verdict_follows_its_ratio(folders, none, sn, outcome):
    for seed, (a, b) in enumerate(zip(none, sn)):
        folders.add("grey_noise", "none", _descent(a), seed=seed)
        folders.add("grey_noise", "spectral", _descent(b), seed=seed)
    data = grey_noise.compute(folders.context())
    assert data.outcome(data.fd) == outcome == data.outcome(data.classes)
    fd_row, classes_row = grey_noise.findings(data)
    assert fd_row.verdict == grey_noise.verdict(outcome)
    assert fd_row.verdict == (f"does not reproduce here: {outcome}" if outcome in
                              ("SN earlier", "about the same") else
                              "reproduces (SN later)" if outcome == "SN later" else outcome)
    assert f"fd: **{outcome}**" in grey_noise.text(data)


def test_grey_noise_medians_count_runs_that_never_got_there_as_later():
    assert grey_noise.Censored((300, 500, None), 1000).median() == "500"
    assert grey_noise.Censored((300, None, None), 1000).median() == "> 1000"
    assert grey_noise.Censored((300, 400, 500, None), 1000).median() == "450"
    assert grey_noise.Censored((), 1000).median() == "n/a"


def test_grey_noise_cells_are_mean_sd_over_the_runs_that_got_there():
    cens = grey_noise.Censored((300, 500, None), 1000)
    assert cens.cell() == "400 ± 141 (2 of 3)"
    assert cens.per_run() == "300, 500, > 1000"
    assert cens.bounds() == (600, np.inf)
    assert grey_noise.Censored((None,), 6).cell() == "> 6 (0 of 1)"


def test_parzen_rank_correlation_against_numpy_ranks():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=40), rng.normal(size=40)
    y[:5] = y[5]  # ties: average ranks
    def ranks(v):
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(1, len(v) + 1)
        for u in np.unique(v):  # ties share their mean rank
            r[v == u] = r[v == u].mean()
        return r
    want = np.corrcoef(ranks(x), ranks(y))[0, 1]
    assert parzen.spearman(list(x), list(y)) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("slope,verdict", [
    (-1.0, "does not reproduce: the estimate tracks quality"),   # fd down, likelihood up
    (1.0, "reproduces, more strongly: the estimate moves against quality"),
    (0.0, "reproduces (largely independent)"),
])
def test_parzen_verdict_follows_the_correlation_past_grey_noise(folders, slope, verdict):
    rng = np.random.default_rng(1)
    for seed in range(2):
        lines = []
        for i, step in enumerate(range(100, 1100, 100)):
            fd = 900.0 if step < 300 else 200.0 - 10 * i  # past grey noise from step 300
            noise = rng.normal() * 50 if slope == 0 else 0.0
            lines.append(_quality(step, fd, parzen_ll=slope * fd + noise, parzen_sigma=0.2))
        folders.add("grey_noise", "none", lines, seed=seed)
    data = parzen.compute(folders.context())
    assert len(data.good) == 16 and len(data.pairs) == 20
    if slope == 0:  # with noise only: whatever rho came out, the verdict applies the criterion
        rho = data.rho_good
        assert abs(rho) < parzen.INDEPENDENT_BELOW
    (only,) = parzen.findings(data)
    assert only.verdict == verdict
    assert (data.floor, data.ceiling) == (800.0, -600.0)


def test_parzen_needs_enough_lines_past_grey_noise(folders):
    lines = [_quality(s, 150.0, parzen_ll=-float(s), parzen_sigma=0.2)
             for s in range(100, 800, 100)]
    folders.add("grey_noise", "spectral", lines)
    data = parzen.compute(folders.context())
    assert len(data.good) == parzen.MIN_LINES - 1
    assert parzen.findings(data)[0].verdict.startswith("not measurable")


def _stacked(folders, variant, modes, kl, seed=0, counted=None, final=26_000, fd=50.0):
    last = _line(1000, fd=fd, modes=modes, mode_kl=kl,
                 modes_n=final if counted is None else counted,
                 quality_floor={"fd": FLOOR}, quality_ceiling={"fd": CEILING})
    return folders.add("stacked_modes", variant, [_line(500, fd=90.0, modes=300, modes_n=500),
                                                   last], seed=seed,
                       quality__final_mode_samples=final)


@pytest.mark.parametrize("modes,agrees", [
    (stacked_modes.PUBLISHED_MODES / stacked_modes.ORDER_FACTOR, True),
    (stacked_modes.PUBLISHED_MODES / stacked_modes.ORDER_FACTOR - 0.5, False),
    (stacked_modes.PUBLISHED_MODES * stacked_modes.ORDER_FACTOR, True),
    (stacked_modes.PUBLISHED_MODES * stacked_modes.ORDER_FACTOR + 1, False)])
def test_stacked_modes_verdict_is_an_order_of_magnitude(folders, modes, agrees):
    _stacked(folders, "none", modes - 1, 3.0, seed=0)
    _stacked(folders, "none", modes + 1, 4.0, seed=1)
    data = stacked_modes.compute(folders.context())
    (only,) = stacked_modes.findings(data)
    assert only.verdict == ("same order of magnitude" if agrees else
                            "does not reproduce (criterion: within 3x of 99)")
    assert only.ours.startswith(f"{modes:.1f} ± 1.4 modes, KL 3.50 ± 0.71")


def test_stacked_modes_gives_no_verdict_while_the_unconstrained_runs_are_grey_noise(folders):
    """Runs whose last fd is above section 9's level (201 here) have no modes to count yet:
    1 mode of 1,000 then says nothing about mode collapse."""
    _stacked(folders, "none", 1, 6.9, seed=0, fd=900.0)
    _stacked(folders, "none", 1, 6.9, seed=1, fd=150.0)
    _stacked(folders, "wgan_gp", 60, 4.0, seed=0, fd=150.0)
    data = stacked_modes.compute(folders.context())
    assert data.left_grey_noise("none") == [False, True] and not data.trained("none")
    (only,) = stacked_modes.findings(data)
    assert only.verdict.startswith("not measurable: too few steps")
    text = stacked_modes.text(data)
    assert "| ours: no constraint (BCE) | 1.0 ± 0.0 | 6.90 ± 0.00 | 525 ± 530 | 1 of 2 | 2 of 2 |" \
        in text
    assert "(fd ≤ 201 here)" in text and f"**{only.verdict}**" in text


def test_stacked_modes_reads_only_the_last_lines_final_count(folders):
    _stacked(folders, "none", 120, 3.0, seed=0)
    _stacked(folders, "none", 500, 3.0, seed=1, counted=500)   # stopped before its final count
    _stacked(folders, "spectral", 90, 3.0, seed=0, final=1000)  # a --quick count of 1,000
    data = stacked_modes.compute(folders.context())
    assert data.finals("none", "modes") == [120.0]
    assert data.finals("spectral", "modes") == [90.0]
    assert data.counts() == [1000, 26_000]
    text = stacked_modes.text(data)
    assert "| ours: no constraint (BCE) | 120.0 | 3.00 | 50 ± 0 | 2 of 2 | 1 of 2 |" in text
    assert "on 1,000 / 26,000 samples" in text


def _robust_cell(folders, setting, constraint, fd, *, experiment="robustness", steps=800,
                 loss_d=1.0, loss_g=1.0, seed=0):
    lines = [_quality(s, 900.0 if s < steps else fd, loss_d=loss_d, loss_g=loss_g)
             for s in range(200, steps + 1, 200)]
    variant = constraint if experiment == "grey_noise" else f"{setting}_{constraint}"
    return folders.add(experiment, variant, lines, seed=seed)


def _robustness(folders, failing: dict[str, set[str]], c_none_fd=100.0, **cell):
    for s in robustness.SETTINGS:
        for c in robustness.CONSTRAINTS:
            fd = 500.0 if s in failing.get(c, ()) else 100.0
            if (s, c) in robustness.FROM_GREY_NOISE:
                # section 9's runs are longer: their step 800 line is read
                fd = c_none_fd if c == "none" else fd
                lines = [_quality(st, 900.0 if st < 800 else fd if st == 800 else 5.0)
                         for st in range(200, 2001, 200)]
                folders.add("grey_noise", c, lines)
                folders.add("grey_noise", c, [_quality(800, 900.0)], seed=1)  # not read
            else:
                _robust_cell(folders, s, c, fd, **cell)
    return robustness.compute(folders.context())


@pytest.mark.parametrize("failing,verdict", [
    ({"wgan_gp": {"D", "E"}}, "reproduces"),
    ({"wgan_gp": {"D", "E", "F"}, "spectral": {"F"}}, "does not reproduce (criterion: WGAN-GP "
                                                      "fails at >= 2 of D-F, SN at none)"),
    ({"wgan_gp": {"F"}}, "does not reproduce (criterion: WGAN-GP fails at >= 2 of D-F, SN at "
                         "none)"),
    ({"wgan_gp": {"A", "B", "C"}}, "does not reproduce (criterion: WGAN-GP fails at >= 2 of "
                                   "D-F, SN at none)"),
])
def test_robustness_verdict_follows_its_criterion(folders, failing, verdict):
    data = _robustness(folders, failing)
    assert data.cells["C", "none"].fd == 100.0  # section 9's seed 0 at robustness' step 800
    gp_row = robustness.findings(data)[0]
    assert gp_row.verdict == verdict
    assert f"**{verdict}**" in robustness.text(data)


def test_robustness_gives_no_verdict_when_the_notebook_setting_did_not_train(folders, tmp_path):
    data = _robustness(folders, {"wgan_gp": {"D", "E"}}, c_none_fd=500.0)
    assert robustness.findings(data)[0].verdict.startswith("not measurable: too few steps")
    # ... but says what the short runs show at D-F
    text = robustness.text(data)
    assert ("runs that left grey noise: no constraint 3 of 3 (D, E, F); spectral norm 3 of 3 "
            "(D, E, F); WGAN-GP 1 of 3 (F); clipping 3 of 3 (D, E, F).") in text
    assert "spectral norm left grey noise at more of the high learning rates" in text
    data = _robustness(Folders(tmp_path / "b"), {"spectral": {"D", "E", "F"}},
                       c_none_fd=500.0)
    assert "WGAN-GP did at least as well as spectral norm" in robustness.text(data)
    data = _robustness(Folders(tmp_path / "c"), {})  # trained: the verdict, no such paragraph
    assert "steps do show" not in robustness.text(data)


def test_robustness_marks_a_diverged_run_failed(folders):
    data = _robustness(folders, {})
    run = data.cells["D", "wgan_gp"].run
    (run.folder.parent / "summary.csv").write_text(
        "name,variant,status\n" + f"{run.trial.name},D_wgan_gp,diverged\n")
    run.lines = run.lines[:2]  # it stopped at step 400
    cell = robustness._cell(run, 800, False)
    assert cell.failed and cell.text() == "diverged at step 400"


def test_robustness_d_wins_uses_section_6s_criterion(folders):
    data = _robustness(folders, {}, loss_d=dwins.D_WINS_LOSS_D_BELOW / 2,
                       loss_g=dwins.D_WINS_LOSS_G_ABOVE + 1)
    d_wins = robustness.findings(data)[1]
    assert d_wins.verdict == "reproduces at D, E, F"
    # every setting in the text (setting C's runs are section 9's, whose lines here log no
    # losses)
    assert ("D wins by that criterion, at every setting: no constraint at A, B, D, E, F; "
            "spectral norm at A, B, D, E, F.") in robustness.text(data)


# --------------------------------------------------------------------------- --only's merge
def _report(blocks, header="# Reproduction report\n\nGenerated by ... (full mode).\n"):
    from core.reproduce.merge import Block, Report

    return Report(header, [Block(name, f"## {n}. {name}\n\nbody of {name} {version}\n", rows)
                           for n, name, version, rows in blocks])


def test_merge_rewrites_the_named_sections_in_place_and_keeps_every_other_byte():
    from core.reproduce.merge import Block, parse
    from core.reproduce.render import table

    rows = lambda name, v: [[f"{name} finding", "paper", f"ours {v}", "reproduces"]]  # noqa: E731
    old = _report([(1, "coverage", "v1", rows("coverage", 1)), (9, "grey_noise", "v1",
                   rows("grey_noise", 1)), (12, "robustness", "v1", rows("robustness", 1))])
    text = old.text(table)
    assert parse(text).text(table) == text  # the round trip is exact
    new = Block("grey_noise", "## 9. grey_noise\n\nbody of grey_noise v2\n",
                rows("grey_noise", 2))
    merged = parse(text).merged([new]).text(table)
    assert merged == text.replace("grey_noise v1", "grey_noise v2").replace(
        'grey_noise finding", "paper", "ours 1"', 'grey_noise finding", "paper", "ours 2"').replace(
        "| grey_noise finding | paper | ours 1 |", "| grey_noise finding | paper | ours 2 |")
    # a section the report did not have yet goes where its number puts it
    parzen = Block("parzen", "## 10. parzen\n\nnew\n", rows("parzen", 1))
    names = [b.name for b in parse(merged).merged([parzen]).blocks]
    assert names == ["coverage", "grey_noise", "parzen", "robustness"]


def test_merge_keeps_a_report_written_before_the_markers():
    from core.reproduce.merge import Block, parse
    from core.reproduce.render import table

    legacy = ("# Reproduction report\n\nfull mode\n\n## 1. Mode coverage\n\nold one\n\n"
              "## 6. D wins\n\nold six\n\n## Findings at a glance\n\nintro\n\n"
              "| finding | published | ours | verdict |\n|---|---|---|---|\n"
              "| coverage | a | b | reproduces |\n| D wins | c | d | does not |\n")
    report = parse(legacy)
    assert [b.name for b in report.blocks] == [None, None] and report.mode == "full"
    six = Block("dwins", "## 6. D wins\n\nnew six\n", [["D wins", "c", "e", "reproduces"]])
    text = report.merged([six]).text(table)
    assert "old one" in text and "old six" not in text and "new six" in text
    assert "| coverage | a | b | reproduces |" in text and "| D wins | c | e | reproduces |" in text
    assert "| D wins | c | d | does not |" not in text


@pytest.mark.parametrize("text,message", [
    ("# no findings\n\n## 1. x\n", "has no '## Findings at a glance' section"),
    ("# r\n\nno sections here\n\n## Findings at a glance\n", "has no sections"),
    ('# r\n\n<!-- section: x {"nope": 1} -->\n## 1. x\n\n## Findings at a glance\n',
     "the marker of section 'x' is damaged (line 3)"),
])
def test_merge_refuses_a_file_it_cannot_read_in_one_line(text, message):
    from core.reproduce.merge import ReportMergeError, parse

    with pytest.raises(ReportMergeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text, "R.md")


def test_merge_marker_survives_double_dashes_in_findings():
    from core.reproduce.merge import Block, parse
    from core.reproduce.render import table

    report = _report([(3, "spectra", "v1", [["a -- b", "--", "x", "y"]])])
    text = report.text(table)
    comment = text.split("<!-- ", 1)[1].split(" -->", 1)[0]
    assert "--" not in comment  # "--" may not appear inside an HTML comment
    assert parse(text).blocks[0].findings == [["a -- b", "--", "x", "y"]]


def test_quick_modes_count_stacked_modes_on_few_samples_and_full_mode_on_26000():
    from core.reproduce import load_experiments

    for mode, count in (("full", 26_000), ("quick", 500), ("tiny", 500)):
        loaded = dict((e.name, s) for e, s in load_experiments(
            mode, names=["stacked_modes", "grey_noise"]))
        stacked, grey = loaded["stacked_modes"], loaded["grey_noise"]
        assert {t.config["quality"]["final_mode_samples"] for t in stacked.trials} == {count}
        assert all(t.config["quality"]["parzen"] for t in grey.trials)  # section 10 reads it
    full = dict((e.name, s) for e, s in load_experiments("full"))
    assert {t.seed for t in full["grey_noise"].trials} == set(range(5))
    assert {t.seed for t in full["stacked_modes"].trials} == set(range(3))
    # setting C's no-constraint and SN runs are section 9's, not repeated in robustness
    assert {t.variant for t in full["robustness"].trials} == {
        f"{s}_{c}" for s in robustness.SETTINGS for c in robustness.CONSTRAINTS} - {
        f"{s}_{c}" for s, c in robustness.FROM_GREY_NOISE}
    for trial in full["robustness"].trials:  # each variant has its setting's optimizer
        lr, b1, b2, n_dis = robustness.SETTINGS[trial.variant[0]]
        optim = trial.config["optim"]
        assert (optim["lr_g"], optim["lr_d"], optim["beta1"], optim["beta2"],
                optim["n_critic"]) == (lr, lr, b1, b2, n_dis), trial.variant
