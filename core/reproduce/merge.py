"""RESULTS.md as parts, so ``reproduce --only`` can rewrite some sections and keep the rest.

A report is a header (everything before the first section), the sections in order, and
"Findings at a glance" (a table of every section's findings). Each section this code writes
starts with a marker line, invisible when the Markdown is rendered::

    <!-- section: grey_noise {"findings": [["finding", "published", "ours", "verdict"], ...]} -->

holding its rows of the findings table, so the table is rebuilt from the sections. A report
written before the markers existed ("legacy") has sections without them: such a block is kept
as it is unless a rewritten section has the same number ("## 6. ..."), and the rows of its
findings table are kept unless a rewritten section has a row with the same finding.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

FINDINGS_TITLE = "## Findings at a glance"
FINDINGS_INTRO = ("Each line's verdict applies the criterion it names to the numbers of its "
                  "section above.")
_MARKER = re.compile(r"^<!-- section: (\w+) (\{.*\}) -->$")
_NUMBER = re.compile(r"^## (\d+)\.")
_MODE = re.compile(r"\*\*(quick|tiny) mode\*\*")
_ESCAPED_DASH = "\\u002d"  # "-" as a JSON string escape


class ReportMergeError(ValueError):
    """An existing RESULTS.md that ``--only`` cannot merge into (one line, naming it)."""


@dataclass
class Block:
    """One section of the report: its module's name (None: a legacy block), the number of
    its heading, its Markdown (text, figure line, footer) and its findings rows."""

    name: str | None
    markdown: str
    findings: list[list[str]] = field(default_factory=list)

    @property
    def number(self) -> int | None:
        for line in self.markdown.splitlines():
            match = _NUMBER.match(line)
            if match:
                return int(match.group(1))
        return None

    def text(self) -> str:
        if self.name is None:
            return self.markdown
        # "--" may not appear inside an HTML comment: escaped as JSON allows
        payload = json.dumps({"findings": self.findings}, ensure_ascii=False)
        payload = payload.replace("--", "-" + _ESCAPED_DASH)
        return f"<!-- section: {self.name} {payload} -->\n" + self.markdown


@dataclass
class Report:
    header: str
    blocks: list[Block]
    legacy_rows: list[list[str]] = field(default_factory=list)

    @property
    def mode(self) -> str:
        match = _MODE.search(self.header)
        return match.group(1) if match else "full"

    def merged(self, new: list[Block]) -> "Report":
        """This report with ``new`` blocks in place of those of the same section (or, for a
        legacy block, the same number), in the order of their numbers."""
        names = {b.name for b in new}
        numbers = {b.number for b in new if b.number is not None}
        kept = [b for b in self.blocks if b.name not in names
                and not (b.name is None and b.number in numbers)]
        new_findings = {row[0] for b in new for row in b.findings}
        blocks = sorted(kept + new, key=lambda b: (b.number is None, b.number or 0))
        rows = [r for r in self.legacy_rows if r[0] not in new_findings]
        return Report(self.header, blocks, rows)

    def text(self, table) -> str:
        rows = self.legacy_rows + [row for b in self.blocks for row in b.findings]
        findings = "\n".join([FINDINGS_TITLE, "", FINDINGS_INTRO, "",
                              table(["finding", "published", "ours", "verdict"], rows), ""])
        parts = [self.header.strip("\n") + "\n"] + [b.text().strip("\n") + "\n"
                                                   for b in self.blocks] + [findings]
        return "\n".join(parts)


def _cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])
    return [c.strip().replace("\\|", "|") for c in cells]


def parse(text: str, path: Path | str = "RESULTS.md") -> Report:
    """A RESULTS.md as written by :meth:`Report.text` or before the markers existed."""
    lines = text.splitlines()
    try:
        end = lines.index(FINDINGS_TITLE)
    except ValueError:
        raise ReportMergeError(f"{path} has no '{FINDINGS_TITLE}' section: not a reproduction "
                               f"report") from None
    starts = [i for i, line in enumerate(lines[:end])
              if _MARKER.match(line) or (line.startswith("## ") and not
                                         (i and _MARKER.match(lines[i - 1])))]
    if not starts:
        raise ReportMergeError(f"{path} has no sections")
    blocks = []
    for start, stop in zip(starts, starts[1:] + [end]):
        marker = _MARKER.match(lines[start])
        body = "\n".join(lines[start + bool(marker):stop]).strip("\n") + "\n"
        if marker:
            try:
                findings = json.loads(marker.group(2))["findings"]
            except (ValueError, KeyError, TypeError):
                raise ReportMergeError(f"{path}: the marker of section '{marker.group(1)}' is "
                                       f"damaged (line {start + 1})") from None
            blocks.append(Block(marker.group(1), body, findings))
        else:
            blocks.append(Block(None, body))
    legacy = []
    if any(b.name is None for b in blocks):  # the table's rows that no marker holds
        rows = [line for line in lines[end:] if line.startswith("| ")]
        marked = [row for b in blocks for row in b.findings]
        legacy = [c for c in map(_cells, rows[1:]) if c not in marked]  # rows[0]: the header
    return Report("\n".join(lines[:starts[0]]), blocks, legacy)


def read(path: Path) -> Report | None:
    """The report at ``path`` (None when there is none); ReportMergeError when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportMergeError(f"cannot read {path}: {exc}") from None
    return parse(text, path)


def check_mergeable(path: Path, mode: str) -> None:
    """Refuse (before anything runs) to merge sections of one mode into a report of
    another: a full report with --quick numbers in it would mislead."""
    report = read(path)
    if report is not None and report.mode != mode:
        raise ReportMergeError(f"--only: {path} is a {report.mode}-mode report; rewrite its "
                               f"sections in {report.mode} mode (or write to another --report)")


__all__ = ["Block", "FINDINGS_TITLE", "Report", "ReportMergeError", "check_mergeable", "parse",
           "read"]
