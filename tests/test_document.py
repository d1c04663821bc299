"""The Qt-free document: one edit path, undo / redo, merging, groups, revisions and change events."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import make_project

from kling_preview.core import masks
from kling_preview.core.document import Document, Outcome
from kling_preview.core.edits import (
    AddRegion,
    Change,
    ChangeKind,
    ImportTracks,
    MoveRegion,
    PaintEdit,
    RemoveRegion,
    SetClip,
    SetMask,
    SetRegionAttr,
    SetSetting,
    SetTrajectory,
    check_room,
    fit_tracks,
)
from kling_preview.core.errors import LimitError
from kling_preview.core.masks import STATIC, merge_edits
from kling_preview.core.project import MAX_REGIONS, CameraMove, Project, too_many_regions
from kling_preview.ui import tools as T
from kling_preview.ui.stroke import StrokeSession


def _doc() -> tuple[Document, Project, list[Change]]:
    project = make_project(160, 120, seed=4)
    project.add_region("Water")
    project.add_region("Clouds")
    doc = Document(project)
    heard: list[Change] = []
    doc.subscribe(heard.append)
    return doc, project, heard


def test_every_kind_of_edit_undoes_and_redoes_and_moves_the_revision():
    doc, project, _ = _doc()
    water, clouds = (r.label for r in project.regions)
    edits = [
        SetTrajectory(water, [], [(1, 2), (30, 40)]),
        SetRegionAttr(label=water, attr="strength", old=1.0, new=2.0),
        SetRegionAttr(label=water, attr="name", old="Water", new="Sea"),
        MoveRegion(clouds, 1, 0),
        SetClip(key="fps", old=24, new=12),
        SetClip(key="mode", old="kling", new="loop"),
        SetSetting(key="prompt", old="", new="waves"),
        SetSetting(key="camera", old=CameraMove(), new=CameraMove("zoom", 3.0)),
        SetMask(STATIC, np.pad(np.ones((10, 10), bool), ((0, 110), (0, 150)))),
        ImportTracks([[(5.0, 5.0), (9.0, 9.0)], [(1.0, 1.0), (2.0, 2.0)], [(3.0, 3.0), (4.0, 4.0)]]),
        RemoveRegion(water),
    ]

    def state() -> tuple:
        return copy.deepcopy((project.regions, project.clip, project.kling, project.camera)) + (
            project.labels.tobytes(),
        )

    states = [state()]
    revisions = [doc.revision]
    for edit in edits:
        assert doc.apply(edit) == Outcome.PUSHED
        states.append(state())
        revisions.append(doc.revision)
    assert all(a != b for a, b in zip(states, states[1:]))  # each edit changed something
    assert revisions == sorted(set(revisions))
    assert doc.modified and doc.count == len(edits)
    for i in range(len(edits), 0, -1):
        assert doc.undo()
        assert state() == states[i - 1], edits[i - 1]
    assert not doc.undo() and not doc.modified
    for i in range(1, len(edits) + 1):
        assert doc.redo()
        assert state() == states[i], edits[i - 1]
    assert not doc.redo()


def test_changes_say_what_changed():
    doc, project, heard = _doc()
    water = project.regions[0].label
    edit = project.paint(water, [(40, 40)], 5)
    project.apply_edit(edit, undo=True)
    doc.apply(PaintEdit(edit, "Paint Water"))
    assert heard[-1] == Change(ChangeKind.MASKS, frozenset(edit.touched_labels), edit.bbox)
    assert heard[-1].edited and heard[-1].preview
    doc.apply(SetSetting(key="prompt", old="", new="a"))
    assert (heard[-1].kind, heard[-1].key, heard[-1].preview) == (ChangeKind.SETTINGS, "prompt", False)
    doc.apply(SetSetting(key="camera", old=CameraMove(), new=CameraMove("pan", 1.0)))
    assert heard[-1].preview  # the camera move shows in the preview
    doc.apply(SetClip(key="seconds", old=5.0, new=10.0))
    assert (heard[-1].kind, heard[-1].key) == (ChangeKind.CLIP, "seconds")
    doc.apply(SetTrajectory(water, [], [(1, 1), (2, 2)]))
    assert heard[-1].kind == ChangeKind.TRAJECTORY and heard[-1].labels == {water}
    doc.set_target(STATIC)
    assert heard[-1].kind == ChangeKind.TARGET and not heard[-1].edited


def test_steps_with_the_same_merge_key_merge_except_across_the_saved_state():
    doc, project, _ = _doc()
    water = project.regions[0].label
    assert doc.apply(SetRegionAttr(label=water, attr="strength", old=1.0, new=1.1)) == Outcome.PUSHED
    assert doc.apply(SetRegionAttr(label=water, attr="strength", old=1.1, new=1.2)) == Outcome.MERGED
    assert doc.count == 1 and project.region(water).strength == 1.2
    doc.mark_clean()
    assert doc.apply(SetRegionAttr(label=water, attr="strength", old=1.2, new=1.3)) == Outcome.PUSHED
    assert doc.undo() and project.region(water).strength == 1.2 and not doc.modified
    assert doc.undo() and project.region(water).strength == 1.0
    # a burst that ends where it began leaves no step at all
    assert doc.apply(SetSetting(key="prompt", old="", new="a", burst=7)) == Outcome.PUSHED
    assert doc.apply(SetSetting(key="prompt", old="a", new="", burst=7)) == Outcome.DROPPED
    assert doc.count == 0 and doc.index == 0  # the redo steps went with the new edit
    assert doc.apply(SetSetting(key="prompt", old="", new="b", burst=8)) == Outcome.PUSHED
    assert doc.apply(SetSetting(key="prompt", old="b", new="c", burst=9)) == Outcome.PUSHED  # a new burst


def test_a_group_is_one_step_and_the_history_is_limited():
    doc, project, _ = _doc()
    doc.begin_group("Two things")
    assert not doc.can_undo()
    doc.apply(SetClip(key="fps", old=24, new=30))
    doc.apply(AddRegion("Sky"))
    assert doc.end_group() == Outcome.PUSHED
    assert doc.count == 1 and doc.undo_text() == "Two things"
    assert doc.undo() and project.clip.fps == 24 and len(project.regions) == 2
    assert doc.redo() and project.clip.fps == 30 and project.regions[-1].name == "Sky"
    doc.begin_group("Nothing")
    assert doc.end_group() is None and doc.count == 1

    small = Document(make_project(40, 30, seed=1), limit=3)
    small.project.add_region()  # type: ignore[union-attr]
    label = small.project.regions[0].label  # type: ignore[union-attr]
    for i in range(5):
        small.apply(SetRegionAttr(label=label, attr="name", old=str(i - 1), new=str(i)))
    assert small.count == 3
    while small.undo():
        pass
    assert small.project.regions[0].name == "1"  # type: ignore[union-attr]
    assert small.modified  # the saved state fell off the history


def test_target_follows_added_and_removed_regions():
    doc, project, heard = _doc()
    water, clouds = (r.label for r in project.regions)
    assert doc.target == water
    doc.set_target(clouds)
    doc.apply(RemoveRegion(clouds))
    assert doc.target == water
    doc.undo()
    assert doc.target == clouds  # putting a region back selects it
    add = AddRegion()
    doc.apply(add)
    assert doc.target == add.label
    doc.set_target(12345)
    assert doc.target is None
    assert doc.last_region == add.label


def test_a_stroke_session_paints_live_and_records_one_step_without_a_window():
    doc, project, heard = _doc()
    water = project.regions[0].label
    tool = T.make_tools()["motion_brush"]
    ctx = T.Context(target=water, radius=6.0)
    sessions: list[StrokeSession] = []
    actions = tool.press(T.Pointer(20, 20, T.Button.LEFT, int(T.Button.LEFT)), ctx)
    actions += tool.move(T.Pointer(60, 30, buttons=int(T.Button.LEFT)), ctx)
    actions += tool.release(T.Pointer(60, 30, T.Button.LEFT), ctx)
    for action in actions:
        if isinstance(action, T.BeginStroke):
            session = StrokeSession.begin(doc, action.erase, action.label, ctx.radius)
            assert session is not None
            sessions.append(session)
        elif isinstance(action, T.StrokeTo):
            sessions[-1].paint(action.points)
        elif isinstance(action, T.EndStroke):
            assert sessions[-1].finish()
    painted = project.labels.copy()
    assert (painted == water).sum() > 200
    assert doc.count == 1 and doc.undo_text() == "Paint Water"
    doc.undo()
    assert not project.labels.any()
    doc.redo()
    assert np.array_equal(project.labels, painted)


def test_a_stroke_with_no_region_makes_one_in_the_same_step_and_the_seventh_is_refused():
    doc, project, _ = _doc()
    session = StrokeSession.begin(doc, erase=False, label=None, radius=4.0)
    assert session is not None and session.label not in (None, STATIC)
    session.paint([(10.0, 10.0), (30.0, 10.0)])
    session.finish()
    assert doc.count == 1 and len(project.regions) == 3 and doc.undo_text() == "Paint new region"
    doc.undo()
    assert len(project.regions) == 2 and not project.labels.any()

    while len(project.regions) < MAX_REGIONS:
        doc.apply(AddRegion())
    with pytest.raises(LimitError, match="at most 6"):
        StrokeSession.begin(doc, erase=False, label=None, radius=4.0)
    assert not doc.in_group
    with pytest.raises(LimitError) as info:
        check_room(project)
    assert str(info.value) == too_many_regions()


def test_track_import_fills_regions_then_adds_them_in_one_step():
    doc, project, _ = _doc()
    long_track = [(float(i), float(i)) for i in range(100)]
    tracks = [long_track] + [[(float(i), 1.0), (float(i), 9.0)] for i in range(7)]
    fit = fit_tracks(tracks)
    assert len(fit.used) == MAX_REGIONS and fit.shortened == 1 and fit.left_out == 2
    assert len(fit.used[0]) == 77
    edit = ImportTracks(fit.used, "Import trajectories from t.json")
    doc.apply(edit)
    assert edit.added == MAX_REGIONS - 2 and len(project.regions) == MAX_REGIONS
    assert [r.trajectory for r in project.regions] == fit.used
    assert doc.count == 1
    doc.undo()
    assert len(project.regions) == 2 and all(not r.trajectory for r in project.regions)
    doc.redo()
    assert [r.trajectory for r in project.regions] == fit.used


def test_merge_edits_equals_the_sequence_of_dabs():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, (120, 160)).astype(np.uint8)
    start = labels.copy()
    edits = []
    for _ in range(30):
        x, y = rng.uniform(0, 160), rng.uniform(0, 120)
        edit = masks.paint(labels, [(x, y), (x + rng.uniform(-20, 20), y + rng.uniform(-20, 20))], 6, 7)
        if edit is not None:
            edits.append(edit)
    end = labels.copy()
    merged = merge_edits(labels, edits)
    merged.revert(labels)
    assert np.array_equal(labels, start)
    merged.apply(labels)
    assert np.array_equal(labels, end)
    y0, y1, x0, x1 = merged.bbox
    assert (labels[:y0] == start[:y0]).all() and (labels[y1:] == start[y1:]).all()
    assert (labels[:, :x0] == start[:, :x0]).all() and (labels[:, x1:] == start[:, x1:]).all()
    assert merge_edits(labels, []) is None
