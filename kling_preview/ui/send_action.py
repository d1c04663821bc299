"""File > Send to Kling... (confirm what the request is and costs, then submit it; the Kling tasks panel follows
it) and File > Compare with Video... (did the generated video follow the arrows?)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from kling_preview.core.send.pricing import cost_line
from kling_preview.ui.dialogs.compare import compare_with_video
from kling_preview.ui.panels.sent_tasks import SentTasksPanel


def attach_send(window: Any) -> SentTasksPanel:
    """Add the Kling tasks dock and the Send and Compare actions to `window` (a MainWindow)."""
    panel = SentTasksPanel(parent=window)
    window.sent_tasks = panel
    window.sent_tasks_dock = window._dock("Kling tasks", "sentTasksDock", panel, Qt.DockWidgetArea.BottomDockWidgetArea)
    action = window.addAction("Send to &Kling...")
    action.setObjectName("sendToKlingAction")
    action.setStatusTip("Submit the request Export would write to Kling's API (spends credits)")
    action.triggered.connect(lambda: confirm_and_send(window, panel))
    window.act_send = action
    compare = window.addAction("Compare with &Video...")
    compare.setObjectName("compareWithVideoAction")
    compare.setStatusTip("Track each region through a generated video and check it followed its arrow")
    compare.triggered.connect(lambda: compare_with_video(window))
    window.act_compare = compare
    file_menu = window.menuBar().actions()[0].menu()
    file_menu.insertAction(window.act_export, action)
    file_menu.insertAction(window.act_export, compare)
    panel.message.connect(lambda line: window.statusBar().showMessage(line, 8000))
    return panel


def confirm_and_send(window: Any, panel: SentTasksPanel) -> bool:
    """Ask before spending credits; True when the request went off to be submitted."""
    project = window.doc.project
    if project is None:
        window.statusBar().showMessage("Open an image or a project first", 8000)
        return False
    settings = project.kling
    source = str(window.path or window.source or "")
    cost = cost_line(settings.model_name, settings.mode, settings.duration)
    answer = QMessageBox.question(
        window,
        "Send to Kling",
        f"Send this project to Kling's API as {settings.model_name} {settings.mode}, {settings.duration} s?\n"
        f"The task spends credits from your Kling resource pack: {cost}.",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return False
    panel.send(project, source)
    return True
