"""Video export: every format decodes back to the asked frames; failures and cancels leave nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import make_project

from kling_preview.core import video
from kling_preview.core.errors import Cancelled, InvalidError, OutputError
from kling_preview.core.masks import STATIC


def small_project(width: int = 160, height: int = 100):
    p = make_project(width, height, seed=11)
    r = p.add_region(feather=3)
    m = np.zeros((height, width), bool)
    m[20:70, 30:100] = True
    p.set_mask(r.label, m)
    r.trajectory = [(60, 45), (90, 55)]
    s = np.zeros((height, width), bool)
    s[80:, :] = True
    p.set_mask(STATIC, s)
    p.clip.seconds, p.clip.fps = 1.0, 8
    return p


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("ext", [".mp4", ".webm", ".gif"])
def test_video_formats_decode_to_the_asked_frames(tmp_path, ext):
    p = small_project()
    out = tmp_path / f"clip{ext}"
    calls: list[tuple[int, int]] = []
    warnings = video.render_to_file(p, out, seconds=1.5, fps=8, progress=lambda d, t: calls.append((d, t)))
    assert warnings == []
    frames = decode(out)
    assert len(frames) == 12
    assert frames[0].shape == (100, 160, 3)
    assert calls == [(i, 12) for i in range(1, 13)]
    assert leftovers(tmp_path) == [out.name]
    # The first frame is the still (kling mode starts at the trajectory's first point).
    err = np.abs(frames[0].astype(int) - p.image.pixels.astype(int)).mean()
    assert err < 20


def test_mp4_is_h264_yuv420p_with_the_index_up_front(tmp_path):
    out = tmp_path / "clip.mp4"
    video.render_to_file(small_project(), out)
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
    head = out.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)


def test_odd_sizes_work_for_h264(tmp_path):
    p = small_project(161, 101)
    out = tmp_path / "odd.mp4"
    video.render_to_file(p, out, seconds=0.5, fps=8)
    frames = decode(out)
    assert len(frames) == 4
    assert frames[0].shape == (102, 162, 3)  # padded by one edge row and column, never cropped
    np.testing.assert_allclose(frames[0][:101, :161].mean(), p.image.pixels.mean(), atol=4)


def test_width_keeps_the_aspect_ratio(tmp_path):
    out = tmp_path / "half.webm"
    video.render_to_file(small_project(), out, width=80, seconds=0.25, fps=8)
    frames = decode(out)
    assert len(frames) == 2 and frames[0].shape == (50, 80, 3)


def test_gif_loops_forever_with_one_palette(tmp_path):
    out = tmp_path / "clip.gif"
    video.render_to_file(small_project(), out)
    data = out.read_bytes()
    # NETSCAPE2.0 application block with loop count 0 = forever.
    at = data.find(b"NETSCAPE2.0")
    assert at != -1 and data[at + 11 : at + 16] == b"\x03\x01\x00\x00\x00"
    assert len(decode(out)) == 8


def test_png_folder_output(tmp_path):
    out = tmp_path / "frames"
    video.render_to_file(small_project(), out, seconds=0.5)
    assert leftovers(out) == [f"frame_{i:05d}.png" for i in range(4)]
    assert leftovers(tmp_path) == ["frames"]


def test_png_into_an_existing_folder_replaces_older_frames_only(tmp_path):
    out = tmp_path / "existing.v2"  # an existing folder, whatever its name looks like
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    (out / "frame_00099.png").write_bytes(b"old")
    video.render_to_file(small_project(), out, seconds=0.25)
    assert leftovers(out) == ["frame_00000.png", "frame_00001.png", "notes.txt"]


def test_loop_mode_exports_one_loop_period(tmp_path):
    p = small_project()
    p.clip.loop_seconds = 2.0
    out = tmp_path / "loop.gif"
    video.render_to_file(p, out, mode="loop")
    frames = decode(out)
    assert len(frames) == 16  # 2 s at 8 fps, not the 1 s kling clip


def test_cancel_leaves_no_file(tmp_path):
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 3:
            cancel.set()

    for name in ("c.mp4", "c.gif", "frames"):
        with pytest.raises(Cancelled):
            video.render_to_file(small_project(), tmp_path / name, progress=progress, cancel=cancel)
        cancel.clear()
    assert leftovers(tmp_path) == []


def test_failing_encoder_leaves_no_file_and_says_so(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = video._AvWriter._yuv

    def flaky(rgb):
        calls["n"] += 1
        if calls["n"] == 4:
            raise av.InvalidDataError(1094995529, "simulated encoder failure")
        return real(rgb)

    monkeypatch.setattr(video._AvWriter, "_yuv", staticmethod(flaky))
    out = tmp_path / "broken.mp4"
    with pytest.raises(OutputError, match="broken.mp4: the MP4 encoder failed"):
        video.render_to_file(small_project(), out)
    assert leftovers(tmp_path) == []


def test_failure_mid_render_keeps_an_existing_output_intact(tmp_path):
    out = tmp_path / "keep.mp4"
    out.write_bytes(b"previous export")

    def frames():
        yield np.zeros((40, 60, 3), np.uint8)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        video.encode_frames(frames(), out, 8)
    assert out.read_bytes() == b"previous export"
    assert leftovers(tmp_path) == ["keep.mp4"]


def test_encode_frames_streams_a_generator(tmp_path):
    made = []

    def frames():
        for i in range(5):
            made.append(i)
            yield np.full((32, 48, 3), i * 40, np.uint8)

    out = tmp_path / "gen.webm"
    assert video.encode_frames(frames(), out, 10) == 5
    assert len(decode(out)) == 5 and made == list(range(5))


def test_encode_frames_refuses_mixed_sizes_without_leaving_a_file(tmp_path):
    frames = [np.zeros((32, 48, 3), np.uint8), np.zeros((30, 48, 3), np.uint8)]
    with pytest.raises(InvalidError, match="frame 2 is 48x30"):
        video.encode_frames(frames, tmp_path / "mixed.mp4", 10)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seconds": 0}, "seconds must be greater than zero"),
        ({"seconds": -2}, "seconds must be greater than zero"),
        ({"fps": 0}, "fps must be greater than zero"),
        ({"width": -5}, "width must be greater than zero"),
        ({"width": 0}, "width must be greater than zero"),
        ({"width": 10.5}, "width must be a whole number"),
        ({"seconds": float("nan")}, "seconds must be greater than zero"),
    ],
)
def test_bad_numbers_are_invalid(tmp_path, kwargs, match):
    with pytest.raises(InvalidError, match=match):
        video.render_to_file(small_project(), tmp_path / "x.mp4", **kwargs)
    assert leftovers(tmp_path) == []


def test_bad_outputs_are_output_errors(tmp_path):
    with pytest.raises(OutputError, match="unknown output type '.avi'"):
        video.render_to_file(small_project(), tmp_path / "clip.avi")
    with pytest.raises(OutputError, match="does not exist"):
        video.render_to_file(small_project(), tmp_path / "missing" / "clip.mp4")
    (tmp_path / "dir.mp4").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        video.render_to_file(small_project(), tmp_path / "dir.mp4")
    with pytest.raises(InvalidError, match="unknown preview mode"):
        video.render_to_file(small_project(), tmp_path / "clip.mp4", mode="warp")
    assert leftovers(tmp_path) == ["dir.mp4"]


def test_warnings_are_returned(tmp_path):
    p = small_project()
    p.regions[0].trajectory = []
    warnings = video.render_to_file(p, tmp_path / "still.gif", seconds=0.25)
    assert warnings == ["Region 1 has no trajectory; it stays still"]
