"""Help (keyboard shortcuts) and About dialogs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import kling_preview

APP_NAME = "Kling Preview"
PURPOSE = "Paint Kling AI motion-brush regions on a still, preview the motion locally and export Kling's request."
LOCAL_NOTE = "Everything runs on this computer: nothing is uploaded, no account or network is needed."

#: (keys, action) rows shown in the Help dialog: every shortcut and mouse gesture the main window has.
#: Alternatives are separated by " / "; keys are in QKeySequence's portable text where they are keys.
SHORTCUTS: list[tuple[str, str]] = [
    ("Ctrl+N", "New project from an image"),
    ("Ctrl+O", "Open an image, project (.klproj) or Kling request"),
    ("Ctrl+S", "Save the project"),
    ("Ctrl+Shift+S", "Save the project as…"),
    ("Ctrl+E", "Export (Kling bundle, MP4, GIF, WebM)"),
    ("Ctrl+W", "Close the project"),
    ("Ctrl+Q", "Quit"),
    ("Ctrl+Z", "Undo"),
    ("Ctrl+Shift+Z / Ctrl+Y", "Redo"),
    ("Ctrl+Shift+N", "Add a motion region"),
    ("F2 / double-click a name", "Rename a region (the selected one for F2)"),
    ("B", "Motion brush (paints the selected region)"),
    ("S", "Static brush (paints the static mask)"),
    ("E", "Eraser (erases the selected region or the static mask)"),
    ("T", "Trajectory tool"),
    ("[ / ]", "Smaller / larger brush"),
    ("Shift+click", "Brush: straight line from the previous click"),
    ("Right-drag", "Brush: erase the selected target"),
    ("Click / drag", "Trajectory: add a point / draw a freehand path"),
    ("Drag a handle", "Trajectory: move a point"),
    ("Enter / double-click", "Trajectory: finish the path"),
    ("Delete / Backspace", "Trajectory: remove the hovered point"),
    ("Escape", "Trajectory: cancel the drag in progress"),
    ("W", "Magic wand: click takes the area under the cursor, Shift+click adds, Alt+click removes"),
    ("Ctrl+Shift+G", "Snap the selected region's paint to the edges in the photo"),
    ("Ctrl+Shift+B", "Smart brush on / off: each stroke snaps to the edges as it ends"),
    ("Ctrl+= / Ctrl++", "Zoom in"),
    ("Ctrl+-", "Zoom out"),
    ("Ctrl+0", "Fit the image in the window"),
    ("Ctrl+1", "Actual pixels (100 %)"),
    ("Mouse wheel / Ctrl+scroll / pinch", "Zoom around the cursor (the fingers on a touchpad)"),
    ("Two-finger scroll / Shift+wheel", "Pan (Shift: sideways)"),
    ("Space+drag / middle drag", "Pan (Space: with the pointer over the canvas)"),
    ("Arrow keys / Shift+arrow keys", "Pan the canvas a little / a lot"),
    ("Two-finger double tap", "Fit the image, or 100 % when fitted"),
    ("Pen eraser end", "Erase; pen pressure scales the brush (Tools > Pen Pressure)"),
    ("Space", "Play / pause the preview"),
    ("P", "Play the preview on the canvas (overlays hidden, tools paused)"),
    ("Shift+P", "Before / after split on the canvas preview (drag to move the line)"),
    ("F1", "Keyboard shortcuts"),
]


def native_keys(keys: str) -> str:
    """Keys as this platform writes them (⌘ on macOS); words like "drag" are kept as they are."""
    parts = []
    for part in keys.split(" / "):
        seq = QKeySequence(part)
        portable = seq.toString(QKeySequence.SequenceFormat.PortableText)
        parts.append(seq.toString(QKeySequence.SequenceFormat.NativeText) if portable == part else part)
    return " / ".join(parts)


class ShortcutsDialog(QDialog):
    """A read-only table of SHORTCUTS."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME} - Keyboard shortcuts")
        self.table = QTableWidget(len(SHORTCUTS), 2, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        for row, (keys, action) in enumerate(SHORTCUTS):
            key_item = QTableWidgetItem(native_keys(keys))
            key_item.setToolTip(keys)
            self.table.setItem(row, 0, key_item)
            self.table.setItem(row, 1, QTableWidgetItem(action))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(580, 620)

    def rows(self) -> list[tuple[str, str]]:
        """The table's text, row by row."""
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text()) for r in range(self.table.rowCount())]


class AboutDialog(QDialog):
    """Name, version, purpose, and that everything stays local."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        title = QLabel(APP_NAME, self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setText(about_text())
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.label)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)


def about_text() -> str:
    return f"Version {kling_preview.__version__}\n\n{PURPOSE}\n\n{LOCAL_NOTE}"


def show_shortcuts(parent: QWidget) -> None:
    """Modal dialog listing `SHORTCUTS`."""
    dialog = ShortcutsDialog(parent)
    try:
        dialog.exec()
    finally:
        dialog.deleteLater()


def show_about(parent: QWidget) -> None:
    """Modal About dialog with the version."""
    dialog = AboutDialog(parent)
    try:
        dialog.exec()
    finally:
        dialog.deleteLater()
