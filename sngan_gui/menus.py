"""The main window's menus and toolbar: which action goes where, with its shortcut, tooltip
and object name (tests and scripts find actions by their object names)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow

from core.presets import list_presets

from .files import make_action
from .filmstrip import QtFilmstrip
from .panels.presets import preset_titles


def build_menus(w: QMainWindow) -> None:
    """The menus and toolbar of ``w`` (a QtMainWindow), with its ``act_*`` actions."""

    def a(*args):
        return make_action(w, *args)

    w.act_open = a("&Open config…", w.files.open_config_dialog, QKeySequence.Open,
                   "Load a TOML config (a new run starts on Play)")
    w.act_save_cfg = a("&Save config as…", w.files.save_config_dialog, QKeySequence.Save,
                       "Save the current settings as TOML")
    w.act_open_run = a("Open run &folder", w.files.open_run_folder, "Ctrl+Shift+O",
                       "Open this run's folder in the file manager")
    w.act_play = a("Play / Pause", w.run_panel.play.click, "Space",
                   "Start or pause training", "playAction")
    w.act_step = a("Step", w.step_once, "Ctrl+.", "One training step")
    w.act_step_d = a("Step D", lambda: w.step_net("D"), "Alt+D",
                     "One update of D alone, then paused", "stepDAction")
    w.act_step_g = a("Step G", lambda: w.step_net("G"), "Alt+G",
                     "One update of G alone, then paused", "stepGAction")
    w.act_reset = a("Reset", w.reset_run, "Ctrl+R", "New run with current settings")
    w.act_grid = a("Sample grid as PNG…", w.exports.grid_dialog, "Ctrl+E",
                   "Save the current samples as PNG", "exportGridAction")
    w.act_all = a("Export all…", w.exports.everything_dialog, "Ctrl+Shift+E",
                  "Config, metrics, events, every plot (PNG/SVG/CSV) and the grid",
                  "exportAllAction")
    mb = w.menuBar()
    filem = mb.addMenu("&File")
    presetm = filem.addMenu("&New from preset")  # first: where a new user starts
    presetm.setObjectName("newFromPresetMenu")
    for name, title, path in preset_titles(list_presets()):
        presetm.addAction(a(title, lambda _=False, p=str(path): w.load_preset(p), None,
                            f"{name}: a new run with this preset's settings (Play starts it)",
                            f"preset_{name}"))
    presetm.setToolTipsVisible(True)
    filem.addSeparator()
    filem.addAction(a("Open &run…", w.files.open_run_dialog, "Ctrl+Shift+R",
                      "Open a run folder: a finished run is shown, one being written is "
                      "followed", "openRunAction"))
    filem.addMenu(w.files.make_recent_menu(filem))
    filem.addSeparator()
    for act in (w.act_open, w.act_save_cfg, w.act_open_run):
        filem.addAction(act)
    filem.addSeparator()
    filem.addAction(a("&Quit", w.close, QKeySequence.Quit))
    runm = mb.addMenu("&Run")
    for act in (w.act_play, w.act_step, w.act_step_d, w.act_step_g, w.act_reset):
        runm.addAction(act)
    runm.addSeparator()
    w.act_duplicate = a("&Duplicate with change…", w.duplicate_dialog, "Ctrl+D",
                        "Start a second run with the same config and seed and one or "
                        "more settings changed, beside this one (A/B)", "duplicateAction")
    runm.addAction(w.act_duplicate)
    runm.addAction(a("Schedule a &change at step…", w.schedule_dialog, "Ctrl+Shift+C",
                     "Apply a setting at an exact step while the run trains on (as train "
                     "--change STEP:KEY=VALUE)", "scheduleChangeAction"))
    runm.addAction(a("Res&ume selected run", w.compare.resume_selected, None,
                     "Go on training the run selected in the run list from its last "
                     "checkpoint, in its own folder", "resumeAction"))
    exportm = mb.addMenu("&Export")
    exportm.addAction(a("&Figure…", w.exports.figure_dialog, "Ctrl+Shift+F",
                        "One PNG/PDF/SVG of chosen panels with a caption naming the runs",
                        "exportFigureAction"))
    exportm.addAction(w.act_grid)
    # the filmstrip watches the runs from the start: it keeps the 2D landscapes they report
    w.filmstrip = QtFilmstrip(w)
    w.act_filmstrip = a("&Filmstrip: runs side by side at one step", w.filmstrip.open,
                        "Ctrl+Shift+M", "Every shown run's samples at the same step, with "
                        "their quality figures; a step slider; export as one figure",
                        "filmstripAction")
    exportm.addAction(a("Filmstrip figure…", w.filmstrip.open_export, None,
                        "Every shown run's samples at one step as one report figure",
                        "exportFilmstripAction"))
    exportm.addAction(w.act_all)
    exportm.addSeparator()
    w.exports.add_plot_menus(exportm, a)
    exportm.addSeparator()
    exportm.addAction(w.exports.make_style_action(a))
    viewm = mb.addMenu("&View")
    viewm.addAction(w.controls_dock.toggleViewAction())
    viewm.addAction(w.run_list.toggleViewAction())
    viewm.addSeparator()
    viewm.addAction(w.act_filmstrip)
    mb.addMenu("&Help").addAction(a("About", w.about))

    tb = w.addToolBar("Main")
    tb.setObjectName("mainToolbar")
    tb.setMovable(False)
    tb.setIconSize(QSize(18, 18))
    tb.setToolButtonStyle(Qt.ToolButtonTextOnly)
    ab = a("A/B…", w.duplicate_dialog, None, w.act_duplicate.toolTip(), "abAction")
    for group in ((w.act_play, w.act_step, w.act_step_d, w.act_step_g, w.act_reset, ab),
                  (w.act_grid, w.act_all, w.act_open_run)):
        for act in group:
            tb.addAction(act)
        tb.addSeparator()
    for name, label in (("loss", "Losses"), ("sigma", "σ"), ("lipschitz", "Lipschitz")):
        tb.addAction(a(f"{label} → PNG",
                       lambda _=False, n=name: w.exports.plot_dialog(n, "png")))
