"""Crash recovery files: where they live, what a later start finds, what it ignores, and cleanup."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import make_project

from kling_preview.core import recovery
from kling_preview.core.errors import OutputError
from kling_preview.core.masks import STATIC
from kling_preview.core.project import Project
from kling_preview.core.projectfile import save_project


def _edited_project() -> Project:
    p = make_project(320, 240, seed=3)
    r = p.add_region("Water")
    p.paint(r.label, [(60, 60), (160, 80)], 18)
    p.paint(STATIC, [(280, 200)], 12)
    r.trajectory = [(60.5, 60.25), (120.0, 70.0), (200.0, 90.0)]
    p.kling.prompt = "waves ✓"
    return p


def _crashed_session(session: str, project: Project, source: str | None, saved_at: float) -> Path:
    """Files exactly as a process that died after writing its recovery leaves them (no lock held)."""
    folder = recovery.recovery_dir()
    folder.mkdir(parents=True, exist_ok=True)
    save_project(project, folder / f"{session}.klproj")
    doc = {
        "format": recovery.SIDECAR_FORMAT,
        "version": 1,
        "session": session,
        "project": f"{session}.klproj",
        "source_path": source,
        "saved_at": saved_at,
        "pid": 4242,
        "image": project.image.name,
        "regions": len(project.regions),
    }
    (folder / f"{session}.json").write_text(json.dumps(doc))
    (folder / f"{session}.lock").write_bytes(b"")
    return folder / f"{session}.klproj"


def _same(a: Project, b: Project) -> None:
    assert np.array_equal(a.labels, b.labels)
    assert [vars(r) for r in a.regions] == [vars(r) for r in b.regions]
    assert vars(a.kling) == vars(b.kling)
    assert a.image.data == b.image.data


# ----- folder ---------------------------------------------------------------------------------------
def test_folder_follows_the_config_dir_override(tmp_path, monkeypatch):
    monkeypatch.setenv("KLING_PREVIEW_CONFIG_DIR", str(tmp_path / "cfg"))
    assert recovery.recovery_dir() == tmp_path / "cfg" / "recovery"


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("win32", {"LOCALAPPDATA": "/lad"}, "/lad/kling-preview/recovery"),
        ("darwin", {}, "~/Library/Application Support/kling-preview/recovery"),
        ("linux", {"XDG_DATA_HOME": "/xdg"}, "/xdg/kling-preview/recovery"),
        ("linux", {"XDG_DATA_HOME": "relative/is/ignored"}, "~/.local/share/kling-preview/recovery"),
        ("linux", {}, "~/.local/share/kling-preview/recovery"),
    ],
)
def test_folder_per_platform(monkeypatch, tmp_path, platform, env, expected):
    monkeypatch.delenv("KLING_PREVIEW_CONFIG_DIR")
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "platform", platform)
    assert recovery.recovery_dir() == Path(expected.replace("~", str(tmp_path)))


# ----- writing --------------------------------------------------------------------------------------
def test_write_is_a_loadable_project_with_a_sidecar(tmp_path):
    p = _edited_project()
    session = recovery.new_session_id()
    path = recovery.write_recovery(p, str(tmp_path / "beach.klproj"), session)
    assert path.parent == recovery.recovery_dir() and path.name == f"{session}.klproj"
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert sidecar["source_path"] == str(tmp_path / "beach.klproj")
    assert sidecar["pid"] == os.getpid() and abs(sidecar["saved_at"] - time.time()) < 3600
    loaded = recovery.Recovery(session, path, None, 0.0, 0, "", 0).load()
    _same(loaded, p)


def test_rewrite_replaces_the_previous_one_and_leaves_no_temp_files():
    p = _edited_project()
    session = recovery.new_session_id()
    recovery.write_recovery(p, None, session)
    p.regions[0].trajectory.append((250.0, 100.0))
    p.paint(p.regions[0].label, [(30, 200)], 10)
    path = recovery.write_recovery(p, None, session)
    _same(recovery.Recovery(session, path, None, 0.0, 0, "", 0).load(), p)
    assert sorted(f.name for f in path.parent.iterdir()) == sorted(
        [f"{session}.klproj", f"{session}.json", f"{session}.lock"]
    )


def test_own_session_is_never_offered_back():
    recovery.write_recovery(_edited_project(), None, recovery.new_session_id())
    assert recovery.recovery_dir().is_dir()
    assert recovery.list_recoveries() == []


def test_remove_session_deletes_its_files():
    session = recovery.new_session_id()
    path = recovery.write_recovery(_edited_project(), None, session)
    recovery.remove_session(session)
    assert list(path.parent.iterdir()) == []
    recovery.remove_session(session)  # twice is fine


def test_unwritable_folder_is_an_output_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KLING_PREVIEW_CONFIG_DIR", str(blocker))
    with pytest.raises(OutputError, match="file"):
        recovery.write_recovery(_edited_project(), None, recovery.new_session_id())


@pytest.mark.parametrize("bad", ["", "../escape", "a/b", "x" * 65, "sp ace"])
def test_session_ids_cannot_escape_the_folder(bad):
    with pytest.raises(ValueError):
        recovery.write_recovery(_edited_project(), None, bad)


def test_snapshot_is_independent_of_later_edits():
    p = _edited_project()
    snap = recovery.snapshot(p)
    assert snap.image is p.image  # the big immutable part is shared, not copied
    before = snap.labels.copy()
    p.paint(p.regions[0].label, [(10, 10)], 30)
    p.regions[0].trajectory.append((1.0, 2.0))
    p.kling.extra["x"] = 1
    assert np.array_equal(snap.labels, before)
    assert snap.regions[0].trajectory == [(60.5, 60.25), (120.0, 70.0), (200.0, 90.0)]
    assert snap.kling.extra == {}


# ----- finding crashed sessions -------------------------------------------------------------------
def test_crashed_sessions_are_listed_newest_first_with_their_details(tmp_path):
    p = _edited_project()
    _crashed_session("old", p, str(tmp_path / "old.klproj"), 1_000.0)
    _crashed_session("new", p, None, 3_000.0)
    _crashed_session("mid", p, str(tmp_path / "mid.klproj"), 2_000.0)
    found = recovery.list_recoveries()
    assert [r.session_id for r in found] == ["new", "mid", "old"]
    assert found[1].source_path == str(tmp_path / "mid.klproj") and found[1].title == "mid.klproj"
    assert found[0].source_path is None and found[0].title == p.image.name
    assert found[0].pid == 4242 and found[0].regions == 1
    _same(found[2].load(), p)


def test_damaged_files_are_ignored_but_a_good_project_without_sidecar_is_kept():
    p = _edited_project()
    good = _crashed_session("good", p, "/x/good.klproj", 10.0)
    folder = good.parent
    (folder / "garbage.klproj").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "empty.klproj").write_bytes(b"")
    (folder / "orphan.json").write_text("{}")
    (folder / "bad name.klproj").write_bytes(good.read_bytes())
    save_project(p, folder / "nosidecar.klproj")
    _crashed_session("badjson", p, None, 20.0)
    (folder / "badjson.json").write_text('{"format": [[[[')
    _crashed_session("weird", p, None, 30.0)
    (folder / "weird.json").write_text(
        json.dumps({"format": recovery.SIDECAR_FORMAT, "session": "weird", "saved_at": "soon", "pid": True,
                    "source_path": 5, "regions": "many"})
    )
    found = {r.session_id: r for r in recovery.list_recoveries()}
    assert set(found) == {"good", "nosidecar", "badjson", "weird"}
    mtime = (folder / "weird.klproj").stat().st_mtime
    assert found["weird"].saved_at == mtime and found["weird"].pid == 0 and found["weird"].source_path is None
    assert found["good"].source_path == "/x/good.klproj"


def test_leftovers_of_dead_sessions_are_swept_but_not_those_of_live_ones():
    _crashed_session("kept", _edited_project(), None, 1.0)
    own = recovery.new_session_id()
    recovery.write_recovery(_edited_project(), None, own)
    folder = recovery.recovery_dir()
    leftovers = [".dead.klproj.x1y2.tmp", ".dead.json.abc.tmp", "dead.lock"]
    for name in [*leftovers, f".{own}.klproj.q9.tmp"]:
        (folder / name).write_bytes(b"partial")
    assert [r.session_id for r in recovery.list_recoveries()] == ["kept"]
    names = {p.name for p in folder.iterdir()}
    assert not names & set(leftovers)
    assert {f".{own}.klproj.q9.tmp", "kept.lock", "kept.klproj", f"{own}.klproj"} <= names


def test_discard_removes_the_files_and_is_idempotent():
    _crashed_session("gone", _edited_project(), None, 1.0)
    (rec,) = recovery.list_recoveries()
    recovery.discard(rec)
    assert recovery.list_recoveries() == []
    assert not any(recovery.recovery_dir().glob("gone.*"))
    recovery.discard(rec)


def test_missing_folder_means_no_recoveries():
    assert not recovery.recovery_dir().exists()
    assert recovery.list_recoveries() == []


def test_a_running_instance_is_skipped_and_found_once_it_dies(tmp_path):
    """Another process's recovery is hidden while it runs (its lock is held) and offered after SIGKILL."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from conftest import make_project
        from kling_preview.core import recovery
        p = make_project(200, 150, seed=9)
        r = p.add_region("Sky")
        p.paint(r.label, [(50, 50)], 20)
        r.trajectory = [(50.0, 50.0), (90.0, 40.0)]
        recovery.write_recovery(p, "/photos/sky.klproj", recovery.new_session_id())
        print("READY", flush=True)
        sys.stdin.read()
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=os.environ
    )
    try:
        assert child.stdout.readline().strip() == "READY"
        assert any(recovery.recovery_dir().glob("*.klproj"))
        assert recovery.list_recoveries() == []
    finally:
        child.kill()
        child.wait()
    (rec,) = recovery.list_recoveries()
    assert rec.source_path == "/photos/sky.klproj" and rec.pid == child.pid
    project = rec.load()
    assert project.regions[0].trajectory == [(50.0, 50.0), (90.0, 40.0)]
    assert project.mask(project.regions[0].label).sum() > 0
