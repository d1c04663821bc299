"""Where the app keeps its preferences (window layout, recent files, brush size).

One factory so every part of the app reads the same store, and so tests can point it at a temp folder
with `KLING_PREVIEW_CONFIG_DIR` instead of touching the user's real settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "KlingPreview"
APPLICATION = "Kling Preview"
CONFIG_DIR_ENV = "KLING_PREVIEW_CONFIG_DIR"
MAX_RECENT = 10
RECENT_KEY = "recentFiles"


def settings() -> QSettings:
    """The app's QSettings: an INI file in `$KLING_PREVIEW_CONFIG_DIR` when set, else the platform store."""
    folder = os.environ.get(CONFIG_DIR_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def _as_list(value: object) -> list[str]:
    """QSettings gives back a str for a one-item list and None for an empty one (INI format)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]  # type: ignore[union-attr]


def recent_files(store: QSettings | None = None) -> list[str]:
    """Most recent first, without duplicates."""
    store = store or settings()
    seen: list[str] = []
    for item in _as_list(store.value(RECENT_KEY)):
        if item not in seen:
            seen.append(item)
    return seen[:MAX_RECENT]


def add_recent_file(path: str | os.PathLike, store: QSettings | None = None) -> list[str]:
    """Put `path` (absolute) at the top of the list; returns the new list."""
    store = store or settings()
    full = str(Path(path).resolve())
    items = [full] + [p for p in recent_files(store) if p != full]
    items = items[:MAX_RECENT]
    store.setValue(RECENT_KEY, items)
    store.sync()
    return items


def remove_recent_file(path: str | os.PathLike, store: QSettings | None = None) -> list[str]:
    store = store or settings()
    full = str(Path(path).resolve())
    items = [p for p in recent_files(store) if p != full and p != str(path)]
    store.setValue(RECENT_KEY, items)
    store.sync()
    return items


def clear_recent_files(store: QSettings | None = None) -> None:
    store = store or settings()
    store.setValue(RECENT_KEY, [])
    store.sync()
