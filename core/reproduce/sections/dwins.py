"""Section 6: the forum's "D wins" (BCE without spectral norm: D loss to 0, G loss to 15–25),
on the notebook DCGAN, with a mid-run SN switch and its control run."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from ...overrides import parse_change
from ..render import Finding, figure as new_figure, num, save, source, table
from ..runs import ReportContext, Run

READS = ("dcgan", "dcgan_switch")  # the experiments it reads (reproduce --only)

# "D wins" on a run when on some logged line the D loss is below the first and on some line
# the G loss is above the second.
D_WINS_LOSS_D_BELOW = 0.05
D_WINS_LOSS_G_ABOVE = 10.0
# The forum's claim under SN: both losses stay inside (0, SN_LOSS_LIMIT).
SN_LOSS_LIMIT = 2.0
# Lines averaged on each side of the switch.
AROUND_LINES = 4


def d_wins(min_loss_d: float, max_loss_g: float) -> bool:
    """The criterion of this section's verdict."""
    return min_loss_d < D_WINS_LOSS_D_BELOW and max_loss_g > D_WINS_LOSS_G_ABOVE


@dataclass(frozen=True)
class Outcome:
    """Whether D won in one run without a constraint."""

    label: str          # the text's words ("the notebook's D")
    short: str          # the findings table's words ("notebook D")
    min_loss_d: float
    max_loss_g: float
    lines: int

    @property
    def won(self) -> bool:
        return d_wins(self.min_loss_d, self.max_loss_g)


@dataclass
class DWins:
    steps: int
    switch_step: int | None
    cases: list[tuple[str, list[Run]]]
    outcomes: list[Outcome] = field(default_factory=list)
    sn_range: tuple[float, float, float, float] | None = None  # D min, max, G min, max
    switched: str = ""  # the switch run around the switch
    control: str = ""   # the same seed without the switch, around the same step


def _first_ok(runs: list[Run]) -> Run | None:
    return runs[0] if runs and runs[0].ok else None


def _mean(lines: list[dict], key: str) -> float:
    vals = [m[key] for m in lines if isinstance(m.get(key), (int, float))]
    return statistics.mean(vals) if vals else float("nan")


def _around(run: Run, step: int, what: str) -> str:
    """Means of the lines before and after ``step``, in words ("" without both)."""
    b = [m for m in run.lines if m["step"] <= step][-AROUND_LINES:]
    a = [m for m in run.lines if m["step"] > step][:AROUND_LINES]
    if not b or not a:
        return ""
    return (f"{what}: D loss {_mean(b, 'loss_d'):.3g} -> {_mean(a, 'loss_d'):.3g}, "
            f"G loss {_mean(b, 'loss_g'):.3g} -> {_mean(a, 'loss_g'):.3g}, d_fake "
            f"{_mean(b, 'd_fake'):.3g} -> {_mean(a, 'd_fake'):.3g}, lip_bound "
            f"{_mean(b, 'lip_bound'):.3g} -> {_mean(a, 'lip_bound'):.3g}")


def compute(ctx: ReportContext) -> DWins:
    runs = ctx.runs["dcgan"]
    switch = ctx.runs["dcgan_switch"].get("all", [])
    changes = ctx.sweeps["dcgan_switch"].trials[0].changes
    switch_step = parse_change(changes[0]).step if changes else None
    data = DWins(ctx.steps("dcgan"), switch_step, [
        ("no constraint", runs.get("none", [])),
        ("no constraint, 4x wider D", runs.get("wide", [])),
        ("spectral norm", runs.get("spectral", [])),
        ("weight clipping", runs.get("clip", [])),
        (f"none, SN on after step {switch_step}", switch)])
    for label, short, key in (("the notebook's D", "notebook D", "none"),
                              ("the 4x wider D", "4x wider D", "wide")):
        run = _first_ok(runs.get(key, []))
        if run is not None:
            _, ld = run.series("loss_d")
            _, lg = run.series("loss_g")
            data.outcomes.append(Outcome(label, short, float(ld.min()), float(lg.max()),
                                         len(ld)))
    sn = _first_ok(runs.get("spectral", []))
    if sn is not None:
        _, ld = sn.series("loss_d")
        _, lg = sn.series("loss_g")
        data.sn_range = (ld.min(), ld.max(), lg.min(), lg.max())
    switched, none = _first_ok(switch), _first_ok(runs.get("none", []))
    if switched is not None and switch_step:
        data.switched = _around(switched, switch_step, "with the switch")
        if data.switched and none is not None:  # same seed: identical until the switch
            data.control = _around(none, switch_step, "without it (the same run, no switch)")
    return data


