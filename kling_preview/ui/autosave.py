"""Autosave for crash recovery, and the offer to restore at start-up.

Users paint for a long time; a crash, a power cut or a killed process must not cost them their work. An
`Autosaver` writes the open project to the recovery folder (`core.recovery`) every 30 s, but only when it
changed since the last write, in a worker thread so a 50 MP project never freezes the window. A clean save
or a normal close removes the recovery. At the next start `offer_restore` asks Restore / Discard / Later.

The window is reached through a tiny protocol, so the autosaver needs no knowledge of its widgets:
`state() -> SaveState(project, path, modified, revision)` and change notifications (signals or calls to
`notify_changed`). The revision is the document's: every edit, undo and redo moves it, so it alone tells
whether the recovery is behind. `attach(window)` and `open_recovered(window, ...)` wire it to a window
with the `EditorWindow` protocol (`MainWindow`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal, SignalInstance, Slot
from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget

from kling_preview.core import recovery
from kling_preview.core.errors import KlingPreviewError
from kling_preview.core.project import Project

from .commands import Document
from .worker import BackgroundJob, describe_exception, run_in_background

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MS = 30_000
INTERVAL_ENV = "KLING_PREVIEW_AUTOSAVE_MS"



class SaveState(NamedTuple):
    """What the autosaver needs to know of the open project."""

    project: Project | None
    path: str | os.PathLike[str] | None  #: where Save writes, else where the project came from
    modified: bool
    revision: int = 0  #: moves with every change of the project's content


StateFn = Callable[[], SaveState]
Opener = Callable[[Project, "str | None"], object]


class EditorWindow(Protocol):
    """The window as autosave sees it (`MainWindow` is one)."""

    doc: Document
    path: Path | None
    source: Path | None

    @property
    def project(self) -> Project | None: ...

    def statusBar(self) -> QStatusBar: ...

    def isVisible(self) -> bool: ...

    def set_project(self, project: Project | None, source: str | Path | None = None) -> None: ...


def interval_ms() -> int:
    """The autosave period: `$KLING_PREVIEW_AUTOSAVE_MS` when it is a positive whole number, else 30 s."""
    try:
        value = int(os.environ.get(INTERVAL_ENV, ""))
    except ValueError:
        return DEFAULT_INTERVAL_MS
    return value if value > 0 else DEFAULT_INTERVAL_MS


def _fingerprint(project: Project, revision: int, changes: int) -> tuple[int, int, int]:
    """Identity of what a recovery would hold: the project, its revision and the notifications seen."""
    return id(project), revision, changes


class Autosaver(QObject):
    """Writes the window's project to a recovery file while it has unsaved changes.

    `written(path)` follows each successful write, `failed(message)` a failed one (the next tick retries).
    """

    written = Signal(str)
    failed = Signal(str)
    removed = Signal()

    def __init__(
        self,
        state: StateFn,
        changed: SignalInstance | Sequence[SignalInstance] | None = None,
        *,
        interval: int | None = None,
        still_open: Callable[[], bool] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._state = state
        self._still_open = still_open
        self.session_id = recovery.new_session_id()
        self._changes = 0
        self._written: tuple[int, int, int] | None = None  # fingerprint of what the recovery file holds
        self._has_file = False
        self._job: BackgroundJob | None = None
        self._generation = 0  # bumped when the file is removed: a write still in flight is then stale
        self._adopted: list[recovery.Recovery] = []
        self._closed = False
        self._last_error = ""
        signals = changed if isinstance(changed, list | tuple) else [changed] if changed is not None else []
        for signal in signals:
            signal.connect(self.notify_changed)
        self.timer = QTimer(self)
        self.timer.setObjectName("autosaveTimer")
        self.timer.setInterval(interval if interval is not None else interval_ms())
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.on_app_quit)

    # ----- the protocol ------------------------------------------------------------------------------
    @Slot()
    def notify_changed(self, *_args: object) -> None:
        """The project changed (an edit, an undo, a save, another project). A saved one loses its recovery now."""
        self._changes += 1
        state = self._read_state()
        if state.project is None or not state.modified:
            self._remove()

    def _read_state(self) -> SaveState:
        try:
            return self._state()
        except Exception:  # noqa: BLE001 - the window may be half torn down while closing
            log.exception("autosave could not read the window's state")
            return SaveState(None, None, False)

    # ----- writing -----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._job is not None and self._job.is_running()

    @property
    def has_recovery(self) -> bool:
        """True while this session's recovery file exists."""
        return self._has_file

    @Slot()
    def tick(self) -> None:
        """Write the recovery if the project is modified and changed since the last write."""
        if self._closed or self.busy:
            return
        project, path, modified, revision = self._read_state()
        if project is None or not modified:
            self._remove()
            return
        mark = _fingerprint(project, revision, self._changes)
        if self._has_file and mark == self._written:
            return
        snap = recovery.snapshot(project)  # in the GUI thread, so no stroke is half copied
        source = None if path is None else os.fspath(path)
        session, generation = self.session_id, self._generation
        job = run_in_background(lambda _progress, _cancel: recovery.write_recovery(snap, source, session), self)
        job.succeeded.connect(lambda written, g=generation, m=mark: self._on_written(g, m, written))
        job.failed.connect(lambda exc, g=generation: self._on_failed(g, exc))
        self._job = job

    def write_now(self) -> bool:
        """Write at once and wait for it (before something risky, and in tests); True if written."""
        self.wait()
        self.tick()
        job = self._job
        if job is None:
            return self._has_file
        job.wait()
        QCoreApplication.sendPostedEvents(self)  # deliver the outcome now
        QCoreApplication.sendPostedEvents(job)
        return self._has_file and not self.busy

    def wait(self) -> None:
        """Block until a write in flight has finished."""
        if self._job is not None:
            self._job.wait()

    def _on_written(self, generation: int, mark: tuple[int, int, int], path: object) -> None:
        self._job = None
        if generation != self._generation:
            return  # removed while in flight (`_remove` waited for this write, then deleted the file)
        self._written, self._has_file, self._last_error = mark, True, ""
        for old in self._adopted:
            self._discard_quietly(old)
        self._adopted.clear()
        self.written.emit(str(path))

    def _on_failed(self, generation: int, exc: object) -> None:
        self._job = None
        message = describe_exception(exc) if isinstance(exc, BaseException) else str(exc)
        log.warning("autosave failed: %s", message)
        if message != self._last_error:  # say it once, not every 30 s
            self._last_error = message
            self.failed.emit(f"Autosave failed: {message}")

    # ----- removing ----------------------------------------------------------------------------------
    def _remove(self) -> None:
        """Delete this session's recovery (and any adopted one): the work is saved or deliberately dropped."""
        if not (self._has_file or self._job is not None or self._adopted):
            return
        self._generation += 1
        self.wait()
        recovery.remove_session(self.session_id)
        self._has_file, self._written = False, None
        for old in self._adopted:
            self._discard_quietly(old)
        self._adopted.clear()
        self.removed.emit()

    @Slot()
    def saved(self) -> None:
        """The project was saved cleanly: its recovery is no longer needed."""
        self._remove()

    @Slot()
    def close(self) -> None:
        """Normal end of the session: stop and remove the recovery (the user saved or chose to discard)."""
        if self._closed:
            return
        self.timer.stop()
        self._remove()
        self._closed = True

    @Slot()
    def on_app_quit(self) -> None:
        """The event loop ends. If the window was closed normally, that is a normal close; if it is still
        shown (a signal or a logout ended the app) and the work is unsaved, the recovery stays."""
        try:
            keep = self._still_open is not None and self._still_open() and self._read_state().modified
        except RuntimeError:  # the window is already gone
            keep = False
        if keep:
            self.timer.stop()
            self.wait()
        else:
            self.close()

    def adopt(self, old: recovery.Recovery) -> None:
        """Take over a restored recovery: it is deleted once this session's own recovery is on disk.

        Until then it stays, so a crash right after restoring still loses nothing.
        """
        self._adopted.append(old)
        self._changes += 1
        QTimer.singleShot(0, self.tick)

    @staticmethod
    def _discard_quietly(old: recovery.Recovery) -> None:
        try:
            recovery.discard(old)
        except KlingPreviewError as exc:
            log.warning("could not delete the old recovery: %s", exc)


