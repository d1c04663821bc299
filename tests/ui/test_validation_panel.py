"""The validation panel: Kling's problems listed live; a problem with a region selects it."""

from __future__ import annotations

import pytest
from export_cases import ready_project
from PySide6.QtCore import Qt

from kling_preview.core.spec.rules import Problem, validate_project
from kling_preview.ui.panels.validation import ValidationPanel, summarize


def check(panel, qtbot, project) -> None:
    """Show `project` and wait for its first check (the image's export encoding runs in the background)."""
    with qtbot.waitSignal(panel.checked, timeout=10_000):
        panel.set_project(project)


@pytest.fixture
def panel(qtbot):
    widget = ValidationPanel()
    widget.resize(360, 240)
    widget.show()
    yield widget
    widget.close()
    widget.deleteLater()


def test_a_ready_project_says_so(panel, qtbot):
    check(panel, qtbot, ready_project(seed=5))
    assert panel.summary() == "Ready for Kling"
    assert panel.list.count() == 0


def test_a_78_point_trajectory_is_listed_and_clicking_selects_its_region(panel, qtbot):
    project = ready_project(seed=5)
    second = project.add_region()
    project.paint(second.label, [(60, 250)], 20)
    second.trajectory = [(40.0 + i, 250.0) for i in range(78)]
    check(panel, qtbot, project)

    expected = [p for p in validate_project(project) if p.severity == "error"]
    assert len(expected) == 1 and expected[0].region == second.label
    assert panel.summary() == "1 error"
    item = panel.list.item(0)
    assert item.text() == expected[0].message
    assert "78" in item.text()

    rect = panel.list.visualItemRect(item)
    with qtbot.waitSignal(panel.regionActivated, timeout=2_000) as blocker:
        qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [second.label]


def test_activating_with_the_keyboard_selects_the_region(panel, qtbot):
    project = ready_project(seed=5)
    project.regions[0].trajectory = [(100.0, 100.0)]
    check(panel, qtbot, project)
    panel.list.setFocus()
    panel.list.setCurrentRow(0)
    with qtbot.waitSignal(panel.regionActivated, timeout=2_000) as blocker:
        panel.list.itemActivated.emit(panel.list.currentItem())
    assert blocker.args == [project.regions[0].label]


def test_a_project_wide_problem_emits_nothing(panel, qtbot):
    project = ready_project(seed=5)
    project.kling.cfg_scale = 3.0
    check(panel, qtbot, project)
    problems = panel.problems
    assert problems and all(p.region is None for p in problems)
    seen: list[int] = []
    panel.regionActivated.connect(seen.append)
    qtbot.mouseClick(
        panel.list.viewport(), Qt.MouseButton.LeftButton, pos=panel.list.visualItemRect(panel.list.item(0)).center()
    )
    assert seen == []


def test_schedule_update_rechecks_after_an_edit(panel, qtbot):
    project = ready_project(seed=5)
    check(panel, qtbot, project)
    assert panel.summary() == "Ready for Kling"
    project.regions[0].trajectory = [(100.0 + i, 100.0) for i in range(80)]
    panel.schedule_update()
    assert panel.summary() == "Ready for Kling"  # debounced: not checked synchronously
    qtbot.waitUntil(lambda: panel.summary() == "1 error", timeout=2_000)
    project.regions[0].trajectory = project.regions[0].trajectory[:10]
    panel.schedule_update()
    qtbot.waitUntil(lambda: panel.summary() == "Ready for Kling", timeout=2_000)


def test_errors_come_before_warnings_with_their_icons(panel, qtbot):
    project = ready_project(seed=5)
    project.regions[0].trajectory = [(300.0, 300.0), (310.0, 300.0)]  # starts outside its mask: a warning
    extra = project.add_region()
    project.paint(extra.label, [(60, 250)], 20)  # painted, no trajectory: an error
    check(panel, qtbot, project)
    severities = [p.severity for p in panel.problems]
    assert "warning" in severities and "error" in severities
    assert severities == sorted(severities, key=lambda s: s != "error")
    assert panel.summary() == summarize(panel.problems)
    assert all(not panel.list.item(i).icon().isNull() for i in range(panel.list.count()))


def test_no_project_clears_the_list(panel, qtbot):
    project = ready_project(seed=5)
    project.regions[0].trajectory = []
    check(panel, qtbot, project)
    assert panel.list.count() > 0
    check(panel, qtbot, None)
    assert panel.list.count() == 0
    assert panel.summary() == "No project"


def test_the_first_check_waits_for_the_image_encoding_off_the_gui_thread(panel, qtbot):
    project = ready_project(seed=5)
    panel.set_project(project)
    assert panel.summary() == "Checking…"
    panel.schedule_update()  # an edit meanwhile is covered by the check that follows
    qtbot.waitUntil(lambda: panel.summary() == "Ready for Kling", timeout=10_000)


def test_summary_wording():
    err = Problem("error", "e", "r")
    warn = Problem("warning", "w", "r")
    assert summarize([]) == "Ready for Kling"
    assert summarize([warn]) == "Ready for Kling (1 warning)"
    assert summarize([err, err, warn]) == "2 errors, 1 warning"
    assert summarize([err, warn, warn]) == "1 error, 2 warnings"
