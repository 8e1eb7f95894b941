"""The sections of RESULTS.md, one module each, in the order the report prints them.

A section module has four functions, each with one job:

- ``compute(ctx: ReportContext) -> data``: the numbers, read from the run folders
  (``ctx.runs[experiment][variant]`` are :class:`core.reproduce.runs.Run` objects; no prose);
- ``findings(data) -> list[Finding]``: its rows of "Findings at a glance", each verdict
  from a criterion that is a named constant at the top of the module (so the verdicts can be
  unit-tested on small hand-made run folders: ``tests/test_report_sections.py``);
- ``text(data) -> str``: its Markdown (title, prose, tables, the source line);
- ``figure(data, folder) -> str | None`` (optional): draws its PNG into ``folder`` with
  :func:`core.reproduce.render.figure` / ``save`` and returns the Markdown line showing it;

and a constant ``READS``: the experiments (``core.reproduce.EXPERIMENTS`` names) whose run
folders it reads, so ``reproduce --only SECTION`` runs just those. Its text starts with its
numbered heading ("## 9. ..."): the number places it when ``--only`` merges it into an
existing RESULTS.md. A section is named by its module (``--only grey_noise``).

Adding a section: write one module of that shape here and add it to :data:`SECTIONS` (one
line). An experiment it needs is added to ``core.reproduce.EXPERIMENTS`` with its sweep file in
``resources/reproduce/``.
"""

from __future__ import annotations

from . import (coverage, dwins, gp_interp, grey_noise, parzen, robustness, sigma_sn, sn_lag,
               spectra, stacked_modes, timing, weights)

SECTIONS = (
    coverage,
    weights,
    spectra,
    sigma_sn,
    gp_interp,
    dwins,
    timing,
    sn_lag,
    grey_noise,
    parzen,
    stacked_modes,
    robustness,
)


def section_name(section) -> str:
    """A section's name (``reproduce --only NAME``): its module's."""
    return section.__name__.rsplit(".", 1)[-1]