# ----- the main window -----------------------------------------------------------------------------
def window_state(window: EditorWindow) -> SaveState:
    """The state of a window's project: Save's target, else the file it was opened from."""
    project = window.project
    path = window.path or window.source
    modified = project is not None and not window.doc.stack.isClean()
    return SaveState(project, path, modified, window.doc.core.revision)


def attach(window: EditorWindow) -> Autosaver:
    """An autosaver for a `MainWindow`, told of every edit, save and project change.

    The window's `closeEvent` should call `saver.close()` once it accepts the close. Without that, the
    end of the event loop decides: a closed (hidden) window means the user quit normally and the recovery
    goes; a window still shown means something else ended the app (a signal, a logout), and it stays.
    """
    doc = window.doc
    saver = Autosaver(
        lambda: window_state(window),
        [doc.edited, doc.stack.cleanChanged, doc.projectChanged],
        still_open=window.isVisible,
        parent=window,
    )

    saver.failed.connect(lambda message: window.statusBar().showMessage(message, 15000))
    return saver


def open_recovered(window: EditorWindow, project: Project, source: str | None) -> None:
    """Show a restored project in a `MainWindow`, marked as modified so the user saves it."""
    window.set_project(project, source)
    window.doc.mark_never_clean()  # never clean until saved: the title shows [*] and close asks
    window.statusBar().showMessage("Restored unsaved work; save it to keep it", 15000)


