"""Kling request panel: model, mode, duration, cfg_scale, the prompts and the camera move.

These fields travel in the image2video request unchanged (`core/spec/kling.py`), so the panel only
shows and edits `project.kling` and `project.camera`; Kling's rules about them are reported by the
validation panel, which re-checks after every change. Each change is one undo step: typing in a prompt
or dragging the slider merges into one step per burst (a burst ends when focus moves, the slider is
released, or an undo / redo changes the settings).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSignalBlocker, QSize, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from kling_preview.core.edits import SetSetting
from kling_preview.core.project import CAMERA_AXES, CameraMove
from kling_preview.core.spec.rules import BRUSH_MODELS, CAMERA_LIMIT, DURATIONS, MAX_PROMPT_CHARS, MODES

from ..commands import Document

#: Models offered in the (editable) model box; any other name can be typed.
MODELS = ("kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1")
#: The axis box's entry for "no camera move".
NO_CAMERA = "none"
#: Value given to a newly chosen axis while the value is 0 (a zero move would not move at all).
DEFAULT_CAMERA_VALUE = 5.0
CFG_STEPS = 100
OVER_LIMIT_COLOR = "#e0604f"
NOTE_STYLE = "color: #8c8c91;"

CAMERA_NOTE = (
    "Kling forbids a camera move together with motion-brush masks (regions or a static mask): use one or the other."
)


def _brush_note(model: str) -> str:
    modes = BRUSH_MODELS.get(model)
    return f"motion brush: {' and '.join(modes)}" if modes else "motion brush not documented"


def _is_undo_key(event: QKeyEvent) -> bool:
    if event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo):
        return True
    return event.key() == Qt.Key.Key_Y and event.modifiers() == Qt.KeyboardModifier.ControlModifier


class PromptEdit(QPlainTextEdit):
    """Plain text only, Tab moves on, and Ctrl+Z / Ctrl+Y reach the document's undo (not the editor's)."""

    def __init__(self, placeholder: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setTabChangesFocus(True)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)

    def sizeHint(self) -> QSize:
        lines = 3
        height = self.fontMetrics().lineSpacing() * lines + 2 * self.frameWidth() + 8
        return QSize(super().sizeHint().width(), height)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and _is_undo_key(event):
            event.ignore()  # not taken here: the window's Undo / Redo actions get the keys
            return True
        return super().event(event)


class KlingSettingsPanel(QWidget):
    """The request's settings and the camera move of the open project, edited through undo commands."""

    def __init__(self, doc: Document, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("klingSettingsPanel")
        self.doc = doc
        self._bursts: dict[str, int] = {}
        self._burst_count = 0
        self._pushing = False
        self._build()
        doc.projectChanged.connect(self.refresh)
        doc.settingsChanged.connect(self._on_settings)
        self.refresh()

    # ----- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.model_combo = QComboBox(self)
        self.model_combo.setObjectName("model")
        self.model_combo.setEditable(True)
        self.model_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for name in MODELS:
            self.model_combo.addItem(name)
            self.model_combo.setItemData(
                self.model_combo.count() - 1, f"{name} ({_brush_note(name)})", Qt.ItemDataRole.ToolTipRole
            )
        self.model_combo.setToolTip(
            "model_name: pick one or type another; the motion brush works only with kling-v1 (std or pro) "
            "and kling-v1-5 (pro)"
        )
        self.mode_combo = QComboBox(self)
        self.mode_combo.setObjectName("mode")
        for mode in MODES:
            self.mode_combo.addItem(mode, mode)
        self.mode_combo.setToolTip("mode: std (standard) or pro (professional, higher quality)")
        self.duration_combo = QComboBox(self)
        self.duration_combo.setObjectName("duration")
        for seconds in DURATIONS:
            self.duration_combo.addItem(f"{seconds} s", seconds)
        self.duration_combo.setToolTip("duration of the generated clip; with motion-brush masks Kling takes only 5 s")

        self.cfg_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.cfg_slider.setObjectName("cfgSlider")
        self.cfg_slider.setRange(0, CFG_STEPS)
        self.cfg_slider.setPageStep(10)
        self.cfg_spin = QDoubleSpinBox(self)
        self.cfg_spin.setObjectName("cfgScale")
        self.cfg_spin.setRange(0.0, 1.0)
        self.cfg_spin.setDecimals(2)
        self.cfg_spin.setSingleStep(0.05)
        self.cfg_spin.setKeyboardTracking(False)
        tip = "cfg_scale, 0 to 1: low values leave Kling more freedom, high values follow the prompt more closely"
        for w in (self.cfg_slider, self.cfg_spin):
            w.setToolTip(tip)
        cfg_label = QLabel("creativity \u2194 relevance", self)
        cfg_label.setObjectName("cfgLabel")
        cfg_label.setStyleSheet(NOTE_STYLE)
        cfg_label.setToolTip(tip)

        self.prompt_edit = PromptEdit("What should happen in the clip (optional)", self)
        self.prompt_edit.setObjectName("prompt")
        self.prompt_counter = self._counter("promptCounter")
        self.negative_edit = PromptEdit("What to avoid (optional)", self)
        self.negative_edit.setObjectName("negativePrompt")
        self.negative_counter = self._counter("negativePromptCounter")

        self.camera_axis = QComboBox(self)
        self.camera_axis.setObjectName("cameraAxis")
        self.camera_axis.addItem(NO_CAMERA, "")
        for axis in CAMERA_AXES:
            self.camera_axis.addItem(axis, axis)
        self.camera_axis.setToolTip("camera_control (simple): the one axis the camera moves along, or none")
        self.camera_value = QDoubleSpinBox(self)
        self.camera_value.setObjectName("cameraValue")
        self.camera_value.setRange(-CAMERA_LIMIT, CAMERA_LIMIT)
        self.camera_value.setDecimals(1)
        self.camera_value.setSingleStep(1.0)
        self.camera_value.setKeyboardTracking(False)
        self.camera_value.setToolTip(
            f"Strength and direction of the move, -{CAMERA_LIMIT} to {CAMERA_LIMIT} (0 does not move); "
            "the preview shows it as a warp over the whole clip"
        )
        self.camera_note = QLabel(CAMERA_NOTE, self)
        self.camera_note.setObjectName("cameraNote")
        self.camera_note.setWordWrap(True)
        self.camera_note.setStyleSheet(NOTE_STYLE)
        self.camera_extra_note = QLabel(self)
        self.camera_extra_note.setObjectName("cameraExtraNote")
        self.camera_extra_note.setWordWrap(True)
        self.camera_extra_note.setStyleSheet(NOTE_STYLE)

        request_row = QHBoxLayout()
        request_row.setSpacing(4)
        request_row.addWidget(self.mode_combo)
        request_row.addWidget(QLabel("Duration", self))
        request_row.addWidget(self.duration_combo)
        request_row.addStretch(1)
        cfg_row = QHBoxLayout()
        cfg_row.setSpacing(4)
        cfg_row.addWidget(self.cfg_slider, 1)
        cfg_row.addWidget(self.cfg_spin)
        camera_row = QHBoxLayout()
        camera_row.setSpacing(4)
        camera_row.addWidget(self.camera_axis, 1)
        camera_row.addWidget(self.camera_value)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Model", self.model_combo)
        form.addRow("Mode", request_row)
        form.addRow("cfg_scale", cfg_row)
        form.addRow("", cfg_label)
        form.addRow(self._with_counter("Prompt", self.prompt_counter), self.prompt_edit)
        form.addRow(self._with_counter("Negative", self.negative_counter), self.negative_edit)
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        form.addRow(line)
        form.addRow("Camera", camera_row)
        form.addRow(self.camera_note)
        form.addRow(self.camera_extra_note)

        body = QWidget()
        body.setObjectName("klingSettingsBody")
        inner = QVBoxLayout(body)
        inner.setContentsMargins(4, 4, 4, 4)
        inner.addLayout(form)
        inner.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        self.model_combo.activated.connect(lambda _i: self._commit_model())
        self.model_combo.lineEdit().editingFinished.connect(self._commit_model)
        self.mode_combo.currentIndexChanged.connect(lambda _i: self._set("mode", self.mode_combo.currentData()))
        self.duration_combo.currentIndexChanged.connect(
            lambda _i: self._set("duration", self.duration_combo.currentData())
        )
        self.cfg_slider.valueChanged.connect(self._on_cfg_slider)
        self.cfg_slider.sliderPressed.connect(self._end_bursts)
        self.cfg_slider.sliderReleased.connect(self._end_bursts)
        self.cfg_spin.valueChanged.connect(self._on_cfg_spin)
        self.prompt_edit.textChanged.connect(lambda: self._on_text("prompt", self.prompt_edit))
        self.negative_edit.textChanged.connect(lambda: self._on_text("negative_prompt", self.negative_edit))
        self.camera_axis.currentIndexChanged.connect(lambda _i: self._on_camera_axis())
        self.camera_value.valueChanged.connect(self._on_camera_value)
        # A burst (merged undo step) ends when focus enters or leaves one of the merging editors.
        for w in (self.prompt_edit, self.negative_edit, self.cfg_slider, self.cfg_spin, self.camera_value):
            w.installEventFilter(self)

    def _counter(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        return label

    def _with_counter(self, title: str, counter: QLabel) -> QWidget:
        """A form label with the character counter under it (saves a row in a short dock)."""
        box = QWidget(self)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(QLabel(title, box))
        column.addWidget(counter)
        column.addStretch(1)
        return box

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self._end_bursts()
        return False

    # ----- showing the project ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the project's values (or an empty, disabled panel) without emitting edits."""
        self._end_bursts()
        project = self.doc.project
        self.setEnabled(project is not None)
        widgets = (
            self.model_combo, self.mode_combo, self.duration_combo, self.cfg_slider, self.cfg_spin,
            self.prompt_edit, self.negative_edit, self.camera_axis, self.camera_value,
        )  # fmt: skip
        blockers = [QSignalBlocker(w) for w in widgets]
        try:
            if project is None:
                self.model_combo.setEditText("")
                self._show_text(self.prompt_edit, self.prompt_counter, "")
                self._show_text(self.negative_edit, self.negative_counter, "")
                self.camera_extra_note.hide()
                return
            k, camera = project.kling, project.camera
            idx = self.model_combo.findText(str(k.model_name))
            if idx >= 0:
                self.model_combo.setCurrentIndex(idx)
            self.model_combo.setEditText(str(k.model_name))
            self._select(self.mode_combo, str(k.mode), str(k.mode))
            self._select(self.duration_combo, str(k.duration), f"{k.duration} s")
            self._show_cfg(float(k.cfg_scale))
            self._show_text(self.prompt_edit, self.prompt_counter, str(k.prompt))
            self._show_text(self.negative_edit, self.negative_counter, str(k.negative_prompt))
            self._select(self.camera_axis, camera.axis or "", camera.axis or NO_CAMERA)
            self.camera_value.setRange(
                min(-CAMERA_LIMIT, float(camera.value)), max(CAMERA_LIMIT, float(camera.value))
            )  # an odd value from a file is shown as it is; validation reports it
            self.camera_value.setValue(float(camera.value))
            self.camera_value.setEnabled(camera.axis is not None)
            self._show_extra_camera(k.extra.get("camera_control"))
        finally:
            del blockers

    @staticmethod
    def _select(combo: QComboBox, value: str, text: str) -> None:
        """Select the item holding `value`, adding one for a value from a file the box does not offer."""
        idx = combo.findData(value)
        if idx < 0:
            combo.addItem(text, value)
            idx = combo.count() - 1
        combo.setCurrentIndex(idx)

    def _show_cfg(self, value: float) -> None:
        self.cfg_spin.setRange(min(0.0, value), max(1.0, value))
        self.cfg_spin.setValue(value)
        self.cfg_slider.setValue(round(min(max(value, 0.0), 1.0) * CFG_STEPS))

    def _show_text(self, edit: QPlainTextEdit, counter: QLabel, text: str) -> None:
        if edit.toPlainText() != text:
            edit.setPlainText(text)
            edit.moveCursor(QTextCursor.MoveOperation.End)
        self._show_count(counter, len(text))

    @staticmethod
    def _show_count(counter: QLabel, n: int) -> None:
        over = n > MAX_PROMPT_CHARS
        counter.setText(f"{n}/{MAX_PROMPT_CHARS}")
        counter.setStyleSheet(f"color: {OVER_LIMIT_COLOR};" if over else NOTE_STYLE)
        limit = f"at most {MAX_PROMPT_CHARS} characters"
        counter.setToolTip(f"Kling accepts {limit}" if over else f"Characters ({limit})")

    def _show_extra_camera(self, control: Any) -> None:
        if control is None:
            self.camera_extra_note.hide()
            return
        kind = control.get("type") if isinstance(control, dict) else None
        name = f'"{kind}"' if isinstance(kind, str) else "of the imported request"
        self.camera_extra_note.setText(
            f"The imported camera_control {name} is sent unchanged (not previewed) while no move is chosen here."
        )
        self.camera_extra_note.show()

    def _on_settings(self, _key: str) -> None:
        if not self._pushing:  # undo / redo: show the values, and a new burst starts
            self.refresh()

    def _end_bursts(self) -> None:
        self._bursts.clear()

    def _burst(self, key: str) -> int:
        if key not in self._bursts:
            self._burst_count += 1
            self._bursts[key] = self._burst_count
        return self._bursts[key]

    # ----- edits -----------------------------------------------------------------------------------
    def _current(self, key: str) -> Any:
        project = self.doc.project
        assert project is not None
        return replace(project.camera) if key == "camera" else getattr(project.kling, key)

    def _set(self, key: str, value: Any, merge: bool = False) -> None:
        """Push one change (nothing when the value is unchanged); `merge` joins the current burst."""
        if self.doc.project is None or value is None:
            return
        old = self._current(key)
        if old == value:
            return
        edit = SetSetting(key=key, old=old, new=value, burst=self._burst(key) if merge else None)
        self._pushing = True
        try:
            self.doc.apply(edit)
        finally:
            self._pushing = False

    def _commit_model(self) -> None:
        project = self.doc.project
        if project is None:
            return
        text = self.model_combo.currentText().strip()
        if not text:  # an empty name is never what the user means: show the model again
            with QSignalBlocker(self.model_combo):
                self.model_combo.setEditText(str(project.kling.model_name))
            return
        self._set("model_name", text)

    def _on_cfg_slider(self, step: int) -> None:
        value = step / CFG_STEPS
        with QSignalBlocker(self.cfg_spin):
            self.cfg_spin.setRange(0.0, 1.0)
            self.cfg_spin.setValue(value)
        self._set("cfg_scale", value, merge=True)

    def _on_cfg_spin(self, value: float) -> None:
        value = round(float(value), 2)
        with QSignalBlocker(self.cfg_slider):
            self.cfg_slider.setValue(round(min(max(value, 0.0), 1.0) * CFG_STEPS))
        self._set("cfg_scale", value, merge=True)

    def _on_text(self, key: str, edit: QPlainTextEdit) -> None:
        text = edit.toPlainText()
        self._show_count(self.prompt_counter if key == "prompt" else self.negative_counter, len(text))
        self._set(key, text, merge=True)

    def _on_camera_axis(self) -> None:
        if self.doc.project is None:
            return
        axis = self.camera_axis.currentData() or None
        value = float(self.camera_value.value())
        if axis is None:
            value = 0.0
        elif value == 0.0:
            value = DEFAULT_CAMERA_VALUE
        with QSignalBlocker(self.camera_value):
            self.camera_value.setValue(value)
            self.camera_value.setEnabled(axis is not None)
        self._set("camera", CameraMove(axis=axis, value=value))

    def _on_camera_value(self, value: float) -> None:
        project = self.doc.project
        if project is None or project.camera.axis is None:
            return
        self._set("camera", CameraMove(axis=project.camera.axis, value=float(value)), merge=True)
