"""The main window: menus, tool bars, docks and the open / save / close flow around the canvas.

Layout follows image editors: tools on the left (B, S, E, T), the tool's options across the top (brush
size, trajectory points), the canvas in the middle, panels on the right (regions like layers, the live
preview, Kling's rules, the undo history). The window is a controller only: edits go through the
document (`core/document.py`, adapted to Qt in `commands.py`), drawing happens in the canvas, the File
menu's actions live in `file_actions.py` and `track_actions.py`, file formats in `kling_preview.core`.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStyle,
    QToolBar,
    QUndoView,
    QWidget,
)

from kling_preview.core import trajectory as traj
from kling_preview.core.edits import Change, SetClip, SetTrajectory
from kling_preview.core.masks import STATIC
from kling_preview.core.project import Project, Region

from . import settings as app_settings
from . import tools as T
from .autosave import attach as attach_autosave
from .autosave import open_recovered as show_recovered
from .canvas import Canvas
from .canvas_input import set_pen_pressure_enabled
from .canvas_preview import attach as attach_canvas_preview
from .commands import Document
from .dialogs.help import show_about, show_shortcuts
from .file_actions import IMAGE_PATTERNS, OPEN_FILTERS, PROJECT_SUFFIX, SAVE_FILTER, FileActions, busy_cursor
from .input_guard import install as install_input_guard
from .panels.kling_settings import KlingSettingsPanel
from .panels.preview import PreviewPanel
from .panels.regions import RegionsPanel
from .panels.validation import ValidationPanel
from .send_action import attach_send
from .smart_select import SmartSelect
from .tool_widgets import BrushSizeSlider, tool_icon
from .track_actions import ATI_FILTER, KJNODES_FILTER, TRACKS_OPEN_FILTER, TrackFileActions

log = logging.getLogger(__name__)

APP_TITLE = "Kling Preview"

__all__ = [
    "APP_TITLE",
    "ATI_FILTER",
    "IMAGE_PATTERNS",
    "KJNODES_FILTER",
    "OPEN_FILTERS",
    "PROJECT_SUFFIX",
    "SAVE_FILTER",
    "TRACKS_OPEN_FILTER",
    "MainWindow",
]


class MainWindow(FileActions, TrackFileActions, QMainWindow):
    """Kling Preview's window. `open_path`, `save`, `save_as` and `close_project` drive it from code.

    The File menu's work is in the `FileActions` and `TrackFileActions` mixins (their own modules).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        app = QApplication.instance()
        if isinstance(app, QApplication):
            install_input_guard(app)  # panels scroll under the wheel; Ctrl+Z always reaches the history
        self.doc = Document(self)
        self.path: Path | None = None  # where Save writes (.klproj), None until saved or opened from one
        self.source: Path | None = None  # the file or folder the project was opened from
        self.canvas = Canvas(self.doc, self)
        self.setCentralWidget(self.canvas)
        self.regions = RegionsPanel(self.doc)
        self.preview = PreviewPanel()
        self.preview.clip_setter = self._set_clip
        self.validation = ValidationPanel()
        self.kling_settings = KlingSettingsPanel(self.doc)
        self.history = QUndoView(self.doc.stack)
        self.history.setObjectName("history")
        self.history.setEmptyLabel("<opened>")
        self._make_docks()
        self._make_actions()
        self._make_menus()
        self._make_toolbars()
        self._make_statusbar()
        self._connect()
        self.smart = SmartSelect(self)  # magic wand tool, Snap to Edges, smart brush (ui/smart_select.py)
        self.act_canvas_preview, self.act_split = attach_canvas_preview(self)  # P, Shift+P
        self.setAcceptDrops(True)
        screen = self.screen().availableGeometry()
        self.resize(min(1440, int(screen.width() * 0.92)), min(900, int(screen.height() * 0.92)))
        self._restore_settings()
        self._on_project_changed()
        self.autosaver = attach_autosave(self)  # crash recovery: writes while there are unsaved changes
        attach_send(self)  # File > Send to Kling... and the Kling tasks panel

    # ----- construction ----------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        return dock

    def _make_docks(self) -> None:
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.regions_dock = self._dock("Regions", "regionsDock", self.regions, right)
        self.preview_dock = self._dock("Preview", "previewDock", self.preview, right)
        self.validation_dock = self._dock("Kling check", "validationDock", self.validation, right)
        self.history_dock = self._dock("History", "historyDock", self.history, right)
        self.kling_dock = self._dock("Kling request", "klingDock", self.kling_settings, right)
        # Beside the regions: while the request is edited the Kling check below stays in view.
        self.tabifyDockWidget(self.regions_dock, self.kling_dock)
        self.tabifyDockWidget(self.validation_dock, self.history_dock)
        self.regions_dock.raise_()
        self.validation_dock.raise_()
        self.resizeDocks([self.regions_dock], [380], Qt.Orientation.Horizontal)
        self.resizeDocks(
            [self.regions_dock, self.preview_dock, self.validation_dock], [300, 320, 180], Qt.Orientation.Vertical
        )

    def _action(
        self,
        text: str,
        slot,
        shortcuts: list[str] | QKeySequence.StandardKey | None = None,
        tip: str = "",
        checkable: bool = False,
    ) -> QAction:
        act = QAction(text, self)
        if isinstance(shortcuts, QKeySequence.StandardKey):
            act.setShortcut(QKeySequence(shortcuts))
        elif shortcuts:
            act.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(tip)
        act.setCheckable(checkable)
        if slot is not None:
            act.triggered.connect(slot)
        self.addAction(act)  # shortcuts work even when the menu bar is hidden
        return act

    def _make_actions(self) -> None:
        a = self._action
        self.act_new = a("&New from Image...", self.new_from_image, ["Ctrl+N"], "Start a project from an image")
        self.act_open = a("&Open...", self.open_dialog, ["Ctrl+O"], "Open an image, a project or a Kling request")
        self.act_open_folder = a("Open Kling Export &Folder...", self.open_folder_dialog, None,
                                 "Open a folder written by Export (request.json and masks)")  # fmt: skip
        self.act_open_sample = a("Open &Sample Project", self.open_sample, None, "The bundled example")
        self.act_save = a("&Save", self.save, ["Ctrl+S"], "Save the project (.klproj)")
        self.act_save_as = a("Save &As...", lambda: self.save_as(), ["Ctrl+Shift+S"], "Save under a new name")
        self.act_export = a("&Export...", self.export, ["Ctrl+E"], "Kling request bundle or a preview video")
        self.act_import_tracks = a("&Import Trajectories...", lambda: self.import_trajectories(), None,
                                   "Set the regions' trajectories from a KJNodes or Wan ATI file")  # fmt: skip
        self.act_export_tracks = a("Export Tra&jectories...", lambda: self.export_trajectories(), None,
                                   "Write the regions' trajectories as KJNodes or Wan ATI JSON")  # fmt: skip
        self.act_close_project = a("&Close Project", self.close_project, ["Ctrl+W"])
        self.act_quit = a("&Quit", self.close, ["Ctrl+Q"])
        self.act_undo = a("&Undo", self.undo, ["Ctrl+Z"])
        self.act_redo = a("&Redo", self.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        for act in (self.act_undo, self.act_redo):  # also from floating panels
            act.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.act_add_region = a("&Add Region", self.regions.add_region, ["Ctrl+Shift+N"], "Add a motion region")
        self.act_delete_region = a("&Delete Region", self.regions.delete_selected, None,
                                   "Delete the selected region (or clear the static mask)")  # fmt: skip
        self.act_rename_region = a("Re&name Region", self.regions.rename_selected, ["F2"],
                                   "Rename the selected region (or double-click its name)")  # fmt: skip
        self.act_zoom_in = a("Zoom &In", self.canvas.zoom_in, ["Ctrl++", "Ctrl+="])
        self.act_zoom_out = a("Zoom &Out", self.canvas.zoom_out, ["Ctrl+-"])
        self.act_fit = a("&Fit to Window", self.canvas.fit, ["Ctrl+0"])
        self.act_actual = a("&Actual Pixels (100 %)", self.canvas.actual_size, ["Ctrl+1"])
        self.act_play = a("&Play / Pause Preview", self._space_key, ["Space"])
        self.act_pressure = a("Pen &Pressure Sets Brush Size", self._set_pen_pressure, None,
                              "A pen's pressure scales the brush (the full size when off)", checkable=True)  # fmt: skip
        self.act_pressure.setChecked(self.canvas.pressure_enabled)
        self.act_bigger = a("&Larger Brush", self.bigger_brush, ["]"])
        self.act_smaller = a("&Smaller Brush", self.smaller_brush, ["["])
        self.act_resample = a("&Resample Trajectory", self.resample_trajectory, None,
                              "Resample the selected region's trajectory to the chosen number of points")  # fmt: skip
        self.act_clear_path = a("&Clear Trajectory", self.clear_trajectory, None,
                                "Remove every point of the selected region's trajectory")  # fmt: skip
        self.act_shortcuts = a("&Keyboard Shortcuts", lambda: show_shortcuts(self), ["F1"])
        self.act_about = a("&About Kling Preview", lambda: show_about(self))

        self.tool_group = QActionGroup(self)
        self.tool_group.setExclusive(True)
        self.tool_actions: dict[str, QAction] = {}
        tool_keys = zip(T.ToolName, ("B", "S", "E", "T"))
        for name, key in tool_keys:
            tool = self.canvas.tools[name]
            act = a(f"{tool.title}", None, [key], f"{tool.title} ({key})", checkable=True)
            act.setIcon(tool_icon(name))
            act.setToolTip(f"{tool.title} ({key})")
            act.setData(name)
            act.triggered.connect(lambda _checked=False, n=name: self.set_tool(n))
            self.tool_group.addAction(act)
            self.tool_actions[name] = act
        self.tool_actions[self.canvas.tool.name].setChecked(True)

        style = self.style()
        self.act_open.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogOpenButton))
        self.act_save.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.act_undo.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowBack))
        self.act_redo.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowForward))

    def _make_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addActions([self.act_new, self.act_open, self.act_open_folder])
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        m.addAction(self.act_open_sample)
        m.addSeparator()
        m.addActions([self.act_save, self.act_save_as])
        m.addSeparator()
        m.addAction(self.act_export)
        m.addActions([self.act_import_tracks, self.act_export_tracks])
        m.addSeparator()
        m.addActions([self.act_close_project, self.act_quit])

        m = bar.addMenu("&Edit")
        m.addActions([self.act_undo, self.act_redo])
        act_history = self.history_dock.toggleViewAction()
        act_history.setText("&History")
        m.addAction(act_history)
        m.addSeparator()
        m.addActions([self.act_add_region, self.act_rename_region, self.act_delete_region])

        m = bar.addMenu("&View")
        m.addActions([self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_actual])
        m.addSeparator()
        m.addAction(self.act_play)
        m.addSeparator()
        panels = m.addMenu("&Panels")
        for dock in (self.regions_dock, self.kling_dock, self.preview_dock, self.validation_dock, self.history_dock):
            panels.addAction(dock.toggleViewAction())

        m = bar.addMenu("&Tools")
        m.addActions(list(self.tool_actions.values()))
        m.addSeparator()
        m.addActions([self.act_smaller, self.act_bigger])
        m.addAction(self.act_pressure)
        m.addSeparator()
        m.addActions([self.act_resample, self.act_clear_path])

        m = bar.addMenu("&Help")
        m.addActions([self.act_shortcuts, self.act_about])

    def _make_toolbars(self) -> None:
        tools = QToolBar("Tools", self)
        tools.setObjectName("toolsBar")
        tools.setIconSize(QSize(28, 28))
        tools.setMovable(False)
        tools.addActions(list(self.tool_actions.values()))
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, tools)

        main = QToolBar("File", self)
        main.setObjectName("fileBar")
        main.setIconSize(QSize(18, 18))
        main.addActions([self.act_open, self.act_save])
        main.addSeparator()
        main.addActions([self.act_undo, self.act_redo])
        main.addSeparator()
        main.addAction(self.act_export)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, main)

        opts = QToolBar("Tool options", self)
        opts.setObjectName("optionsBar")
        self.options_bar = opts
        self.tool_label = QLabel(self)
        self.tool_label.setMinimumWidth(110)
        opts.addWidget(self.tool_label)
        self.size_slider = BrushSizeSlider(self)
        self.size_slider.setToolTip("Brush size ( [ and ] )")
        self.size_spin = QSpinBox(self)
        self.size_spin.setRange(T.MIN_BRUSH, T.MAX_BRUSH)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Brush diameter in image pixels ( [ and ] )")
        self.size_spin.setKeyboardTracking(False)
        self._brush_actions = [
            opts.addWidget(QLabel(" Size ", self)),
            opts.addWidget(self.size_slider),
            opts.addWidget(self.size_spin),
        ]
        self.points_label = QLabel(self)
        self.points_label.setToolTip(f"Trajectory points (Kling allows {traj.MIN_POINTS} to {traj.MAX_POINTS})")
        self.resample_spin = QSpinBox(self)
        self.resample_spin.setRange(traj.MIN_POINTS, traj.MAX_POINTS)
        self.resample_spin.setValue(traj.MAX_POINTS)
        self.resample_spin.setPrefix("to ")
        self.resample_spin.setSuffix(" points")
        self.resample_spin.setToolTip("Resample the selected trajectory to this many points, evenly spaced")
        self.resample_button = QPushButton("Resample", self)
        self.resample_button.clicked.connect(self.resample_trajectory)
        self.clear_path_button = QPushButton("Clear", self)
        self.clear_path_button.setToolTip("Remove the selected region's trajectory")
        self.clear_path_button.clicked.connect(self.clear_trajectory)
        self._path_actions = [
            opts.addWidget(self.points_label),
            opts.addSeparator(),
            opts.addWidget(self.resample_spin),
            opts.addWidget(self.resample_button),
            opts.addWidget(self.clear_path_button),
        ]
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, opts)

    def _make_statusbar(self) -> None:
        bar = self.statusBar()
        self.pos_label = QLabel(self)
        self.pos_label.setObjectName("positionLabel")
        self.pos_label.setMinimumWidth(300)
        self.size_label = QLabel(self)
        self.zoom_label = QLabel(self)
        self.zoom_label.setObjectName("zoomLabel")
        self.zoom_label.setMinimumWidth(60)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bar.addPermanentWidget(self.pos_label)
        bar.addPermanentWidget(self.size_label)
        bar.addPermanentWidget(self.zoom_label)

    def _connect(self) -> None:
        doc = self.doc
        doc.changed.connect(self._after_change)
        doc.stack.cleanChanged.connect(self._update_title)
        doc.stack.canUndoChanged.connect(self._update_undo_actions)
        doc.stack.canRedoChanged.connect(self._update_undo_actions)
        doc.stack.undoTextChanged.connect(self._update_undo_actions)
        doc.stack.redoTextChanged.connect(self._update_undo_actions)
        doc.stack.indexChanged.connect(self._tell_replaced_path)
        doc.targetChanged.connect(self._on_target)
        doc.clipChanged.connect(lambda _key: self.preview.clip_changed())
        doc.trajectoryChanged.connect(lambda _l: self._update_path_widgets())
        doc.regionsChanged.connect(self._update_path_widgets)
        self.canvas.cursorMoved.connect(self._show_position)
        self.canvas.zoomChanged.connect(self._show_zoom)
        self.canvas.spaceTapped.connect(self.toggle_play)
        self.canvas.message.connect(self._inform)
        self.canvas.brushSizeChanged.connect(self._show_brush_size)
        self.canvas.toolChanged.connect(self._on_tool_changed)
        self.size_slider.valueChanged.connect(lambda _v: self.canvas.set_brush_size(self.size_slider.size_value()))
        self.size_spin.valueChanged.connect(self.canvas.set_brush_size)
        self.validation.regionActivated.connect(self.select_region)
        self._show_brush_size(self.canvas.brush_size)
        self._on_tool_changed(self.canvas.tool.name)

    # ----- settings --------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        store = app_settings.settings()
        geometry = store.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        state = store.value("window/state")
        if isinstance(state, QByteArray | bytes):
            self.restoreState(QByteArray(state))
        try:
            size = int(store.value("brush/size", self.canvas.brush_size))
        except (TypeError, ValueError):
            size = self.canvas.brush_size
        self.canvas.set_brush_size(size)

    def _save_settings(self) -> None:
        store = app_settings.settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState())
        store.setValue("brush/size", self.canvas.brush_size)
        store.sync()

    # ----- messages --------------------------------------------------------------------------------
    def _error(self, title: str, text: str) -> None:
        QMessageBox.critical(self, title, text)

    def _inform(self, text: str) -> None:
        QMessageBox.information(self, APP_TITLE, text)

    # ----- project lifecycle -----------------------------------------------------------------------
    @property
    def project(self) -> Project | None:
        return self.doc.project

    def set_project(self, project: Project | None, source: str | Path | None = None) -> None:
        """Show `project` (opened from `source`); the undo history starts empty and clean."""
        self.canvas.commit_pending()
        src = Path(source) if source is not None else None
        self.source = src
        self.path = src if src is not None and src.suffix.lower() == PROJECT_SUFFIX else None
        with busy_cursor():
            self.doc.set_project(project)
        self.preview.set_project(project)
        self.validation.set_project(project)
        self._on_project_changed()
        if project is not None:
            self.canvas.setFocus()

    def _on_project_changed(self) -> None:
        has = self.project is not None
        for act in (
            self.act_save, self.act_save_as, self.act_export, self.act_close_project, self.act_add_region,
            self.act_rename_region,
            self.act_delete_region, self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_actual,
            self.act_resample, self.act_clear_path, self.act_import_tracks, self.act_export_tracks,
        ):  # fmt: skip
            act.setEnabled(has)
        self.size_label.setText(f"{self.project.size[0]} x {self.project.size[1]} px" if has else "")
        self.pos_label.clear()
        self._show_zoom(self.canvas.scale)
        self._update_title()
        self._update_undo_actions()
        self._update_path_widgets()

    def _update_title(self) -> None:
        if self.project is None:
            self.setWindowTitle(APP_TITLE)
            self.setWindowModified(False)
            return
        self.setWindowTitle(f"{self.display_name()}[*] \u2014 {APP_TITLE}")
        self.setWindowModified(not self.doc.stack.isClean())

    def open_recovered(self, project: Project, source: str | None) -> None:
        """Show a project restored after a crash, marked as unsaved."""
        show_recovered(self, project, source)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save("closing"):
            event.ignore()
            return
        self._save_settings()
        self.autosaver.close()  # a normal close: the recovery file goes
        try:
            self.preview.shutdown()
        except Exception:  # a worker that fails to stop must not keep the window open
            log.exception("stopping the preview failed")
        event.accept()


    # ----- edits -----------------------------------------------------------------------------------
    def undo(self) -> None:
        self.canvas.commit_pending()
        self.doc.stack.undo()

    def redo(self) -> None:
        self.canvas.commit_pending()
        self.doc.stack.redo()

    def _after_change(self, change: Change) -> None:
        if not change.edited:
            return
        if change.preview:  # typing a prompt does not restart the preview's frames
            self.preview.schedule_update()
        self.validation.schedule_update()

    def _tell_replaced_path(self, index: int) -> None:
        """A freehand drag over a trajectory replaced it: say so, and how to get the old one back."""
        stack, region = self.doc.stack, self._target_region()
        if region is None or index != stack.count() or stack.undoText() != T.REPLACE_PATH:
            return
        self.statusBar().showMessage(
            f"Replaced the trajectory of {region.name} with the one drawn ({len(region.trajectory)} points). "
            "Ctrl+Z brings the old one back.",
            10000,
        )

    def _set_clip(self, key: str, value: object) -> None:
        """A preview clip control changed: an undo step that marks the project modified."""
        project = self.project
        if project is not None:
            self.doc.apply(SetClip(key=key, old=getattr(project.clip, key), new=value))

    def _update_undo_actions(self, *_args) -> None:
        stack = self.doc.stack
        self.act_undo.setEnabled(stack.canUndo())
        self.act_redo.setEnabled(stack.canRedo())
        self.act_undo.setText(f"&Undo {stack.undoText()}".rstrip())
        self.act_redo.setText(f"&Redo {stack.redoText()}".rstrip())

    def select_region(self, label: int) -> None:
        """Make `label` the paint target (from the validation panel's "go to region")."""
        self.regions.select_label(label)
        self.canvas.setFocus()

    # ----- tools -----------------------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        self.canvas.set_tool(name)
        target = self.doc.target
        if name == T.ToolName.STATIC_BRUSH:
            self.doc.set_target(STATIC)
        elif name in (T.ToolName.MOTION_BRUSH, T.ToolName.TRAJECTORY) and target in (None, STATIC):
            self.doc.set_target(self.doc.last_region)

    def _on_tool_changed(self, name: str) -> None:
        act = self.tool_actions.get(name)
        if act is not None and not act.isChecked():
            act.setChecked(True)
        self.tool_label.setText(f"<b>{self.canvas.tool.title}</b>")
        painting = self.canvas.tool.paints
        for act in self._brush_actions:
            act.setVisible(painting)
        for act in self._path_actions:
            act.setVisible(name == T.ToolName.TRAJECTORY)
        self._update_path_widgets()

    def _on_target(self, label: int) -> None:
        # keep brush and target in agreement: the static row means the static brush and back
        name = self.canvas.tool.name
        if label == STATIC and name == T.ToolName.MOTION_BRUSH:
            self.set_tool(T.ToolName.STATIC_BRUSH)
        elif label not in (0, STATIC) and name == T.ToolName.STATIC_BRUSH:
            self.set_tool(T.ToolName.MOTION_BRUSH)
        self._update_path_widgets()

    def bigger_brush(self) -> None:
        self.canvas.set_brush_size(T.bigger_brush(self.canvas.brush_size))

    def smaller_brush(self) -> None:
        self.canvas.set_brush_size(T.smaller_brush(self.canvas.brush_size))

    def _show_brush_size(self, size: int) -> None:
        for w in (self.size_spin, self.size_slider):
            w.blockSignals(True)
        self.size_spin.setValue(size)
        if self.size_slider.size_value() != size:
            self.size_slider.set_size_value(size)
        for w in (self.size_spin, self.size_slider):
            w.blockSignals(False)

    def _target_region(self) -> Region | None:
        project, label = self.project, self.doc.target
        if project is None or label in (None, STATIC):
            return None
        return project.find_region(label)

    def _update_path_widgets(self) -> None:
        region = self._target_region()
        n = len(region.trajectory) if region is not None else 0
        self.points_label.setText(
            f" Points <b>{n}/{traj.MAX_POINTS}</b> " if region is not None else " Select a motion region "
        )
        self.resample_spin.setEnabled(n >= 2)
        self.resample_button.setEnabled(n >= 2)
        self.clear_path_button.setEnabled(n > 0)

    def resample_trajectory(self) -> None:
        region = self._target_region()
        if region is None or len(region.trajectory) < 2:
            self._inform("Draw a trajectory of at least two points first (Trajectory tool, T).")
            return
        n = self.resample_spin.value()
        new = traj.resample(region.trajectory, n)
        self.doc.apply(SetTrajectory(region.label, region.trajectory, new, f"Resample trajectory to {n} points"))

    def clear_trajectory(self) -> None:
        region = self._target_region()
        if region is None or not region.trajectory:
            return
        self.doc.apply(SetTrajectory(region.label, region.trajectory, [], "Clear trajectory"))

    def toggle_play(self) -> None:
        self.preview.toggle_play()

    def _set_pen_pressure(self, on: bool) -> None:
        self.canvas.pressure_enabled = on
        set_pen_pressure_enabled(on)

    def _space_key(self) -> None:
        """Space when the canvas lacks the keyboard: the hand over the canvas, else play / pause."""
        if not self.canvas.claim_space():
            self.toggle_play()

    # ----- status bar ------------------------------------------------------------------------------
    def _show_position(self, pos: tuple[float, float] | None) -> None:
        project = self.project
        if pos is None or project is None:
            self.pos_label.clear()
            return
        w, h = project.size
        px = min(max(int(math.floor(pos[0] + 0.5)), 0), w - 1)
        py = min(max(int(math.floor(pos[1] + 0.5)), 0), h - 1)
        label = int(project.labels[py, px])
        where = ""
        if label == STATIC:
            where = "  \u00b7  static"
        elif label:
            region = project.find_region(label)
            where = f"  \u00b7  {region.name}" if region is not None else ""
        self.pos_label.setText(f"x {px}, y {py}  \u00b7  Kling x {px}, y {h - py}{where}")

    def _show_zoom(self, scale: float) -> None:
        if self.project is None:
            self.zoom_label.clear()
            return
        pct = scale * 100
        self.zoom_label.setText(f"{pct:.0f} %" if pct >= 10 else f"{pct:.1f} %")
