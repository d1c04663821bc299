"""Screenshots of the real app for the documentation, saved into docs/images/.

    python docs/make_screenshots.py [--out docs/images] [--size 1280x800] [--no-gif]

Starts Kling Preview's main window offscreen (or on the X display when DISPLAY is set, e.g. under
`xvfb-run`), drives it through its public widgets (found by objectName) on the bundled sample, and writes:

    empty-window.png       the window before anything is opened
    sample-loaded.png      the sample: two regions with their trajectory arrows and a static mask
    trajectory-tool.png    the trajectory tool on the selected region, its point handles visible
    kling-request.png      the Kling request panel: model, mode, duration, cfg_scale, prompts, camera move
    preview-playing.png    the preview panel playing the motion
    laptop-canvas-preview.png   a 1366x768 window playing the preview on the canvas (P), overlays hidden
    laptop-before-after.png     the same with the before/after split (Shift+P)
    export-dialog.png      the Export dialog (opened with the window's Export action) on the Kling bundle
    export-video.png       the same dialog with MP4 chosen: mode, length, frame rate and width
    shortcuts.png          the keyboard shortcuts dialog (F1)
    preview.gif            `kling-preview render --sample -o preview.gif --width 480 --fps 12`

Settings go to a temp folder, so the screenshots never depend on (or change) your own layout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _prepare_environment() -> None:
    """Before Qt loads: a platform that works here, and settings that are not the user's."""
    if not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("KLING_PREVIEW_CONFIG_DIR", tempfile.mkdtemp(prefix="kling-preview-shots-"))
    os.environ.setdefault("QT_SCALE_FACTOR", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the images")
    parser.add_argument("--size", default="1280x800", help="window size WxH (default 1280x800)")
    parser.add_argument("--no-gif", action="store_true", help="skip the rendered preview GIF")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)

    _prepare_environment()
    sys.path.insert(0, str(ROOT))
    written = Screenshots(args.out, width, height).run()
    if not args.no_gif:
        written.append(render_gif(args.out / "preview.gif"))
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


def render_gif(out: Path) -> Path:
    """The preview GIF, made by the command line exactly as a user would."""
    cmd = [sys.executable, "-m", "kling_preview", "render", "--sample", "-o", str(out), "--width", "480", "--fps", "12"]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return out