def findings(data: DWins) -> list[Finding]:
    return [Finding(f'"D wins" without SN ({o.short})', "D loss → 0, G loss 15–25",
                    f"D loss min {o.min_loss_d:.3g}, G loss max {o.max_loss_g:.3g}",
                    "reproduces" if o.won else "does not reproduce here")
            for o in data.outcomes]


def text(data: DWins) -> str:
    rows = []
    for name, rs in data.cases:
        r = rs[0] if rs else None
        if r is None or not r.ok:
            rows.append([name] + ["n/a"] * 6)
            continue
        _, ld = r.series("loss_d")
        _, lg = r.series("loss_g")
        rows.append([name, num(ld.min()), num(ld[-1]), num(lg.max()), num(lg[-1]),
                     num(r.final("d_real")), num(r.final("d_fake"))])
    verdicts = [
        f"with {o.label} **reproduced**: the D loss reached {o.min_loss_d:.3g} and the G "
        f"loss {o.max_loss_g:.3g}" if o.won else
        f"with {o.label} **not reproduced here**: over {o.lines} logged lines the D loss "
        f"never went below {o.min_loss_d:.3g} and the G loss never above {o.max_loss_g:.3g}"
        for o in data.outcomes]
    verdict = ("; ".join(verdicts) + " (criterion: D loss < 0.05 and G loss > 10 on some "
               "line)") if verdicts else "n/a"
    sn_text = ""
    if data.sn_range is not None:
        d_lo, d_hi, g_lo, g_hi = data.sn_range
        inside = d_lo > 0 and d_hi < SN_LOSS_LIMIT and g_lo > 0 and g_hi < SN_LOSS_LIMIT
        sn_text = (f"With spectral norm the D loss stayed in [{d_lo:.3g}, {d_hi:.3g}] "
                   f"and the G loss in [{g_lo:.3g}, {g_hi:.3g}]: "
                   + ("inside (0, 2), as the forum says." if inside else
                      "not inside (0, 2) throughout."))
    around = ""
    if data.switched:
        around = (f"Around the switch (means of the 4 lines before and the 4 after step "
                  f"{data.switch_step}), {data.switched}.")
        if data.control:
            around += (f" The control, {data.control}: compare the two before crediting "
                       f"the switch with a change.")
    return f"""
## 6. "D wins": BCE without spectral norm

The forum's question: without SN the BCE D loss goes to 0 and the G loss to 15–25, with SN
both stay in (0, 2). The notebook DCGAN on digits (BatchNorm in D, BCE, Adam 2e-4), {data.steps}
generator steps, losses as logged (means over each line's steps; the BCE D loss is the sum of
its real and fake halves, 2 ln 2 ≈ 1.386 at equilibrium). Without a constraint: {verdict}.

{table(["run", "D loss min", "D loss last", "G loss max", "G loss last", "d_real last",
        "d_fake last"], rows)}

{sn_text} {around}

{source("dcgan/{none,wide,spectral,clip}_seed0/metrics.jsonl", "dcgan_switch/seed0/metrics.jsonl",
        fields="`loss_d`, `loss_g`, `d_real`, `d_fake`, `lip_bound`; the switch is in its "
               "events.jsonl")}
"""


def figure(data: DWins, folder: Path) -> str | None:
    fig, axes = new_figure(2, 1, 4.5, 3.0)
    for name, rs in data.cases:
        if rs and rs[0].ok:
            for ax, key in zip(axes[0], ("loss_d", "loss_g")):
                s, v = rs[0].series(key)
                ax.plot(s, v, lw=0.9, label=name)
    for ax, key in zip(axes[0], ("D loss", "G loss")):
        if data.switch_step:
            ax.axvline(data.switch_step, color="grey", ls=":", lw=0.8)
        ax.set_title(key, fontsize=10)
        ax.set_xlabel("generator step")
        ax.legend(fontsize=7)
    return save(fig, folder / "dwins.png", "D wins")