# ----- restore at start-up -----------------------------------------------------------------------
RESTORE, DISCARD, LATER = "restore", "discard", "later"


def _when(stamp: float) -> str:
    try:
        return time.strftime("%d %b %Y at %H:%M", time.localtime(stamp))
    except (OverflowError, OSError, ValueError):
        return "an unknown time"


def ask_restore(parent: QWidget | None, found: recovery.Recovery, others: int) -> str:
    """Restore / Discard / Later for one recovery; Escape or closing the box means Later."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Restore unsaved work?")
    regions = f", {found.regions} region{'s' if found.regions != 1 else ''}" if found.regions else ""
    box.setText(
        f"Kling Preview did not close normally. Unsaved work on \u201c{found.title}\u201d{regions}, "
        f"kept on {_when(found.saved_at)}, can be restored."
    )
    more = f"\n\n{others} more unsaved project(s) will be offered after this one." if others else ""
    box.setInformativeText(
        "Restore opens it as an unsaved project. Discard deletes it for good. Later keeps it for the next start." + more
    )
    restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    later = box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore)
    box.setEscapeButton(later)
    try:
        box.exec()
        clicked = box.clickedButton()
    finally:
        box.deleteLater()
    if clicked is restore:
        return RESTORE
    if clicked is discard:
        return DISCARD
    return LATER


def offer_restore(parent: QWidget | None, opener: Opener, autosaver: Autosaver | None = None) -> bool:
    """Offer each crashed session's work, newest first; True once one was restored through `opener`.

    With an `autosaver`, the restored file is kept until that autosaver has written its own recovery.
    """
    found = recovery.list_recoveries()
    for i, item in enumerate(found):
        answer = ask_restore(parent, item, len(found) - i - 1)
        if answer == LATER:
            return False
        if answer == DISCARD:
            try:
                recovery.discard(item)
            except KlingPreviewError as exc:
                QMessageBox.warning(parent, "Could not delete", str(exc))
            continue
        try:
            project = item.load()
        except KlingPreviewError as exc:
            QMessageBox.warning(
                parent,
                "Could not restore",
                f"{exc}\n\nThe file is kept in {item.project_path.parent}.",
            )
            continue
        opener(project, item.source_path)
        if autosaver is not None:
            autosaver.adopt(item)
        else:
            try:
                recovery.discard(item)
            except KlingPreviewError as exc:
                log.warning("could not delete the restored recovery: %s", exc)
        return True
    return False