class Screenshots:
    """Drives one MainWindow through the states worth showing and grabs each one."""

    def __init__(self, out: Path, width: int, height: int):
        from PySide6.QtWidgets import QApplication

        from kling_preview.ui import app as app_module
        from kling_preview.ui.settings import APPLICATION, ORGANIZATION

        self.out = out
        self.size = (width, height)
        self.app = QApplication.instance() or QApplication([sys.argv[0]])
        self.app.setApplicationName(APPLICATION)
        self.app.setOrganizationName(ORGANIZATION)
        app_module.apply_dark_theme(self.app)
        self.written: list[Path] = []

    # ----- helpers --------------------------------------------------------------------------------
    def wait(self, ms: int) -> None:
        """Run the event loop for `ms` milliseconds (rendering, layout and timers go on)."""
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_until(self, done: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
            self.wait(25)

    def grab(self, widget, name: str) -> Path:
        path = self.out / name
        if not widget.grab().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        self.written.append(path)
        return path

    def child(self, parent, cls, name: str):
        """A widget by objectName: the same lookup a UI test would do."""
        found = parent.findChild(cls, name)
        if found is None:
            raise LookupError(f"no {cls.__name__} named {name!r} in {parent.objectName() or parent}")
        return found

    def with_modal(self, trigger: Callable[[], None], on_shown: Callable[[object], None], what: str) -> None:
        """Trigger an action that opens a modal dialog (its exec() blocks), act on the dialog, close it."""
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        state = {"tries": 0, "error": None}

        def poll() -> None:
            dialog = QApplication.activeModalWidget()
            if dialog is None or not dialog.isVisible():
                state["tries"] += 1
                if state["tries"] > 400:
                    state["error"] = TimeoutError(f"{what} did not open")
                    return
                QTimer.singleShot(25, poll)
                return
            try:
                on_shown(dialog)
            except Exception as exc:  # reported after the modal loop returns
                state["error"] = exc
            finally:
                dialog.reject()

        QTimer.singleShot(0, poll)
        trigger()
        if state["error"] is not None:
            raise state["error"]

    # ----- the states -------------------------------------------------------------------------------
    def run(self) -> list[Path]:
        from PySide6.QtWidgets import QDockWidget, QWidget

        from kling_preview.ui.main_window import MainWindow
        from kling_preview.ui.panels.preview import PreviewPanel

        window = MainWindow()
        window.resize(*self.size)
        window.show()
        self.wait(300)
        self.grab(window, "empty-window.png")

        frames: list[int] = []
        preview_dock = self.child(window, QDockWidget, "previewDock")
        preview = preview_dock.widget()
        assert isinstance(preview, PreviewPanel), type(preview)
        preview.frameShown.connect(frames.append)

        window.open_sample()
        self.wait_until(lambda: window.project is not None, "the sample to open")
        self.wait_until(lambda: bool(frames), "the first preview frame")
        self.wait(800)  # validation and the canvas settle (debounced)
        self.grab(window, "sample-loaded.png")

        regions = self.child(window, QWidget, "regionsPanel")
        first = window.project.regions[0]
        if hasattr(regions, "select_label"):
            regions.select_label(first.label)
        window.set_tool("trajectory")
        self.wait(400)
        self.grab(window, "trajectory-tool.png")
        window.kling_dock.raise_()
        self.wait(300)
        self.grab(window.kling_dock, "kling-request.png")
        window.regions_dock.raise_()
        window.set_tool("motion_brush")

        preview = window.preview
        if not preview.is_playing():  # the sample starts playing by itself; older states may not
            preview.play()
        before = len(set(frames))
        self.wait_until(lambda: len(set(frames)) >= before + 12, "the preview to play", timeout=120)
        self.grab(window, "preview-playing.png")
        self._shoot_laptop(window, frames)
        preview.pause()

        self.with_modal(window.act_export.trigger, self._shoot_export, "the Export dialog")
        self.with_modal(window.act_shortcuts.trigger, lambda d: self.grab(d, "shortcuts.png"), "the shortcuts dialog")

        window.doc.stack.setClean()  # nothing to save: close without asking
        window.close()
        self.wait(100)
        return self.written

    def _shoot_laptop(self, window, frames: list[int]) -> None:
        """A laptop's 1366x768 screen with the preview playing on the canvas, then split before/after."""
        size = window.size()
        window.resize(1366, 768)
        window.act_canvas_preview.setChecked(True)
        before = len(frames)
        self.wait_until(lambda: len(frames) >= before + 12, "the canvas preview to play", timeout=120)
        self.grab(window, "laptop-canvas-preview.png")
        window.act_split.setChecked(True)
        before = len(frames)
        self.wait_until(lambda: len(frames) >= before + 6, "the split preview to play", timeout=120)
        self.grab(window, "laptop-before-after.png")
        window.act_canvas_preview.setChecked(False)
        window.resize(size)
        self.wait(300)

    def _shoot_export(self, dialog) -> None:
        self.wait(600)  # the dialog checks the project when it opens
        shots = (
            ("kling", "export-dialog.png", "~/Documents/landscape-kling"),
            ("mp4", "export-video.png", "~/Videos/landscape.mp4"),
        )
        for key, name, path in shots:
            if hasattr(dialog, "set_format"):
                dialog.set_format(key)
            if hasattr(dialog, "set_output_path"):  # a neutral path instead of this machine's folders
                dialog.set_output_path(Path(path))
            self.wait(100)
            dialog.adjustSize()  # as small as its content: no empty problem list
            dialog.resize(max(dialog.width(), 620), dialog.height())
            self.wait(300)
            self.grab(dialog, name)


if __name__ == "__main__":
    raise SystemExit(main())
