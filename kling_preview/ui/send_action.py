"""File > Send to Kling... (confirm what the request is and costs, then submit it; the Kling tasks panel follows
it) and File > Compare with Video... (did the generated video follow the arrows?)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from kling_preview.core.send.pricing import cost_line
from kling_preview.ui.dialogs.compare import compare_with_video
from kling_preview.ui.dialogs.variants import VariantsDialog
from kling_preview.ui.panels.kling_video import KlingVideoPanel
from kling_preview.ui.panels.sent_tasks import SentTasksPanel


def attach_send(window: Any) -> SentTasksPanel:
    """Add the Kling tasks dock and the Send and Compare actions to `window` (a MainWindow)."""
    panel = SentTasksPanel(parent=window)
    window.sent_tasks = panel
    right = Qt.DockWidgetArea.RightDockWidgetArea
    # A tab beside the Kling check and History: on a 768 px laptop screen a bottom dock would take the canvas's
    # height for a list that is empty until the first task is sent. It comes to the front when one is.
    window.sent_tasks_dock = tasks_dock = window._dock("Kling tasks", "sentTasksDock", panel, right)
    window.tabifyDockWidget(window.history_dock, tasks_dock)
    window.validation_dock.raise_()
    known = [len(panel.tasks)]

    def raise_on_new_task() -> None:
        if len(panel.tasks) > known[0]:
            tasks_dock.raise_()
        known[0] = len(panel.tasks)

    panel.changed.connect(raise_on_new_task)
    action = window.addAction("Send to &Kling...")
    action.setObjectName("sendToKlingAction")
    action.setStatusTip("Submit the request Export would write to Kling's API (spends credits)")
    action.triggered.connect(lambda: confirm_and_send(window, panel))
    window.act_send = action
    batch = window.addAction("Send &Variants to Kling...")
    batch.setObjectName("sendVariantsAction")
    batch.setStatusTip("Send the same masks and arrows with several prompts or cfg_scale values")
    batch.triggered.connect(lambda: send_variants(window, panel))
    window.act_send_variants = batch
    compare = window.addAction("Compare with &Video...")
    compare.setObjectName("compareWithVideoAction")
    compare.setStatusTip("Track each region through a generated video and check it followed its arrow")
    compare.triggered.connect(lambda: compare_with_video(window))
    window.act_compare = compare
    file_menu = window.menuBar().actions()[0].menu()
    for entry in (action, batch, compare):
        file_menu.insertAction(window.act_export, entry)
    panel.message.connect(lambda line: window.statusBar().showMessage(line, 8000))
    video = KlingVideoPanel(window)
    window.kling_video = video
    window.kling_video_dock = dock = window._dock("Kling video", "klingVideoDock", video, right)
    window.splitDockWidget(window.preview_dock, dock, Qt.Orientation.Vertical)  # both in view at once
    dock.hide()  # until there is a video to show
    window.preview.frameShown.connect(lambda index: video.follow(index, window.preview.frame_count()))
    panel.videoChosen.connect(video.load)
    video.loaded.connect(lambda path: (dock.show(), dock.raise_()))
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


def send_variants(window: Any, panel: SentTasksPanel, dialog: VariantsDialog | None = None) -> bool:
    """Ask for the variants (the dialog shows their count and cost), then send them as one batch."""
    project = window.doc.project
    if project is None:
        window.statusBar().showMessage("Open an image or a project first", 8000)
        return False
    dialog = dialog or VariantsDialog(project.kling, window)
    try:
        if dialog.exec() != VariantsDialog.DialogCode.Accepted:
            return False
        prompts, cfgs = dialog.prompts(), dialog.cfg_scales()
    finally:
        dialog.deleteLater()
    panel.send(project, str(window.path or window.source or ""), prompts=prompts or None, cfg_scales=cfgs or None)
    return True
