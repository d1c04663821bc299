"""Regions panel: the motion regions (at most six) and the static mask, like a layers panel.

Each row shows a colour swatch (click to change), a visibility eye, the name (editable), the trajectory's
point count, the preview's motion kind, strength and feather. The static mask is a fixed last row.
Selecting a row makes it the paint target. Every change goes through an undo command.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kling_preview.core import trajectory as traj
from kling_preview.core.edits import AddRegion, MoveRegion, RemoveRegion, SetMask, SetRegionAttr, check_room
from kling_preview.core.errors import LimitError
from kling_preview.core.masks import STATIC
from kling_preview.core.project import MAX_REGIONS, MotionKind, Region

from ..commands import Document

KIND_TIPS = {
    MotionKind.PATH: "Path: the region travels along its trajectory (what Kling's motion brush asks for)",
    MotionKind.FLOW: "Flow: the texture streams along the trajectory and loops (water, clouds, smoke)",
    MotionKind.AMBIENT: "Ambient: small looping shimmer (leaves, fire, ripples)",
}
STATIC_COLOR = (96, 104, 120)


def swatch_icon(color: tuple[int, int, int], size: int = 18, hatched: bool = False) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(0, 0, 0, 180), 1))
        p.setBrush(QColor(*color))
        p.drawRoundedRect(QRectF(0.5, 0.5, size - 1, size - 1), 3, 3)
        if hatched:
            p.setPen(QPen(QColor(230, 230, 235, 200), 1.2))
            for k in range(-size, size, 5):
                p.drawLine(QPointF(k, size), QPointF(k + size, 0))
    finally:
        p.end()
    return QIcon(pix)


def eye_icon(size: int = 18) -> QIcon:
    """An eye (visible) for the On state, a struck-through eye for Off."""
    icon = QIcon()
    for state, struck in ((QIcon.State.On, False), (QIcon.State.Off, True)):
        pix = QPixmap(size, size)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            color = QColor(150, 150, 155) if struck else QColor(225, 225, 230)
            p.setPen(QPen(color, 1.5))
            path = QPainterPath(QPointF(1.5, size / 2))
            path.quadTo(QPointF(size / 2, 1.5), QPointF(size - 1.5, size / 2))
            path.quadTo(QPointF(size / 2, size - 1.5), QPointF(1.5, size / 2))
            p.drawPath(path)
            p.setBrush(color)
            p.drawEllipse(QPointF(size / 2, size / 2), 2.5, 2.5)
            if struck:
                p.setPen(QPen(QColor(220, 80, 80), 1.8))
                p.drawLine(QPointF(3, size - 3), QPointF(size - 3, 3))
        finally:
            p.end()
        icon.addPixmap(pix, QIcon.Mode.Normal, state)
    return icon


class _RowBase(QFrame):
    """A selectable row: a click anywhere on it (or focus on one of its editors) selects it."""

    activated = Signal(int)  # label

    def __init__(self, label: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = label
        self.setObjectName("regionRow")
        self.setProperty("selected", False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def watch(self, *widgets: QWidget) -> None:
        for w in widgets:
            w.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.FocusIn):
            self.activated.emit(self.label)
        return False

    def mousePressEvent(self, event) -> None:
        self.activated.emit(self.label)
        super().mousePressEvent(event)

    def set_selected(self, selected: bool) -> None:
        if bool(self.property("selected")) != selected:
            self.setProperty("selected", selected)
            self.style().unpolish(self)
            self.style().polish(self)
            self.update()


class RegionRow(_RowBase):
    """One motion region."""

    def __init__(self, panel: RegionsPanel, region: Region):
        super().__init__(region.label, panel)
        self.panel = panel
        self.swatch = QToolButton(self)
        self.swatch.setObjectName("swatch")
        self.swatch.setAutoRaise(True)
        self.swatch.setIconSize(QSize(18, 18))
        self.swatch.setToolTip("Click to change the colour")
        self.eye = QToolButton(self)
        self.eye.setObjectName("eye")
        self.eye.setCheckable(True)
        self.eye.setAutoRaise(True)
        self.eye.setIcon(eye_icon())
        self.eye.setToolTip("Show or hide this region on the canvas and in the preview")
        self.name = QLineEdit(self)
        self.name.setObjectName("name")
        self.name.setFrame(False)
        self.name.setToolTip("Double-click (or F2) to rename")
        self._end_rename()  # not editable until asked: tool keys after a click must not type into it
        self.points = QLabel(self)
        self.points.setObjectName("points")
        self.kind = QComboBox(self)
        self.kind.setObjectName("kind")
        for k in MotionKind:
            self.kind.addItem(k.value.capitalize(), k)
            self.kind.setItemData(self.kind.count() - 1, KIND_TIPS[k], Qt.ItemDataRole.ToolTipRole)
        self.kind.setToolTip("How the local preview animates this region")
        self.strength = QDoubleSpinBox(self)
        self.strength.setObjectName("strength")
        self.strength.setRange(0.0, 3.0)
        self.strength.setSingleStep(0.1)
        self.strength.setDecimals(1)
        self.strength.setPrefix("\u00d7")
        self.strength.setKeyboardTracking(False)
        self.strength.setToolTip("Strength: speed / amount of motion in the preview")
        self.feather = QDoubleSpinBox(self)
        self.feather.setObjectName("feather")
        self.feather.setRange(0.0, 200.0)
        self.feather.setDecimals(0)
        self.feather.setPrefix("Feather ")
        self.feather.setSuffix(" px")
        self.feather.setKeyboardTracking(False)
        self.feather.setToolTip("Soft edge of the region in the preview")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(4)
        top.addWidget(self.swatch)
        top.addWidget(self.eye)
        top.addWidget(self.name, 1)
        top.addWidget(self.points)
        # Details only for the selected row: one line per region fits six of them at 768 px.
        self.details = QWidget(self)
        self.details.setVisible(False)
        bottom = QHBoxLayout(self.details)
        bottom.setContentsMargins(30, 0, 0, 0)
        bottom.setSpacing(4)
        bottom.addWidget(self.kind)
        bottom.addWidget(self.strength)
        bottom.addWidget(self.feather)
        bottom.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 3, 4, 3)
        outer.setSpacing(2)
        outer.addLayout(top)
        outer.addWidget(self.details)
        self.watch(self.swatch, self.eye, self.name, self.kind, self.strength, self.feather)

        self.sync(region)
        self.swatch.clicked.connect(self._pick_color)
        self.eye.toggled.connect(lambda on: panel.set_attr(self.label, "visible", bool(on)))
        self.name.editingFinished.connect(self._rename)
        self.kind.currentIndexChanged.connect(
            lambda _i: panel.set_attr(self.label, "kind", MotionKind(self.kind.currentData()))
        )
        self.strength.valueChanged.connect(lambda v: panel.set_attr(self.label, "strength", float(v)))
        self.feather.valueChanged.connect(lambda v: panel.set_attr(self.label, "feather", float(v)))

    def sync(self, region: Region) -> None:
        """Show `region`'s values without emitting change signals."""
        blockers = [QSignalBlocker(w) for w in (self.eye, self.name, self.kind, self.strength, self.feather)]
        try:
            self.swatch.setIcon(swatch_icon(region.color))
            self.eye.setChecked(region.visible)
            typing = self.name.hasFocus() and self.name.isModified()
            if not typing and self.name.text() != region.name:
                self.name.setText(region.name)
                self.name.setCursorPosition(0)
            self.kind.setCurrentIndex(max(0, self.kind.findData(MotionKind(region.kind))))
            self.strength.setValue(region.strength)
            self.feather.setValue(region.feather)
            self.sync_points(region)
        finally:
            del blockers

    def sync_points(self, region: Region) -> None:
        n = len(region.trajectory)
        self.points.setText(f"{n}/{traj.MAX_POINTS}")
        ok = traj.MIN_POINTS <= n <= traj.MAX_POINTS
        self.points.setToolTip(
            "Trajectory points" if ok else f"Kling needs {traj.MIN_POINTS} to {traj.MAX_POINTS} trajectory points"
        )
        self.points.setStyleSheet("" if ok else "color: #e0604f;")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.name and event.type() == QEvent.Type.MouseButtonDblClick:
            self.activated.emit(self.label)
            self.start_rename()
            return True
        return super().eventFilter(obj, event)

    def set_selected(self, selected: bool) -> None:
        super().set_selected(selected)
        self.details.setVisible(selected)

    def start_rename(self) -> None:
        """Make the name editable and focused, all of it selected (double-click or F2)."""
        self.name.setReadOnly(False)
        self.name.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)
        self.name.selectAll()

    def _end_rename(self) -> None:
        self.name.setReadOnly(True)
        self.name.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.name.deselect()
        self.name.setCursorPosition(0)

    def _rename(self) -> None:
        if self.name.isReadOnly():
            return
        text = self.name.text().strip()
        project = self.panel.doc.project
        self._end_rename()
        if project is None:
            return
        current = project.region(self.label).name
        self.name.setModified(False)
        if not text:
            self.name.setText(current)
            return
        self.panel.set_attr(self.label, "name", text)

    def _pick_color(self) -> None:
        project = self.panel.doc.project
        if project is None:
            return
        region = project.region(self.label)
        color = QColorDialog.getColor(QColor(*region.color), self, f"Colour of {region.name}")
        if color.isValid():
            self.panel.set_attr(self.label, "color", (color.red(), color.green(), color.blue()))


