"""The sections of RESULTS.md, one module each, in the order the report prints them.

A section module has four functions, each with one job:

- ``compute(ctx: ReportContext) -> data``: the numbers, read from the run folders
  (``ctx.runs[experiment][variant]`` are :class:`core.reproduce.runs.Run` objects; no prose);
- ``findings(data) -> list[Finding]``: its rows of "Findings at a glance", each verdict
  from a criterion that is a named constant at the top of the module (so the verdicts can be
  unit-tested on small hand-made run folders: ``tests/test_report_sections.py``);
- ``text(data) -> str``: its Markdown (title, prose, tables, the source line);
- ``figure(data, folder) -> str | None`` (optional): draws its PNG into ``folder`` with
  :func:`core.reproduce.render.figure` / ``save`` and returns the Markdown line showing it.

Adding a section: write one module of that shape here and add it to :data:`SECTIONS` (one
line). An experiment it needs is added to ``core.reproduce.EXPERIMENTS`` with its sweep file in
``resources/reproduce/``.
"""

from __future__ import annotations

from . import coverage, dwins, gp_interp, sigma_sn, sn_lag, spectra, timing, weights

SECTIONS = (
    coverage,
    weights,
    spectra,
    sigma_sn,
    gp_interp,
    dwins,
    timing,
    sn_lag,
)
