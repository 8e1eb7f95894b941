"""Section 12: SN-GAN's robustness table (Miyato et al. 2018, Table 1 and Fig. 1) on our
DCGAN: the six optimizer settings A-F for four discriminators, final ``fd`` and ``classes``;
and "D wins" revisited under the high learning rates D-F."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from ..image_runs import cut, status, value_at
from ..render import Finding, figure as new_figure, num, save, source, table
from ..runs import ReportContext, Run
from .dwins import D_WINS_LOSS_D_BELOW, D_WINS_LOSS_G_ABOVE, d_wins
from .grey_noise import FD_LEVEL_SHARE, fd_level

READS = ("robustness", "grey_noise")  # the experiments it reads (reproduce --only)

# SN-GAN Table 1: learning rate (G and D), Adam's beta1 and beta2, D updates per G update.
SETTINGS = {"A": (1e-4, 0.5, 0.9, 5), "B": (1e-4, 0.5, 0.999, 1), "C": (2e-4, 0.5, 0.999, 1),
            "D": (1e-3, 0.5, 0.9, 5), "E": (1e-3, 0.5, 0.999, 5), "F": (1e-3, 0.9, 0.999, 5)}
CONSTRAINTS = {"none": "no constraint", "spectral": "spectral norm", "wgan_gp": "WGAN-GP",
               "clip": "clipping"}
HIGH_LR = ("D", "E", "F")
# Setting C is the notebook's optimizer: its "none" and "spectral" runs are section 9's seed 0.
FROM_GREY_NOISE = {("C", "none"), ("C", "spectral")}
# A run *fails* when it diverged or its last fd is above section 9's grey-noise level (fd not
# 90 % of the way from the ceiling to the floor). The paper's finding holds here when WGAN-GP
# fails at FAILS_AT_LEAST of D-F and spectral norm at none of them.
FAILS_AT_LEAST = 2
# The verdict needs runs long enough to train at all: the notebook's own setting without a
# constraint (this cell) must have left grey noise, else every cell "fails" for want of steps
# (as in --quick) and no verdict is given.
TRAINED_CELL = ("C", "none")
# SN-GAN's finding per setting (Table 1 / Fig. 1, CIFAR-10 and STL-10), beside our row.
PUBLISHED = {"A": "—", "B": "—", "C": "—", "D": "WGAN-GP fails, SN good",
             "E": "WGAN-GP fails, SN good", "F": "WGAN-GP fails, SN good"}


@dataclass
class Cell:
    """One setting x discriminator run at the section's last step."""

    run: Run | None
    fd: float | None = None
    classes: float | None = None
    level: float | None = None
    stopped: str = ""          # "diverged at step N" (or unfinished) when it did not get there
    min_loss_d: float = math.nan
    max_loss_g: float = math.nan

    @property
    def failed(self) -> bool:
        return bool(self.stopped) or self.fd is None or self.level is None or \
            self.fd > self.level

    def text(self) -> str:
        if self.run is None:
            return "n/a"
        if self.stopped:
            return self.stopped
        mark = " ✗" if self.failed else ""
        return f"{num(self.fd, '{:.0f}')} ({num(self.classes, '{:.0f}')}){mark}"


def _cell(run: Run | None, steps: int, from_longer: bool) -> Cell:
    if run is None or not run.ok:
        return Cell(None)
    if from_longer:
        run = cut(run, steps)
    cell = Cell(run, value_at(run, "fd", steps), value_at(run, "classes", steps), fd_level(run))
    last = run.lines[-1]["step"] if run.lines else 0
    if last < steps:
        state = status(run)
        cell.stopped = f"{state or 'stopped'} at step {last}"
    _, ld = run.series("loss_d")
    _, lg = run.series("loss_g")
    if len(ld) and len(lg):
        cell.min_loss_d, cell.max_loss_g = float(ld.min()), float(lg.max())
    return cell


@dataclass
class Robustness:
    steps: int
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def failing(self, constraint: str, settings=HIGH_LR) -> list[str]:
        return [s for s in settings if (s, constraint) in self.cells
                and self.cells[s, constraint].run is not None
                and self.cells[s, constraint].failed]

    def measured(self, constraint: str, settings=HIGH_LR) -> list[str]:
        return [s for s in settings if (s, constraint) in self.cells
                and self.cells[s, constraint].run is not None]


def compute(ctx: ReportContext) -> Robustness:
    steps = ctx.steps("robustness")
    data = Robustness(steps)
    grey = ctx.runs.get("grey_noise", {})
    for s in SETTINGS:
        for c in CONSTRAINTS:
            if (s, c) in FROM_GREY_NOISE:
                runs = [r for r in grey.get(c, []) if r.trial.seed == 0]
                data.cells[s, c] = _cell(runs[0] if runs else None, steps, True)
            else:
                runs = ctx.runs["robustness"].get(f"{s}_{c}", [])
                data.cells[s, c] = _cell(runs[0] if runs else None, steps, False)
    return data


