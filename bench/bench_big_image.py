"""Big-photo benchmark: a 50-megapixel JPEG opened in the real window, painted, previewed and exported.

Each stage runs in a child process started fresh, so its peak resident memory (VmHWM) is its own. Prints one
`name: value` line per figure: peak memory in MB and, for speed, the time of a brush dab on the 50 MP label map
as a ratio to the same dab on a 1080p one (the cost of a dab must not grow with the image size).

Run: python bench/bench_big_image.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import cv2
import numpy as np

from kling_preview.core import masks

WIDTH, HEIGHT = 8660, 5773  # 50 MP, 3:2 like a full-frame camera

STAGES = {
    "core_open_paint_export": """
        from kling_preview.core.inputs import load_input
        from kling_preview.core.masks import STATIC
        from kling_preview.core.spec.kling import export_bundle
        project, _ = load_input(PHOTO)
        region = project.add_region("Water")
        project.paint(region.label, [(1000, 4000), (7000, 4200)], 600)
        project.paint(STATIC, [(4000, 1500)], 500)
        region.trajectory = [(1000.0, 4000.0), (3000.0, 4100.0)]
        export_bundle(project, OUT / "bundle")
    """,
    "app_open_paint_preview": """
        import os
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import QEvent, Qt
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication
        from kling_preview.ui.main_window import MainWindow
        app = QApplication([])
        window = MainWindow()
        window.resize(1400, 900)
        window.show()
        window.open_path(PHOTO, ask=False)
        canvas = window.canvas
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        points = [canvas.image_to_widget(1500 + 250 * i, 3500 + 15 * i) for i in range(21)]
        QTest.mousePress(canvas, left, none, points[0].toPoint())
        for p in points[1:]:  # a drag: moves with the button held, as a real stroke sends them
            app.sendEvent(canvas, QMouseEvent(QEvent.Type.MouseMove, p, canvas.mapToGlobal(p), left, left, none))
        QTest.mouseRelease(canvas, left, none, points[-1].toPoint())
        assert window.project.labels.any(), "the stroke painted nothing"
        for _ in range(50):
            app.processEvents()
        window.preview.schedule_update()
        QTest.qWait(2000)
        window.doc.stack.setClean()  # no "save changes?" question on close
        window.close()
    """,
}


def peak_mb(stage: str, photo: Path, out: Path) -> float:
    """Run one stage in a fresh interpreter; its VmHWM in MB."""
    code = f"PHOTO = {str(photo)!r}\nfrom pathlib import Path\nOUT = Path({str(out)!r})\n"
    code += textwrap.dedent(STAGES[stage])
    code += "\nprint([l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1])\n"
    env = dict(os.environ, KLING_PREVIEW_CONFIG_DIR=str(out / "config"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{done.stderr[-2000:]}")
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def dab_seconds(shape: tuple[int, int], repeats: int = 200) -> float:
    import time

    labels = np.zeros(shape, np.uint8)
    y, x = shape[0] // 2, shape[1] // 2
    start = time.perf_counter()
    for i in range(repeats):
        masks.paint(labels, [(x + i % 7, y)], 40, 1 + i % 2)
    return (time.perf_counter() - start) / repeats


def main() -> None:
    if not sys.platform.startswith("linux"):
        raise SystemExit("the peak-memory figures read /proc/self/status (Linux)")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        rng = np.random.default_rng(0)
        small = rng.integers(0, 256, (HEIGHT // 32, WIDTH // 32, 3), dtype=np.uint8)
        photo = out / "photo-50mp.jpg"
        cv2.imwrite(str(photo), cv2.resize(small, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC))
        image_mb = WIDTH * HEIGHT * 3 / 2**20
        print(f"image_rgb_mb: {image_mb:.0f}")
        for stage in STAGES:
            print(f"peak_rss_50mp_{stage}_mb: {peak_mb(stage, photo, out):.0f}")
    ratio = dab_seconds((HEIGHT, WIDTH)) / dab_seconds((1080, 1920))
    print(f"dab_50mp_vs_1080p: {ratio:.2f}")


if __name__ == "__main__":
    main()
