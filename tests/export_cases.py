"""What the export-dialog and validation tests share: a project Kling accepts, and one click on Export."""

from __future__ import annotations

from conftest import make_project
from PySide6.QtCore import Qt

from kling_preview.core.project import STATIC, Project


def ready_project(seed: int = 7) -> Project:
    """320x320, one painted region with a short trajectory starting on it, a static area: Kling accepts it."""
    project = make_project(320, 320, seed=seed)
    region = project.add_region()
    project.paint(region.label, [(100, 100)], 30)
    region.trajectory = [(100.0, 100.0), (200.0, 160.0)]
    project.paint(STATIC, [(250, 260)], 30)
    return project


def click_export(dialog, qtbot, timeout: int = 30_000) -> str:
    """Click Export as a user would; the outcome the dialog reports ("succeeded", "refused", ...)."""
    with qtbot.waitSignal(dialog.exportFinished, timeout=timeout) as blocker:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]
