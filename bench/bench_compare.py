"""Compare benchmark: check a 5 s 720p video (30 fps, six regions and a static band) against its project.

Prints `name: value` lines: the seconds compare takes, the seconds a bare decode of the same file takes, and
their ratio (measured in the same process, so it means the same on any machine). The goal is a compare under
10 s on 2 cores.

Run: python bench/bench_compare.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import av

from kling_preview.core import render
from kling_preview.core.compare import compare, read_clip
from kling_preview.core.video import encode_frames

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_render import six_region_project  # noqa: E402

W, H, SECONDS, FPS = 1280, 720, 5.0, 30


def bare_decode(path: Path) -> float:
    """Seconds to decode every frame to RGB, the least any comparison must do."""
    started = time.perf_counter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            frame.to_ndarray(format="rgb24")
    return time.perf_counter() - started


def main() -> int:
    project = six_region_project(W, H)
    scene = render.snapshot(project, None, "kling", size=(W, H)).with_clip(seconds=SECONDS, fps=FPS)
    renderer = render.Renderer(scene)
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "kling.mp4"
        encode_frames((renderer.frame(t) for t in renderer.times()), video, FPS)
        decode = min(bare_decode(video) for _ in range(2))
        started, cpu = time.perf_counter(), time.process_time()
        result = compare(project, read_clip(video))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"compare_5s_720p_s: {seconds:.2f}")
    print(f"compare_5s_720p_cpu_s: {cpu:.2f}  (all threads; above the wall time when decoding runs in parallel)")
    print(f"bare_decode_5s_720p_s: {decode:.2f}")
    print(f"compare_vs_decode: {seconds / decode:.2f}")
    for region in result.regions:
        print(f"  {region.verdict}")
    print(f"  static_motion_px: {result.static_motion_px:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
