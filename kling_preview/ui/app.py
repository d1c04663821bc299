"""Start the desktop app: `kling-preview`, `kling-preview FILE`, `kling-preview --sample`."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from ..core.errors import UnreadableError
from ..resources import assets_dir
from .autosave import offer_restore
from .crash import install_excepthook
from .settings import APPLICATION, ORGANIZATION

log = logging.getLogger(__name__)


def apply_dark_theme(app: QApplication) -> None:
    """Fusion with a dark palette: photos read better on a dark frame, as in Photoshop or Krita."""
    styles = [k.lower() for k in QStyleFactory.keys()]  # noqa: SIM118 - a Qt call, not a dict
    if "fusion" in styles:
        app.setStyle("Fusion")
    pal = QPalette()
    base, window, text = QColor(32, 32, 34), QColor(48, 48, 51), QColor(225, 225, 228)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(42, 42, 45),
        QPalette.ColorRole.ToolTipBase: QColor(60, 60, 64),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor(140, 140, 145),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor(58, 58, 62),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 90, 90),
        QPalette.ColorRole.Link: QColor(100, 160, 255),
        QPalette.ColorRole.Highlight: QColor(62, 118, 214),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Light: QColor(80, 80, 85),
        QPalette.ColorRole.Midlight: QColor(66, 66, 70),
        QPalette.ColorRole.Mid: QColor(40, 40, 43),
        QPalette.ColorRole.Dark: QColor(24, 24, 26),
        QPalette.ColorRole.Shadow: QColor(0, 0, 0),
    }
    for role, color in roles.items():
        pal.setColor(role, color)
    disabled = QColor(120, 120, 125)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    app.setPalette(pal)


#: Free screen space (px) below which the window starts maximised: a laptop's 1366x768 leaves no room
#: for window borders around the canvas and the docks.
SMALL_SCREEN = (1400, 800)


def starts_maximised(available: QRect) -> bool:
    return available.width() < SMALL_SCREEN[0] or available.height() < SMALL_SCREEN[1]


def _check_display() -> None:
    """On Linux without a screen Qt aborts with a misleading message; say what is missing instead."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise UnreadableError(
            "no screen to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
            "the headless commands render, export, import and validate work without one"
        )


def run(path: str | None = None, sample: bool = False, argv: Sequence[str] | None = None) -> int:
    """Create the application and the window, open `path` (or the sample), run the event loop.

    A file that cannot be opened is reported in a message box and leaves an empty window.
    """
    from .main_window import MainWindow

    app = QApplication.instance()
    if app is None:
        _check_display()
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    app.setDesktopFileName("kling-preview")  # matches packaging/linux/kling-preview.desktop
    icon = assets_dir() / "icon.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    apply_dark_theme(app)
    install_excepthook(app)
    window = MainWindow()
    if starts_maximised(window.screen().availableGeometry()):
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)  # show() keeps it
    window.show()
    if sample:
        window.open_sample()
    elif path:
        window.open_path(path, ask=False)
    QTimer.singleShot(0, lambda: offer_restore(window, window.open_recovered, window.autosaver))
    quit_after = os.environ.get("KLING_PREVIEW_QUIT_AFTER_MS", "")
    if quit_after.isdigit():
        # Smoke tests of the desktop build: close the window as a user would (clean shutdown, exit 0).
        QTimer.singleShot(int(quit_after), window.close)
    code = app.exec()
    if window.isVisible():  # the loop was quit without closing the window: stop its worker anyway
        window.preview.shutdown()
    window.deleteLater()
    return int(code)
