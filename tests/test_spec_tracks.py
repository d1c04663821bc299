"""Trajectory files: ComfyUI-KJNodes SplineEditor coordinates and Wan 2.1 ATI tracks."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest

from kling_preview.core.errors import OutputError, SpecError
from kling_preview.core.spec.tracks import ATI_POINTS, read_tracks, write_ati, write_kjnodes

ONE = [{"x": 10, "y": 20}, {"x": 110.5, "y": 20}, {"x": 110.5, "y": 220.25}]
TWO = [{"x": 300, "y": 40}, {"x": 260, "y": 90}]


def points(track: list[dict]) -> list[tuple[float, float]]:
    return [(float(p["x"]), float(p["y"])) for p in track]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (ONE, [points(ONE)]),
        ([ONE, TWO], [points(ONE), points(TWO)]),
        (json.dumps(ONE), [points(ONE)]),
        (json.dumps([ONE, TWO]), [points(ONE), points(TWO)]),
        ({"coordinates": json.dumps([ONE, TWO])}, [points(ONE), points(TWO)]),
        ({"coordinates": ONE}, [points(ONE)]),
        (json.dumps(ONE).replace('"', "'"), [points(ONE)]),  # as some workflows store it
        ([json.dumps(ONE), json.dumps(TWO)], [points(ONE), points(TWO)]),
        ([], []),
    ],
)
def test_kjnodes_and_ati_shapes_are_detected(tmp_path, content, expected):
    path = tmp_path / "tracks.json"
    path.write_text(json.dumps(content), "utf-8")
    assert read_tracks(path) == expected


def test_kjnodes_round_trip(tmp_path):
    tracks = [points(ONE), points(TWO), [(0.0, 0.0), (1.25, 3.5)]]
    for subset in (tracks[:1], tracks):
        path = tmp_path / f"kj{len(subset)}.json"
        write_kjnodes(path, subset)
        assert read_tracks(path) == subset
    single = json.loads((tmp_path / "kj1.json").read_text())
    assert single == ONE  # one spline is written the way SplineEditor emits it: a flat list


def test_ati_tracks_have_121_points_at_constant_speed(tmp_path):
    path = tmp_path / "ati.json"
    write_ati(path, [points(ONE), points(TWO), [(5.0, 5.0)]])
    raw = json.loads(path.read_text())
    assert isinstance(raw, list) and [len(t) for t in raw] == [ATI_POINTS] * 3
    tracks = read_tracks(path)
    assert [len(t) for t in tracks] == [ATI_POINTS] * 3
    first = np.asarray(tracks[0])
    assert tuple(first[0]) == points(ONE)[0] and tuple(first[-1]) == points(ONE)[-1]
    steps = np.hypot(*np.diff(first, axis=0).T)
    total = 100.5 + 200.25
    expected = total / (ATI_POINTS - 1)
    off = np.abs(steps - expected) > 2e-3
    assert off.sum() <= 1 and steps[off].max(initial=0) < expected  # only the step across the corner is a chord
    assert set(tracks[2]) == {(5.0, 5.0)}
    write_kjnodes(tmp_path / "as-kjnodes.json", tracks)
    assert read_tracks(tmp_path / "as-kjnodes.json") == tracks


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ('{"x": 1, "y": 2}', "expected a list"),
        ("42", "expected a list"),
        ('[{"x": 1}]', "point 1"),
        ('[{"x": "1", "y": 2}]', "point 1"),
        ('[[{"x": 1, "y": 2}], [{"x": 1, "y": true}]]', "track 2, point 1"),
        ('[{"x": 1, "y": 2}, [{"x": 1, "y": 2}]]', "mixes"),
        ('[{"x": NaN, "y": 2}]', "NaN"),
        ('[{"x": 1e300, "y": 2}]', "not a pixel position"),
        ('[{"x": 1' + "0" * 400 + ', "y": 2}]', "not a pixel position"),
        ('[{"x": 1e999, "y": 2}]', "not a pixel position"),
        ('[{"x": 1, "y": 2}, {"x": 123456789012, "y": 2}]', "point 2"),
        ("[[]]", "track 1 has no points"),
        ('"[{\\"x\\": 1, \\"y\\": "', "not JSON"),
        ('"' + "[" * 100_000 + "]" * 100_000 + '"', "not JSON"),  # KJNodes' JSON-in-a-string, nested too deep
    ],
)
def test_bad_files_are_spec_errors_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text, "utf-8")
    with pytest.raises(SpecError, match=message) as caught:
        read_tracks(path)
    assert str(path) in str(caught.value) and caught.value.exit_code == 2


def test_missing_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="missing.json"):
        read_tracks(tmp_path / "missing.json")


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "tracks.json"
    write_kjnodes(path, [points(ONE)])
    before = path.read_bytes()

    def refuse(src, dst):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputError, match="Permission denied") as caught:
        write_ati(path, [points(TWO)])
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["tracks.json"]
