"""Shared test setup: headless Qt, a private app home, and small configs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def shared_scorers(tmp_path_factory):
    """One scorer cache for the whole session: the digits scorer trains once (on first use,
    by whichever test or child process needs it first), not once per test."""
    return tmp_path_factory.mktemp("scorers")


@pytest.fixture(scope="session")
def digits_scorer(shared_scorers, tmp_path_factory):
    """The digits scorer trained (or loaded) into the shared cache now, with its floor and
    ceiling at the default N and at the small configs' N: for tests whose training runs in a
    child process with a deadline (the app's tests), which then load it in a moment."""
    from core.quality import prepare_scorer
    from core.quality.measure import references
    from tests.helpers import tiny_image

    home = tmp_path_factory.mktemp("scorer_home")
    (home / "scorers").symlink_to(shared_scorers, target_is_directory=True)
    old = os.environ.get("SNGAN_GUI_HOME")
    os.environ["SNGAN_GUI_HOME"] = str(home)
    try:
        scorer = prepare_scorer(tiny_image())
        for n in (500, 32):
            references(scorer, n)
    finally:
        if old is None:
            os.environ.pop("SNGAN_GUI_HOME", None)
        else:
            os.environ["SNGAN_GUI_HOME"] = old
    return scorer


@pytest.fixture(autouse=True, scope="session")
def _session_app_home(tmp_path_factory, shared_scorers):
    """An app home for what runs before the per-test one is set (module- and session-scoped
    fixtures that train), so no test writes into the user's folders."""
    home = tmp_path_factory.mktemp("session_home")
    (home / "scorers").symlink_to(shared_scorers, target_is_directory=True)
    old = os.environ.get("SNGAN_GUI_HOME")
    os.environ["SNGAN_GUI_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("SNGAN_GUI_HOME", None)
    else:
        os.environ["SNGAN_GUI_HOME"] = old


@pytest.fixture(autouse=True)
def _private_app_home(tmp_path_factory, monkeypatch, shared_scorers, _session_app_home):
    """Every test gets its own SNGAN_GUI_HOME, so nothing touches the user's folders; its
    scorers/ folder is the session's shared scorer cache."""
    home = tmp_path_factory.mktemp("sngan_home")
    (home / "scorers").symlink_to(shared_scorers, target_is_directory=True)
    monkeypatch.setenv("SNGAN_GUI_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory):
    """This tree's wheel installed into a fresh virtual environment (tests/installed_wheel.py),
    built once per test session."""
    from installed_wheel import build_and_install

    return build_and_install(tmp_path_factory.mktemp("installed_wheel"))
