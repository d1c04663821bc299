"""GIF output: one palette for the clip, static pixels that never change colour, the right timing and loop."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from conftest import textured_pixels
from test_cli import run

from kling_preview.core import gif, video
from kling_preview.core.errors import Cancelled
from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.masks import STATIC
from kling_preview.core.project import Project


def gradient_project(width: int = 160, height: int = 100) -> Project:
    """Smooth gradients (where dithering matters most) under some texture, one region and a static mask."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x * 255 / width, y * 255 / height, np.full_like(x, 128.0)], axis=2)
    pixels = (0.75 * base + 0.25 * textured_pixels(width, height, seed=5)).astype(np.uint8)
    p = Project(decode_image(encode_png(pixels), "gradient.png"))
    r = p.add_region(feather=3)
    m = np.zeros((height, width), bool)
    m[15:65, 20:110] = True
    p.set_mask(r.label, m)
    r.trajectory = [(40, 40), (90, 50)]
    s = np.zeros((height, width), bool)
    s[75:, :] = True
    s[:, 130:] = True
    p.set_mask(STATIC, s)
    p.clip.seconds, p.clip.fps, p.clip.loop_seconds = 1.0, 8, 1.0
    return p


def decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while data[pos]:
        pos += data[pos] + 1
    return pos + 1


def gif_structure(data: bytes) -> dict:
    """What a GIF file holds: global palette flag, images, local palettes, frame delays (cs), loop count."""
    assert data[:6] == b"GIF89a"
    flags = data[10]
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    found: dict = {"global_palette": bool(flags & 0x80), "images": 0, "local_palettes": 0, "delays": [], "loop": None}
    while data[pos] != 0x3B:
        if data[pos] == 0x21:  # extension: label, then sub-blocks
            label, pos = data[pos + 1], pos + 2
            if label == 0xF9:
                found["delays"].append(int.from_bytes(data[pos + 2 : pos + 4], "little"))
            elif label == 0xFF and data[pos + 1 : pos + 12] == b"NETSCAPE2.0":
                found["loop"] = int.from_bytes(data[pos + 14 : pos + 16], "little")
            pos = _skip_sub_blocks(data, pos)
        else:
            assert data[pos] == 0x2C, f"unexpected block {data[pos]:#x} at {pos}"
            packed = data[pos + 9]
            found["images"] += 1
            found["local_palettes"] += bool(packed & 0x80)
            pos += 10 + (3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0)
            pos = _skip_sub_blocks(data, pos + 1)  # after the LZW code size
    return found


@pytest.mark.parametrize("mode", ["loop", "kling"])
def test_static_pixels_never_change_colour(tmp_path, mode):
    p = gradient_project()
    out = tmp_path / "clip.gif"
    video.render_to_file(p, out, mode=mode)
    frames = decode(out)
    assert len(frames) == 8
    static = p.labels == STATIC
    region = p.labels == p.regions[0].label
    pairs = list(zip(frames[1:], frames[:-1]))
    if mode == "loop":
        pairs.append((frames[0], frames[-1]))  # the seam where the GIF starts over
    for a, b in pairs:
        assert not (a[static] != b[static]).any()
    # The region does move, and the static area still looks like the image.
    moved = max((a[region] != b[region]).any(axis=1).mean() for a, b in pairs)
    assert moved > 0.2
    # (blurred first: dithering trades each pixel's error for an average that is right)
    blur = [cv2.GaussianBlur(f.astype(np.float32), (0, 0), 1.5) for f in (frames[0], p.image.pixels)]
    assert np.abs(blur[0] - blur[1])[static].mean() < 3


def test_one_palette_loops_forever_and_keeps_time(tmp_path):
    out = tmp_path / "clip.gif"
    video.render_to_file(gradient_project(), out, mode="loop", seconds=1.5, fps=8)
    found = gif_structure(out.read_bytes())
    assert found["global_palette"] and found["local_palettes"] == 0
    assert found["images"] == 12 and len(decode(out)) == 12
    assert found["loop"] == 0  # forever
    assert abs(sum(found["delays"]) - 150) <= 1  # 1.5 s in hundredths (each delay is rounded)
    assert all(abs(d - 12.5) <= 1 for d in found["delays"])


def test_indices_follow_a_colour_only_once_it_moved_past_the_tolerance():
    stable = gif._StableIndices()
    tol = gif.TOLERANCE
    rgb = np.full((1, 3, 3), 100, np.uint8)
    first = np.array([[1, 2, 3]], np.uint8)
    assert stable.update(rgb, first).tolist() == [[1, 2, 3]]
    rgb[0, 1] += tol  # within the tolerance: keeps its index
    rgb[0, 2, 0] += tol + 1  # one channel past it: takes the new one
    assert stable.update(rgb, np.full((1, 3), 9, np.uint8)).tolist() == [[1, 2, 9]]
    rgb[0, 1] += 1  # a slow drift is measured from the colour the index was chosen for, not the last frame
    assert stable.update(rgb, np.full((1, 3), 7, np.uint8)).tolist() == [[1, 7, 9]]


def test_a_cancel_while_the_gif_is_encoded_leaves_nothing(tmp_path):
    cancel = threading.Event()
    p = gradient_project()

    def frames():
        yield from (p.image.pixels for _ in range(5))
        cancel.set()  # every frame is in: the cancel lands in the palette and encoding pass

    with pytest.raises(Cancelled):
        video.encode_frames(frames(), tmp_path / "c.gif", 8, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_render_to_gif_defaults_to_480_px_at_12_fps(capsys, tmp_path):
    out = tmp_path / "x.gif"
    code, _, err = run(capsys, "render", "--sample", "-o", str(out), "--seconds", "1")
    assert code == 0, err
    frames = decode(out)
    assert len(frames) == 12 and frames.shape[2] == 480  # the sample is 1280 px at 24 fps
    code, _, err = run(capsys, "render", "--sample", "-o", str(out), "--seconds", "1", "--width", "200", "--fps", "5")
    assert code == 0, err
    frames = decode(out)
    assert len(frames) == 5 and frames.shape[2] == 200


def test_gif_defaults_only_shrink_a_gif():
    assert video.gif_defaults(Path("a.gif"), (1280, 720), 24, None, None) == (480, 12)
    assert video.gif_defaults(Path("a.GIF"), (320, 200), 10, None, None) == (None, None)  # already small and slow
    assert video.gif_defaults(Path("a.gif"), (1280, 720), 24, 640, 20) == (640, 20)
    assert video.gif_defaults(Path("a.mp4"), (1280, 720), 24, None, None) == (None, None)


MEMORY_PROBE = """
import resource, sys
from pathlib import Path
import numpy as np
from kling_preview.core.gif import GifEncoder

frame = (np.arange(720 * 1280 * 3, dtype=np.uint32).reshape(720, 1280, 3) % 64 * 4).astype(np.uint8)
encoder = GifEncoder(Path(sys.argv[1]), 12)
encoder.write(frame)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for i in range(60):  # 60 frames of 2.8 MB: 165 MB if they were kept
    encoder.write(np.roll(frame, i, axis=1))
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
encoder.abort()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="resource.getrusage is POSIX only")
def test_frames_waiting_for_the_palette_are_not_kept_in_memory(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(tmp_path / "x.gif")], capture_output=True, text=True, check=True
    )
    grown_mb = float(done.stdout) / (1024 if sys.platform == "darwin" else 1)  # macOS reports bytes, Linux KB
    assert grown_mb < 30
