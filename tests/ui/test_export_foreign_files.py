"""The export dialog keeps the user's files like the CLI does: a folder holding them is refused, unchanged."""

from __future__ import annotations

from pathlib import Path

from export_cases import click_export, ready_project
from PySide6.QtWidgets import QMessageBox

from kling_preview.core.spec.kling import export_bundle


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_folder_with_the_users_own_request_is_refused_and_kept(make_dialog, qtbot, tmp_path, monkeypatch):
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "request.json").write_text('{"prompt": "mine"}')
    (folder / "notes.txt").write_text("notes")
    dialog = make_dialog(ready_project())
    dialog.set_output_path(folder)
    assert click_export(dialog, qtbot) == "failed"
    status = dialog.status_label.text()
    assert "request.json" in status and "not written by an export" in status
    assert asked == []  # no "Replace?" question for a folder holding no export of ours
    assert files(folder) == {"notes.txt": b"notes", "request.json": b'{"prompt": "mine"}'}


def test_replacing_our_own_export_asks_first_and_keeps_the_users_notes(make_dialog, qtbot, tmp_path, monkeypatch):
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    folder = tmp_path / "bundle"
    export_bundle(ready_project(), folder)
    (folder / "notes.txt").write_text("notes")
    project = ready_project()
    project.regions[0].trajectory.append((220.0, 200.0))
    dialog = make_dialog(project)
    dialog.set_output_path(folder)
    assert click_export(dialog, qtbot) == "succeeded"
    assert len(asked) == 1 and "holds a Kling export" in asked[0]
    assert (folder / "notes.txt").read_text() == "notes"
    assert '"x": 220' in (folder / "request.json").read_text()
