"""The app side of hostile inputs: odd zips, FIFOs and huge files are one message; absurd clips never render."""

from __future__ import annotations

import json
import os
import struct
import zipfile
from pathlib import Path

import pytest
from conftest import make_project

from kling_preview.core.projectfile import save_project


@pytest.fixture
def panel(preview_panel):
    return preview_panel


@pytest.mark.parametrize(("key", "value"), [("fps", 1e9), ("seconds", 1e9), ("fps", 10**38)])
def test_the_preview_refuses_an_absurd_clip_with_its_reason(panel, qtbot, key, value):
    project = make_project(320, 200, seed=1)
    setattr(project.clip, key, value)
    panel.set_project(project)
    qtbot.waitUntil(lambda: panel.error_label.isVisible(), timeout=5_000)
    assert key in panel.error_label.text() and "\n" not in panel.error_label.text()
    assert panel.frame_count() <= 1 and panel.fps_spin.value() <= 120


def _encrypted_project(tmp_path: Path) -> Path:
    path = tmp_path / "locked.klproj"
    save_project(make_project(320, 200), path)
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = data.find(signature)
        while i >= 0:
            struct.pack_into("<H", data, i + flag_at, struct.unpack_from("<H", data, i + flag_at)[0] | 0x1)
            i = data.find(signature, i + 4)
    path.write_bytes(bytes(data))
    return path


def _absurd_clip_project(tmp_path: Path) -> Path:
    good = tmp_path / "good.klproj"
    save_project(make_project(320, 200), good)
    with zipfile.ZipFile(good) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    doc = json.loads(members["project.json"])
    doc["clip"]["fps"] = 1e9
    members["project.json"] = json.dumps(doc).encode()
    path = tmp_path / "fast.klproj"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _sparse_png(tmp_path: Path) -> Path:
    path = tmp_path / "huge.png"
    with open(path, "wb") as fh:
        fh.truncate(6 * 2**30)
    return path


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    return path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize(
    ("build", "words"),
    [(_encrypted_project, "encrypted"), (_absurd_clip_project, "fps"), (_sparse_png, "limit"), (_fifo, "regular file")],
)
def test_opening_a_hostile_file_is_one_message_and_the_project_stays(window, tmp_path, no_dialogs, build, words):
    path = build(tmp_path)
    project = window.project
    assert not window.open_path(path)
    assert window.project is project
    kind, text = no_dialogs[-1]
    assert kind == "critical" and path.name in text and words in text and "\n" not in text


@pytest.mark.parametrize(
    ("target", "act", "name"),
    [
        ("kling_preview.ui.file_actions.load_input", lambda w, p: w.open_path(p, ask=False), "still.png"),
        ("kling_preview.ui.file_actions.save_project", lambda w, p: w.save_as(p), "work.klproj"),
        ("kling_preview.ui.track_actions.read_track_file", lambda w, p: w.import_trajectories(p), "tracks.json"),
        ("kling_preview.ui.track_actions.write_track_file", lambda w, p: w.export_trajectories(p), "tracks.json"),
    ],
)
def test_a_bug_in_a_file_action_is_a_message_naming_the_file_and_a_logged_trace(
    window, no_dialogs, monkeypatch, tmp_path, caplog, target, act, name
):
    """Anything but our own errors is a bug: the window stays, says which file, and logs the trace."""

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(target, broken)
    window.project.regions[0].trajectory = [(40.0, 40.0), (120.0, 90.0)]  # something to export
    path = tmp_path / name
    path.write_text("[]")
    with caplog.at_level("ERROR"):
        assert act(window, path) is False
    assert no_dialogs[-1] == ("critical", f"{path}: boom")
    assert any(r.exc_info and str(path) in r.getMessage() for r in caplog.records)
