"""Work off the GUI thread: the preview's render worker and a generic background job.

Qt widgets may only be touched from the GUI thread. Both classes here run their work in a QThread and
hand results back through *relay* objects that live in the GUI thread: the thread emits private
signals, the relay receives them through a queued connection and re-emits its public signals from the
GUI thread. So any slot connected to a public signal (a bound method, a lambda) runs in the GUI thread.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable, Collection, Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage
from shiboken6 import isValid

from kling_preview.core import render
from kling_preview.core.errors import Cancelled, KlingPreviewError, describe_os_error
from kling_preview.ui.qimage import rgb_to_qimage

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]


#: Threads still running; a QThread destroyed while running aborts the process, so each one is kept
#: alive here until it has finished. Released from the GUI thread only (a QThread must never lose its
#: last reference inside its own `finished` signal).
_LIVE: set[QThread] = set()


class _Reaper(QObject):
    """Lives in the GUI thread: forgets finished threads and stops the rest when the app quits."""

    @Slot()
    def reap(self) -> None:
        for thread in list(_LIVE):
            if not thread.isRunning():
                thread.wait()
                _LIVE.discard(thread)

    @Slot()
    def stop_all(self) -> None:
        stop_all_threads()


def stop_all_threads() -> None:
    """Ask every running worker to stop and wait for it: before the app quits and before Python exits
    (a QThread object destroyed with its thread still running aborts the process)."""
    for thread in list(_LIVE):
        stop = getattr(thread, "stop", None)
        if stop is not None:
            stop()
        thread.wait()
    _LIVE.clear()


atexit.register(stop_all_threads)
_reaper: _Reaper | None = None


def _keep_alive(thread: QThread) -> None:
    global _reaper
    if _reaper is None:
        _reaper = _Reaper()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(_reaper.stop_all)
    _LIVE.add(thread)
    thread.finished.connect(_reaper.reap, Qt.ConnectionType.QueuedConnection)


def describe_exception(exc: BaseException) -> str:
    """One line for the user: our own errors speak for themselves, anything else names its type."""
    if isinstance(exc, KlingPreviewError):
        return str(exc)
    if isinstance(exc, OSError):
        return describe_os_error(exc.filename or "output", exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# ----- preview render worker ------------------------------------------------------------------------


class _RenderThread(QThread):
    """Owns one Renderer. Shared state is guarded by a condition: the newest scene and a short queue
    of wanted frame indices (newest request first). Only the newest scene matters; frames of an older
    scene are never rendered."""

    sceneReady = Signal(int, list)  # generation, frame times
    frameReady = Signal(int, int, QImage)  # generation, index, frame
    warningsChanged = Signal(int, list)  # generation, warnings
    failed = Signal(int, str)  # generation, message
    dropped = Signal(int, list)  # generation, indices that were requested and will not come

    def __init__(self, max_queue: int) -> None:
        super().__init__()
        self.setObjectName("kling-preview-render")
        self._cond = threading.Condition()
        self._scene: Any = None
        self._gen = 0
        self._queue: list[int] = []
        self._stop = False
        self._max_queue = max_queue

    # GUI thread -----------------------------------------------------------------------------------
    def set_scene(self, scene: Any) -> int:
        with self._cond:
            self._gen += 1
            self._scene = scene
            self._queue.clear()
            self._cond.notify()
            return self._gen

    def request(self, gen: int, order: Sequence[int], new: Collection[int]) -> None:
        """Move `order` to the front of the queue: indices already queued move up, indices in `new` are
        added. An index in neither is being rendered or already sent, so it is not queued twice. The
        oldest requests beyond the queue's length are dropped (and reported)."""
        with self._cond:
            if gen != self._gen or self._stop:
                return
            queued, new = set(self._queue), set(new)
            front = [i for i in dict.fromkeys(order) if i in queued or i in new]
            front_set = set(front)
            queue = front + [i for i in self._queue if i not in front_set]
            self._queue, excess = queue[: self._max_queue], queue[self._max_queue :]
            self._cond.notify()
        if excess:
            self.dropped.emit(gen, excess)

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()

    # render thread --------------------------------------------------------------------------------
    def run(self) -> None:
        renderer = None
        applied = 0  # generation the renderer holds
        tried = 0  # generation whose update() was last attempted
        times: list[float] = []
        warnings: list[str] = []
        while True:
            with self._cond:
                while not self._stop and not self._queue and self._gen == tried:
                    self._cond.wait()
                if self._stop:
                    return
                gen, scene = self._gen, self._scene
                index = self._queue.pop(0) if self._queue else None
            if gen != applied:
                tried = gen
                try:
                    if renderer is None:
                        renderer = render.Renderer()
                    renderer.update(scene)
                    times = list(renderer.times())
                except Exception as exc:  # shown in the panel; the app lives on
                    log.exception("preview scene update failed")
                    self._fail(gen, exc, index)
                    continue
                applied = gen
                self.sceneReady.emit(gen, times)
                warnings = self._emit_warnings(gen, renderer, None)
            if index is None:
                continue
            if not 0 <= index < len(times):
                self.dropped.emit(gen, [index])
                continue
            try:
                image = rgb_to_qimage(renderer.frame(times[index]))
            except Exception as exc:
                log.exception("preview frame %d failed", index)
                self._fail(gen, exc, index)
                continue
            self.frameReady.emit(gen, index, image)
            warnings = self._emit_warnings(gen, renderer, warnings)

    def _fail(self, gen: int, exc: BaseException, index: int | None) -> None:
        """Report the error once and give up the rest of this request (it would fail the same way)."""
        with self._cond:
            lost = ([] if index is None else [index]) + (self._queue if gen == self._gen else [])
            if gen == self._gen:
                self._queue = []
        self.failed.emit(gen, describe_exception(exc))
        if lost:
            self.dropped.emit(gen, lost)

    def _emit_warnings(self, gen: int, renderer: Any, last: list[str] | None) -> list[str]:
        current = [str(w) for w in getattr(renderer, "warnings", []) or []]
        if current != last:
            self.warningsChanged.emit(gen, current)
        return current