def paper_holds(data: Robustness) -> bool:
    return (len(data.failing("wgan_gp")) >= FAILS_AT_LEAST and not data.failing("spectral")
            and len(data.measured("spectral")) == len(HIGH_LR))


def trained(data: Robustness) -> bool:
    """Whether the runs were long enough to judge (TRAINED_CELL left grey noise)."""
    cell = data.cells.get(TRAINED_CELL)
    return cell is not None and cell.run is not None and not cell.failed


def verdict(data: Robustness) -> str:
    if not trained(data):
        return (f"not measurable: too few steps (setting {TRAINED_CELL[0]} without a "
                f"constraint did not leave grey noise either)")
    return ("reproduces" if paper_holds(data) else
            f"does not reproduce (criterion: WGAN-GP fails at >= {FAILS_AT_LEAST} of D-F, "
            f"SN at none)")


def observed(data: Robustness) -> str:
    """What the runs show at D-F when they are too short for the verdict: which
    discriminators left grey noise there, and how WGAN-GP compares with SN."""
    if trained(data):
        return ""
    def passed(c: str) -> list[str]:
        return [s for s in data.measured(c) if not data.cells[s, c].failed]
    parts = [f"{CONSTRAINTS[c]} {len(passed(c))} of {len(data.measured(c))}"
             + (f" ({', '.join(passed(c))})" if passed(c) else "")
             for c in CONSTRAINTS if data.measured(c)]
    if not parts:
        return ""
    gp, sn = passed("wgan_gp"), passed("spectral")
    order = ""
    if data.measured("wgan_gp") and data.measured("spectral"):
        order = (" Within these steps WGAN-GP did at least as well as spectral norm at the high "
                 "learning rates; whether it fails later, as over the paper's 100,000 steps, "
                 "these runs cannot tell." if len(gp) >= len(sn) else
                 " Within these steps spectral norm left grey noise at more of the high "
                 "learning rates than WGAN-GP.")
    return (f"What {data.steps} steps do show at D-F: runs that left grey noise: "
            f"{'; '.join(parts)}.{order}")


def findings(data: Robustness) -> list[Finding]:
    found = []
    if data.measured("wgan_gp") and data.measured("spectral"):
        ours = (f"fails at D-F: WGAN-GP {', '.join(data.failing('wgan_gp')) or 'none'}; "
                f"SN {', '.join(data.failing('spectral')) or 'none'}")
        found.append(Finding("WGAN-GP fails at high learning rates (D-F), SN stays robust "
                             "(SN-GAN Table 1 / Fig. 1)", "WGAN-GP fails at D-F; SN does not",
                             ours, verdict(data)))
    won = won_at(data, "none", HIGH_LR)
    tried = [s for s in HIGH_LR if (s, "none") in data.cells
             and data.cells[s, "none"].run is not None]
    if tried:
        extremes = "; ".join(f"{s} {data.cells[s, 'none'].min_loss_d:.3g} / "
                             f"{data.cells[s, 'none'].max_loss_g:.3g}" for s in tried)
        found.append(Finding('"D wins" without a constraint at high learning rates (D-F)',
                             "D loss → 0, G loss 15–25",
                             f"D loss min / G loss max: {extremes}",
                             f"reproduces at {', '.join(won)}" if won else
                             "does not reproduce here"))
    return found


def won_at(data: Robustness, constraint: str, settings=tuple(SETTINGS)) -> list[str]:
    """The settings where ``constraint``'s run meets section 6's "D wins" criterion."""
    return [s for s in settings if (s, constraint) in data.cells
            and data.cells[s, constraint].run is not None
            and d_wins(data.cells[s, constraint].min_loss_d, data.cells[s, constraint].max_loss_g)]


def _setting(s: str) -> str:
    lr, b1, b2, nd = SETTINGS[s]
    return f"{s}: {lr:g}, {b1:g}, {b2:g}, {nd}"


