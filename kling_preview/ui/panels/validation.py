"""Validation panel: Kling's rules checked live, so problems show while painting, not at export."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QStyle, QVBoxLayout, QWidget

from kling_preview.core.spec import kling, rules
from kling_preview.ui.worker import BackgroundJob, describe_exception, run_in_background

DEBOUNCE_MS = 150
REGION_ROLE = Qt.ItemDataRole.UserRole


def severity_icon(widget: QWidget, severity: str) -> QIcon:
    """The style's error or warning icon (anything that is not an error shows as a warning)."""
    pixmap = (
        QStyle.StandardPixmap.SP_MessageBoxCritical
        if severity == "error"
        else QStyle.StandardPixmap.SP_MessageBoxWarning
    )
    return widget.style().standardIcon(pixmap)


def summarize(problems: list) -> str:
    """ "Ready for Kling", "Ready for Kling (1 warning)" or "2 errors, 1 warning"."""
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if errors:
        return ", ".join([count(errors, "error")] + ([count(warnings, "warning")] if warnings else []))
    return "Ready for Kling" + (f" ({count(warnings, 'warning')})" if warnings else "")


class ValidationPanel(QWidget):
    """Kling's rules checked live; clicking a problem selects its region."""

    regionActivated = Signal(int)  # region label
    #: Emitted after every check (the list and the summary are up to date).
    checked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._project = None
        self._problems: list = []
        self._warmup: BackgroundJob | None = None
        self.summary_label = QLabel(self)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(False)
        self.list.itemClicked.connect(self._on_item)
        self.list.itemActivated.connect(self._on_item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.list, 1)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.refresh)
        self.refresh()

    def set_project(self, project) -> None:
        """Check `project` (or clear for None).

        The rules look at the image exactly as it would be exported, and encoding a large PNG photo
        for that takes a second or more. The core caches the encoding, so it is done once in the
        background; the first check follows when it is ready and every later one is quick.
        """
        self._project = project
        self._debounce.stop()
        if self._warmup is not None:
            self._warmup.done.disconnect(self._on_warm)
            self._warmup.deleteLater()
            self._warmup = None
        if project is None:
            self.refresh()
            return
        self.list.clear()
        self._problems = []
        self._set_summary("Checking…", None)
        image = project.image
        self._warmup = run_in_background(lambda _progress, _cancel: kling.export_image_bytes(image), parent=self)
        self._warmup.done.connect(self._on_warm)

    @Slot()
    def _on_warm(self) -> None:
        if self._warmup is not None:
            self._warmup.deleteLater()
            self._warmup = None
        self.refresh()  # a failure of the encoding shows up in the check itself

    def schedule_update(self) -> None:
        """Call after any edit; re-checks shortly after (debounced)."""
        if self._project is not None and self._warmup is None:
            self._debounce.start()

    @property
    def problems(self) -> list:
        """The problems listed, errors first."""
        return list(self._problems)

    def summary(self) -> str:
        return self.summary_label.text()

    @Slot()
    def refresh(self) -> None:
        """Check now."""
        self._debounce.stop()
        self.list.clear()
        if self._project is None:
            self._problems = []
            self._set_summary("No project", None)
            self.checked.emit()
            return
        try:
            found = rules.validate_project(self._project)
        except Exception as exc:  # a checker bug must not take the editor down
            self._problems = [
                rules.Problem("error", f"Could not check the project: {describe_exception(exc)}", "internal", None)
            ]
        else:
            self._problems = sorted(found, key=lambda p: p.severity != "error")
        for problem in self._problems:
            item = QListWidgetItem(severity_icon(self, problem.severity), problem.message)
            item.setData(REGION_ROLE, problem.region)
            tip = f"{problem.severity.capitalize()} ({problem.rule})"
            if problem.region is not None:
                tip += " - click to select the region"
            item.setToolTip(tip)
            self.list.addItem(item)
        has_errors = any(p.severity == "error" for p in self._problems)
        self._set_summary(summarize(self._problems), "#d32f2f" if has_errors else "#2e7d32")
        self.checked.emit()

    def _set_summary(self, text: str, color: str | None) -> None:
        self.summary_label.setText(text)
        self.summary_label.setStyleSheet(f"font-weight: bold; color: {color};" if color else "")

    @Slot(QListWidgetItem)
    def _on_item(self, item: QListWidgetItem) -> None:
        label = item.data(REGION_ROLE)
        if label is not None:
            self.regionActivated.emit(int(label))