class RenderWorker(QObject):
    """The preview's render thread, seen from the GUI thread.

    `set_scene(scene)` hands over a new immutable Scene (from `render.snapshot`) and returns its
    generation number; `request(gen, order, new)` asks for frames of that scene, most wanted first. Every
    requested index later arrives as `frameReady`, or is reported in `dropped` (superseded, out of range
    or failed), so the caller can keep an exact set of frames in flight. All signals are emitted in the
    GUI thread.
    """

    sceneReady = Signal(int, list)  # generation, frame times in seconds
    frameReady = Signal(int, int, QImage)
    warningsChanged = Signal(int, list)
    failed = Signal(int, str)
    dropped = Signal(int, list)

    def __init__(self, max_queue: int = 32, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = _RenderThread(max_queue)
        queued = Qt.ConnectionType.QueuedConnection
        self._thread.sceneReady.connect(self._relay_scene, queued)
        self._thread.frameReady.connect(self._relay_frame, queued)
        self._thread.warningsChanged.connect(self._relay_warnings, queued)
        self._thread.failed.connect(self._relay_failed, queued)
        self._thread.dropped.connect(self._relay_dropped, queued)
        _keep_alive(self._thread)
        self._thread.start()

    def set_scene(self, scene: Any) -> int:
        return self._thread.set_scene(scene)

    def request(self, gen: int, order: Sequence[int], new: Collection[int] | None = None) -> None:
        """Frames of scene `gen`, most wanted first; `new` are the ones not asked for before (default:
        all of `order`). Already queued ones are moved up, never queued twice."""
        self._thread.request(gen, order, order if new is None else new)

    def is_running(self) -> bool:
        return self._thread.isRunning()

    @Slot()
    def stop(self) -> None:
        """Stop the thread and wait for it (at most the frame being rendered)."""
        if not isValid(self._thread):  # already finished and deleted by Qt
            return
        self._thread.stop()
        self._thread.wait()

    @Slot(int, list)
    def _relay_scene(self, gen: int, times: list) -> None:
        self.sceneReady.emit(gen, times)

    @Slot(int, int, QImage)
    def _relay_frame(self, gen: int, index: int, image: QImage) -> None:
        self.frameReady.emit(gen, index, image)

    @Slot(int, list)
    def _relay_warnings(self, gen: int, warnings: list) -> None:
        self.warningsChanged.emit(gen, warnings)

    @Slot(int, str)
    def _relay_failed(self, gen: int, message: str) -> None:
        self.failed.emit(gen, message)

    @Slot(int, list)
    def _relay_dropped(self, gen: int, indices: list) -> None:
        self.dropped.emit(gen, indices)


# ----- generic background job -----------------------------------------------------------------------


class _JobThread(QThread):
    progressed = Signal(int, int)
    succeeded = Signal(object)
    failedWith = Signal(object)
    wasCancelled = Signal()

    def __init__(self, fn: Callable[[ProgressFn, threading.Event], Any], cancel: threading.Event) -> None:
        super().__init__()
        self.setObjectName("kling-preview-job")
        self._fn = fn
        self._cancel = cancel

    def stop(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        try:
            result = self._fn(self._progress, self._cancel)
        except Cancelled:
            self.wasCancelled.emit()
        except Exception as exc:  # reported through `failed`
            if not isinstance(exc, KlingPreviewError | OSError):
                log.exception("background job failed")
            self.failedWith.emit(exc)
        else:
            self.succeeded.emit(result)  # finished work is reported as done even if cancel came too late

    def _progress(self, done: int, total: int) -> None:
        self.progressed.emit(int(done), int(total))


class BackgroundJob(QObject):
    """`fn(progress, cancel)` run in a QThread; `progress(done, total)` may be called from it and `cancel`
    is a threading.Event it should check. Exactly one of `succeeded(result)`, `failed(exception)` or
    `cancelled()` follows, then `done()`; all in the GUI thread. A `Cancelled` exception means cancelled.
    """

    progress = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    done = Signal()

    def __init__(self, fn: Callable[[ProgressFn, threading.Event], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cancel_event = threading.Event()
        self._thread = _JobThread(fn, self.cancel_event)
        queued = Qt.ConnectionType.QueuedConnection
        self._thread.progressed.connect(self._on_progress, queued)
        self._thread.succeeded.connect(self._on_succeeded, queued)
        self._thread.failedWith.connect(self._on_failed, queued)
        self._thread.wasCancelled.connect(self._on_cancelled, queued)
        self._finished = False

    def start(self) -> None:
        _keep_alive(self._thread)
        self._thread.start()

    def cancel(self) -> None:
        self.cancel_event.set()

    def is_running(self) -> bool:
        """True from start() until the outcome signal has been delivered."""
        return self._thread.isRunning() or (self._thread.isFinished() and not self._finished)

    def wait(self) -> None:
        """Block until the thread has ended (the outcome signal is still delivered by the event loop)."""
        self._thread.wait()

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if not self._finished:
            self.progress.emit(done, total)

    @Slot(object)
    def _on_succeeded(self, result: object) -> None:
        self._finish(self.succeeded, result)

    @Slot(object)
    def _on_failed(self, exc: object) -> None:
        self._finish(self.failed, exc)

    @Slot()
    def _on_cancelled(self) -> None:
        self._finish(self.cancelled)

    def _finish(self, signal: Any, *args: object) -> None:
        self._finished = True
        signal.emit(*args)
        self.done.emit()


def run_in_background(fn: Callable[[ProgressFn, threading.Event], Any], parent: QObject | None = None) -> BackgroundJob:
    """Start `fn(progress, cancel)` in a worker thread; connect to the returned job's signals.

    Signals are queued, so connecting right after this call misses nothing.
    """
    job = BackgroundJob(fn, parent)
    job.start()
    return job
