"""Unexpected errors become a message, not a vanished window.

PySide hands an exception raised in a slot or an event handler to `sys.excepthook` and carries on, so
the window survives; what users need is to hear about it, once, in words. `install_excepthook(app)`
shows one line (our own errors: just their message; anything else: the error and a "Details" section
with the traceback) in a non-blocking message box. Errors that arrive while the box is open are added to
it instead of opening more boxes, and an error that keeps repeating stops showing boxes after a few, so
a failing `paintEvent` cannot bury the user in dialogs. Errors from worker threads are shown from the GUI
thread. Everything is also logged.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections import Counter
from dataclasses import dataclass
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from kling_preview.core.errors import KlingPreviewError

log = logging.getLogger(__name__)

#: How often the same error (type, message, place) may open a box; later repeats are only logged.
MAX_REPEATS = 3
#: Longest one-line summary shown (the details hold the rest).
MAX_LINE = 300
TITLE = "Kling Preview: something went wrong"
REASSURANCE = "Your work is still open. If this keeps happening, save the project under a new name."


@dataclass(frozen=True)
class ErrorReport:
    """One uncaught exception, made printable in the thread where it happened."""

    summary: str
    details: str
    key: tuple[str, str, str]
    own: bool  # a KlingPreviewError: the message says it all

    @classmethod
    def of(cls, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> ErrorReport:
        own = isinstance(exc, KlingPreviewError)
        message = str(exc).strip()
        if own:
            summary = message or kind.__name__
        else:
            first = message.splitlines()[0] if message else ""
            summary = f"{kind.__name__}: {first}" if first else kind.__name__
        if len(summary) > MAX_LINE:
            summary = summary[: MAX_LINE - 1] + "\u2026"
        details = "".join(traceback.format_exception(kind, exc, tb))
        frames = traceback.extract_tb(tb)
        place = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        return cls(summary, details, (kind.__name__, message, place), own)


class CrashReporter(QObject):
    """Receives errors from any thread and shows them in the GUI thread, one box at a time."""

    reported = Signal(object)

    def __init__(self, app: QApplication) -> None:
        super().__init__()
        self.moveToThread(app.thread())
        self.app = app
        self.box: QMessageBox | None = None
        self.seen: Counter[tuple[str, str, str]] = Counter()
        self.extra = 0  # errors added to the open box
        self.shown = 0  # boxes opened so far (for tests and diagnostics)
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        # Queued even from the GUI thread: the box opens after the failing slot or paint has unwound.
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    # ----- hooks -------------------------------------------------------------------------------------
    def excepthook(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt | SystemExit):
            self._previous_hook(kind, exc, tb)
            return
        try:
            report = ErrorReport.of(kind, exc, tb)
            if report.own:
                log.warning("%s", report.summary)
            else:
                log.error("uncaught exception\n%s", report.details.rstrip())
                print(report.details, end="", file=sys.stderr, flush=True)
            self.reported.emit(report)
        except Exception:  # noqa: BLE001 - the hook itself must never raise
            traceback.print_exception(kind, exc, tb)

    def threading_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        self.excepthook(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)

    def uninstall(self) -> None:
        """Put back the hooks that were there before (tests)."""
        if sys.excepthook == self.excepthook:
            sys.excepthook = self._previous_hook
        if threading.excepthook == self.threading_hook:
            threading.excepthook = self._previous_thread_hook

    # ----- the message box ---------------------------------------------------------------------------
    def _parent(self) -> QWidget | None:
        window = self.app.activeWindow()
        if window is not None and not isinstance(window, QMessageBox):
            return window
        for widget in self.app.topLevelWidgets():
            if widget.isVisible() and not isinstance(widget, QMessageBox) and widget.isWindow():
                return widget
        return None

    @Slot(object)
    def _show(self, report: ErrorReport) -> None:
        try:
            self.seen[report.key] += 1
            if self.box is not None:
                self._add_to_open_box(report)
                return
            if self.seen[report.key] > MAX_REPEATS:
                log.warning("the same error again (%d times); not shown: %s", self.seen[report.key], report.summary)
                return
            self._open_box(report)
        except Exception:  # noqa: BLE001 - never let showing an error raise another one
            log.exception("could not show an error message")

    def _open_box(self, report: ErrorReport) -> None:
        box = QMessageBox(self._parent())
        box.setObjectName("crashMessage")
        box.setIcon(QMessageBox.Icon.Warning if report.own else QMessageBox.Icon.Critical)
        box.setWindowTitle(TITLE)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(report.summary)
        if not report.own:
            box.setInformativeText(REASSURANCE)
            box.setDetailedText(report.details)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._closed)
        self.box, self.extra = box, 0
        self.shown += 1
        box.open()  # window-modal, not a nested event loop: the app keeps running

    def _add_to_open_box(self, report: ErrorReport) -> None:
        box = self.box
        assert box is not None
        self.extra += 1
        more = f"{self.extra} more error(s) happened while this message was open; see Details."
        box.setInformativeText(f"{REASSURANCE}\n\n{more}")
        if self.extra <= 20:  # keep the details readable even when a paint loop fails forever
            previous = box.detailedText()
            box.setDetailedText(f"{previous}\n----- then -----\n{report.details}".lstrip())

    @Slot()
    def _closed(self) -> None:
        self.box = None
        self.extra = 0


_installed: CrashReporter | None = None


def install_excepthook(app: QApplication) -> CrashReporter:
    """Route uncaught exceptions (GUI thread, Qt threads, Python threads) to a message box.

    Installing again replaces the earlier reporter; `uninstall()` on the result restores the old hooks.
    """
    global _installed
    if _installed is not None:
        _installed.uninstall()
    reporter = CrashReporter(app)
    sys.excepthook = reporter.excepthook
    threading.excepthook = reporter.threading_hook
    _installed = reporter
    return reporter