class StaticRow(_RowBase):
    """The static mask: painted areas are held still in the preview and in Kling."""

    def __init__(self, panel: RegionsPanel):
        super().__init__(STATIC, panel)
        self.panel = panel
        swatch = QLabel(self)
        swatch.setPixmap(swatch_icon(STATIC_COLOR, hatched=True).pixmap(18, 18))
        swatch.setFixedWidth(26)
        swatch.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.eye = QToolButton(self)
        self.eye.setObjectName("eye")
        self.eye.setCheckable(True)
        self.eye.setAutoRaise(True)
        self.eye.setIcon(eye_icon())
        self.eye.setChecked(panel.doc.show_static)
        self.eye.setToolTip("Show or hide the static mask on the canvas")
        title = QLabel("<b>Static mask</b> <span style='color:gray'>never moves (S)</span>", self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(swatch)
        layout.addWidget(self.eye)
        layout.addWidget(title, 1)
        self.watch(self.eye)
        self.eye.toggled.connect(panel.doc.set_static_visible)


class RegionsPanel(QWidget):
    """The list of motion regions plus the static mask; selecting a row sets the paint target."""

    message = Signal(str)

    def __init__(self, doc: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("regionsPanel")
        self.doc = doc
        self.rows: dict[int, RegionRow] = {}
        self.setStyleSheet(
            "QFrame#regionRow { border: 1px solid transparent; border-radius: 4px; }"
            'QFrame#regionRow[selected="true"] { border: 1px solid palette(highlight);'
            " background: rgba(80, 130, 220, 55); }"
        )
        self.header = QLabel(self)
        self.header.setObjectName("header")
        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(2, 2, 2, 2)
        self._list_layout.setSpacing(2)
        self._list_layout.addStretch(1)
        self.scroll = scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._list)
        self.static_row = StaticRow(self)
        self.static_row.activated.connect(self.select_label)

        self.add_button = self._button("Add", "Add a motion region (Ctrl+Shift+N)", None)
        self.delete_button = self._button(
            "Delete", "Delete the selected region, or clear the static mask", QStyle.StandardPixmap.SP_TrashIcon
        )
        self.up_button = self._button("", "Move the selected region up", QStyle.StandardPixmap.SP_ArrowUp)
        self.down_button = self._button("", "Move the selected region down", QStyle.StandardPixmap.SP_ArrowDown)
        self.add_button.setText("+ Add")
        self.add_button.clicked.connect(self.add_region)
        self.delete_button.clicked.connect(self.delete_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(+1))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.setSpacing(4)
        for b in (self.add_button, self.delete_button, self.up_button, self.down_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(scroll, 1)
        layout.addWidget(line)
        layout.addWidget(self.static_row)
        layout.addLayout(buttons)

        doc.projectChanged.connect(self._rebuild)
        doc.regionsChanged.connect(self._on_regions)
        doc.trajectoryChanged.connect(self._on_trajectory)
        doc.targetChanged.connect(self._on_target)
        doc.overlayChanged.connect(self._on_overlay)
        self._rebuild()

    def _button(self, text: str, tip: str, icon: QStyle.StandardPixmap | None) -> QToolButton:
        b = QToolButton(self)
        b.setText(text)
        b.setToolTip(tip)
        if icon is not None:
            b.setIcon(self.style().standardIcon(icon))
        b.setToolButtonStyle(
            Qt.ToolButtonStyle.ToolButtonTextBesideIcon if text else Qt.ToolButtonStyle.ToolButtonIconOnly
        )
        return b

    # ----- building --------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        for row in self.rows.values():
            self._list_layout.removeWidget(row)
            row.hide()
            row.deleteLater()
        self.rows = {}
        project = self.doc.project
        if project is not None:
            for i, region in enumerate(project.regions):
                row = RegionRow(self, region)
                row.activated.connect(self.select_label)
                self._list_layout.insertWidget(i, row)
                self.rows[region.label] = row
        self._refresh_state()

    def _on_regions(self) -> None:
        project = self.doc.project
        labels = [r.label for r in project.regions] if project is not None else []
        if labels != list(self.rows):
            self._rebuild()
            return
        assert project is not None
        for region in project.regions:
            self.rows[region.label].sync(region)
        self._refresh_state()

    def _on_trajectory(self, label: int) -> None:
        region = self.doc.project.find_region(label) if self.doc.project is not None else None
        if region is not None and label in self.rows:  # (a group's undo may remove it right after)
            self.rows[label].sync_points(region)

    def _on_target(self, _label: int) -> None:
        self._refresh_state()

    def _on_overlay(self) -> None:
        with QSignalBlocker(self.static_row.eye):
            self.static_row.eye.setChecked(self.doc.show_static)

    def _refresh_state(self) -> None:
        project = self.doc.project
        target = self.doc.target
        count = len(project.regions) if project is not None else 0
        self.header.setText(f"<b>Motion regions</b> &nbsp;{count}/{MAX_REGIONS}")
        for label, row in self.rows.items():
            row.set_selected(label == target)
        if target in self.rows:
            QTimer.singleShot(0, self._show_selected)  # after the rows' layout has settled
        self.static_row.set_selected(project is not None and target == STATIC)
        has = project is not None
        self.add_button.setEnabled(has)
        self.static_row.setEnabled(has)
        self.delete_button.setEnabled(has and target is not None)
        index = project.index_of(target) if has and target in self.rows else -1
        self.up_button.setEnabled(index > 0)
        self.down_button.setEnabled(0 <= index < count - 1)

    def _show_selected(self) -> None:
        """Scroll the selected row into view (a new region, or one picked in the Kling check)."""
        row = self.rows.get(self.doc.target) if self.doc.target is not None else None
        if row is not None:
            self._list.layout().activate()
            self.scroll.ensureWidgetVisible(row, 0, 0)

    # ----- actions ---------------------------------------------------------------------------------
    def rename_selected(self) -> None:
        """F2: rename the selected region in its row."""
        row = self.rows.get(self.doc.target) if self.doc.target is not None else None
        if row is not None:
            self._show_selected()
            row.start_rename()

    def select_label(self, label: int) -> None:
        """Make `label` (a region or STATIC) the paint target."""
        self.doc.set_target(label)

    def set_attr(self, label: int, attr: str, value) -> None:
        project = self.doc.project
        if project is None:
            return
        old = getattr(project.region(label), attr)
        if old == value:
            return
        self.doc.apply(SetRegionAttr(label=label, attr=attr, old=old, new=value))

    def add_region(self) -> bool:
        """Add a region (and select it); a 7th is refused with Kling's limit."""
        if self.doc.project is None:
            return False
        try:
            check_room(self.doc.project)
        except LimitError as exc:
            QMessageBox.warning(self, "Region limit", str(exc))
            return False
        self.doc.apply(AddRegion())
        return True

    def delete_selected(self) -> None:
        project, target = self.doc.project, self.doc.target
        if project is None or target is None:
            return
        if target == STATIC:
            if project.static_mask.any():
                self.doc.apply(SetMask(STATIC, np.zeros(project.labels.shape, dtype=bool), "Clear static mask"))
            return
        self.doc.apply(RemoveRegion(target))

    def move_selected(self, step: int) -> None:
        project, target = self.doc.project, self.doc.target
        if project is None or target is None or target == STATIC:
            return
        old = project.index_of(target)
        new = old + step
        if 0 <= new < len(project.regions):
            self.doc.apply(MoveRegion(target, old, new))
