"""Send Variants to Kling...: the same masks and arrows with several prompts and/or cfg_scale values.

Every combination is one task; the dialog shows how many and what they cost before anything is sent.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from kling_preview.core.project import KlingSettings
from kling_preview.core.send.pricing import cost_line


def parse_cfg_scales(text: str) -> list[float]:
    """`0.3, 0.5 0.8` -> [0.3, 0.5, 0.8]; ValueError names the first value that is not a number in 0..1."""
    values = []
    for part in text.replace(",", " ").split():
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a number") from None
        if not 0 <= value <= 1:
            raise ValueError(f"{part} is outside 0 to 1")
        values.append(value)
    return values


class VariantsDialog(QDialog):
    """Prompts one per line, cfg_scale values separated by commas; accept() only when both parse."""

    def __init__(self, settings: KlingSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("variantsDialog")
        self.setWindowTitle("Send Variants to Kling")
        self.settings = settings
        self.prompts_edit = QPlainTextEdit(settings.prompt)
        self.prompts_edit.setObjectName("variantPrompts")
        self.cfg_edit = QLineEdit(f"{settings.cfg_scale:g}")
        self.cfg_edit.setObjectName("variantCfgScales")
        self.summary = QLabel()
        self.summary.setObjectName("variantSummary")
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Send")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Prompts (one per line)", self.prompts_edit)
        form.addRow("cfg_scale values", self.cfg_edit)
        form.addRow(self.summary)
        form.addRow(self.buttons)
        self.prompts_edit.textChanged.connect(self._update)
        self.cfg_edit.textChanged.connect(self._update)
        self._update()

    def prompts(self) -> list[str]:
        return [line.strip() for line in self.prompts_edit.toPlainText().splitlines() if line.strip()]

    def cfg_scales(self) -> list[float]:
        return parse_cfg_scales(self.cfg_edit.text())

    def _update(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            cfgs = self.cfg_scales()
        except ValueError as exc:
            self.summary.setText(f"cfg_scale: {exc}")
            ok.setEnabled(False)
            return
        count = max(len(self.prompts()), 1) * max(len(cfgs), 1)
        s = self.settings
        self.summary.setText(
            f"{count} task{'s' if count != 1 else ''}, {cost_line(s.model_name, s.mode, s.duration, tasks=count)}"
        )
        ok.setEnabled(True)
