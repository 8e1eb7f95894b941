"""The layers hold: the engine (``core``) imports no Qt, no pyqtgraph and nothing of the app,
the app's Qt-free models import no Qt or pyqtgraph, and no sweep module imports the sweep
command (import-linter's contracts in pyproject.toml, directly or through any chain of
imports)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept(monkeypatch, capsys):
    cli = pytest.importorskip("importlinter.cli", reason="import-linter is in the 'test' extra")
    monkeypatch.chdir(ROOT)  # the contracts name this tree's packages
    status = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    report = capsys.readouterr().out
    assert status == 0, report
    assert "3 kept, 0 broken" in report