def text(data: Robustness) -> str:
    rows = [[_setting(s)] + [data.cells[s, c].text() for c in CONSTRAINTS] + [PUBLISHED[s]]
            for s in SETTINGS]
    loss_rows = [[_setting(s)] + [f"{num(data.cells[s, c].min_loss_d)} / "
                                  f"{num(data.cells[s, c].max_loss_g)}"
                                  if data.cells[s, c].run is not None else "n/a"
                                  for c in ("none", "spectral")] for s in SETTINGS]
    won_text = "; ".join(f"{CONSTRAINTS[c]} at {', '.join(won_at(data, c)) or 'none'}"
                         for c in ("none", "spectral"))
    fails = {c: data.failing(c) for c in CONSTRAINTS}
    fail_text = "; ".join(f"{CONSTRAINTS[c]}: {', '.join(v) or 'none'}"
                          for c, v in fails.items())
    return f"""
## 12. SN-GAN's robustness table on our DCGAN (settings A-F)

SN-GAN (Miyato et al. 2018, Table 1 and Fig. 1) trained each method under six optimizer
settings (learning rate α of G and D, Adam's β1 and β2, D updates per G update n_dis) and
found WGAN-GP failing at the high learning rates D-F while spectral norm stayed good at all
six. Ours: the notebook DCGAN on digits, {data.steps} generator steps, one seed, four
discriminators: no constraint and spectral norm with the BCE loss (BatchNorm in D, the
notebook's), WGAN-GP (Wasserstein loss, two-sided penalty λ = 10, layer norm in place of
BatchNorm as WGAN-GP prescribes) and WGAN's weight clipping (Wasserstein loss, c = 0.01).
Setting C is the notebook's own optimizer: its no-constraint and SN runs are section 9's
seed-0 runs at step {data.steps}. Each cell: `fd` on the last line (`classes` in brackets);
✗ marks a failed run: diverged, or fd above section 9's grey-noise level (floor +
{FD_LEVEL_SHARE:g} × (ceiling − floor)). {data.steps} steps is short next to the paper's
100,000: at the low learning rates A and B a run may simply not have got there yet.

{table(["setting: α, β1, β2, n_dis", *CONSTRAINTS.values(), "SN-GAN (CIFAR-10, STL-10)"],
        rows)}

Failed at D-F ({fail_text}). Verdict (criterion: WGAN-GP fails at >= {FAILS_AT_LEAST} of D-F
and SN at none, once setting {TRAINED_CELL[0]} without a constraint has left grey noise):
**{verdict(data)}**. {observed(data)}

"D wins" revisited (section 6's criterion: D loss below {D_WINS_LOSS_D_BELOW:g} and G loss above
{D_WINS_LOSS_G_ABOVE:g} on some line): the lowest D loss and highest G loss logged (means over
each line's 25 steps), BCE without and with SN:

{table(["setting", "no constraint: D min / G max", "spectral norm: D min / G max"], loss_rows)}

D wins by that criterion, at every setting: {won_text}.

{source("robustness/<setting>_<constraint>_seed0/metrics.jsonl",
        "grey_noise/{none,spectral}_seed0/metrics.jsonl (setting C)",
        fields="`fd`, `classes` on the last line, `loss_d`, `loss_g`; status in summary.csv")}
"""


def figure(data: Robustness, folder: Path) -> str | None:
    import numpy as np

    if not any(c.run is not None for c in data.cells.values()):
        return None
    fig, axes = new_figure(2, 1, 4.6, 3.2)
    grid = np.array([[data.cells[s, c].fd if data.cells[s, c].fd is not None else np.nan
                      for c in CONSTRAINTS] for s in SETTINGS], dtype=float)
    ax = axes[0][0]
    with np.errstate(divide="ignore", invalid="ignore"):
        shown = ax.imshow(np.log10(grid), cmap="viridis_r", aspect="auto")
    fig.colorbar(shown, ax=ax, label="log10 fd (lower is better)")
    for i, s in enumerate(SETTINGS):
        for j, c in enumerate(CONSTRAINTS):
            cell = data.cells[s, c]
            label = ("n/a" if cell.run is None else "✗" if cell.fd is None else
                     f"{cell.fd:.0f}" + (" ✗" if cell.failed else ""))
            # dark text on the bright (low fd) end of the colour map, white elsewhere
            bright = cell.fd is not None and cell.fd > 0 and \
                shown.norm(math.log10(cell.fd)) < 0.4
            ax.text(j, i, label, ha="center", va="center", fontsize=7,
                    color="black" if bright else "white")
    ax.set_xticks(range(len(CONSTRAINTS)), list(CONSTRAINTS.values()), fontsize=7)
    ax.set_yticks(range(len(SETTINGS)), list(SETTINGS), fontsize=8)
    ax.set_title(f"fd at step {data.steps}", fontsize=10)
    losses = axes[0][1]
    for s in HIGH_LR:
        cell = data.cells.get((s, "none"))
        if cell is not None and cell.run is not None:
            steps, values = cell.run.series("loss_g")
            losses.plot(steps, values, lw=0.9, label=f"G loss, {s}")
            steps, values = cell.run.series("loss_d")
            losses.plot(steps, values, lw=0.9, ls="--", label=f"D loss, {s}")
    losses.set_yscale("symlog", linthresh=0.1)
    losses.set_title("no constraint (BCE) at D-F", fontsize=10)
    losses.set_xlabel("generator step")
    losses.legend(fontsize=6)
    return save(fig, folder / "robustness.png", "robustness table")
