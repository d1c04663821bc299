"""Crash recovery files: the unsaved project of a running session, kept where a later start finds it.

Each session writes `<session>.klproj` (the whole project, the image's original bytes included, so even
an untitled project is recoverable) and a small `<session>.json` sidecar (original path, time, pid), both
atomically. While the session runs it holds an OS lock on `<session>.lock`; the OS drops the lock when the
process dies (even on SIGKILL or a power cut), so a later start can tell a crashed session's files from a
second instance that is still running, whatever pid numbers the system reuses.

Qt-free: the app's autosaver (`ui/autosave.py`) drives it from a timer.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import re
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Any

from .. import __version__
from .errors import OutputError, describe_os_error
from .fileio import atomic_write_text
from .project import Project
from .projectfile import SUFFIX, load_project, save_project

APP_FOLDER = "kling-preview"
SIDECAR_FORMAT = "kling-preview-recovery"
SIDECAR_VERSION = 1
_SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

_state_lock = threading.Lock()
#: Sessions started by this process (never offered back to it).
_own_sessions: set[str] = set()
#: Lock files this process holds open, by session.
_held: dict[str, int] = {}


# ----- where ----------------------------------------------------------------------------------------
def data_dir() -> Path:
    """The app's per-user data folder: $KLING_PREVIEW_CONFIG_DIR if set, else the platform's usual place."""
    override = os.environ.get("KLING_PREVIEW_CONFIG_DIR")
    if override:
        return Path(override)
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        # The XDG spec says a relative value is invalid and must be ignored.
        base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".local" / "share"
    return base / APP_FOLDER


def recovery_dir() -> Path:
    return data_dir() / "recovery"


# ----- sessions -------------------------------------------------------------------------------------
def new_session_id() -> str:
    """A fresh id for this run of the app; its recovery files are never offered back to this process."""
    session = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    with _state_lock:
        _own_sessions.add(session)
    return session


def _check_session(session_id: str) -> str:
    if not isinstance(session_id, str) or not _SESSION_RE.match(session_id):
        raise ValueError(f"bad recovery session id {session_id!r} (letters, digits, - and _ only)")
    return session_id


def _paths(folder: Path, session_id: str) -> tuple[Path, Path, Path]:
    return folder / f"{session_id}{SUFFIX}", folder / f"{session_id}.json", folder / f"{session_id}.lock"


def _try_lock(fd: int) -> bool | None:
    """Take an exclusive lock without waiting: True got it, False another process holds it, None no locking here."""
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    except OSError as exc:
        import errno

        return False if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EDEADLK) else None
    return True


def _hold(folder: Path, session_id: str) -> None:
    """Hold this session's lock file for as long as the process lives (or until the session is removed)."""
    with _state_lock:
        _own_sessions.add(session_id)
        if session_id in _held:
            return
        try:
            fd = os.open(_paths(folder, session_id)[2], os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return  # no lock: the recovery still works, only the running-instance check is lost
        if _try_lock(fd) is False:
            os.close(fd)
            return
        _held[session_id] = fd


def _release(session_id: str) -> None:
    with _state_lock:
        fd = _held.pop(session_id, None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)  # closing drops the lock


def _is_live(folder: Path, session_id: str) -> bool:
    """True if the session belongs to this process or to another process that is still running."""
    with _state_lock:
        if session_id in _own_sessions:
            return True
    lock = _paths(folder, session_id)[2]
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False  # no lock file: the session ended without one, nobody holds it
    try:
        got = _try_lock(fd)
        return got is False
    finally:
        os.close(fd)


# ----- writing --------------------------------------------------------------------------------------
def snapshot(project: Project) -> Project:
    """An independent copy of `project` that shares only the (never mutated) source image.

    Lets a worker thread write the recovery while the user goes on painting.
    """
    return copy.deepcopy(project, {id(project.image): project.image})


def write_recovery(project: Project, source_path: str | os.PathLike[str] | None, session_id: str) -> Path:
    """Write the session's recovery atomically; returns the `.klproj` path. OS failures are `OutputError`."""
    _check_session(session_id)
    folder = recovery_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise OutputError(describe_os_error(folder, exc)) from None
    _hold(folder, session_id)
    project_path, sidecar, _ = _paths(folder, session_id)
    save_project(project, project_path)
    doc = {
        "format": SIDECAR_FORMAT,
        "version": SIDECAR_VERSION,
        "session": session_id,
        "project": project_path.name,
        "source_path": None if source_path is None else os.fspath(source_path),
        "saved_at": time.time(),
        "pid": os.getpid(),
        "image": project.image.name,
        "regions": len(project.regions),
        "app_version": __version__,
    }
    atomic_write_text(sidecar, json.dumps(doc, indent=2, ensure_ascii=False))
    return project_path


def remove_session(session_id: str) -> None:
    """Delete this process's recovery for `session_id` (after a clean save or a normal close)."""
    _check_session(session_id)
    folder = recovery_dir()
    for path in _paths(folder, session_id):
        with contextlib.suppress(OSError):
            path.unlink()
    _release(session_id)


# ----- reading --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recovery:
    """A crashed session's unsaved project, found at start-up."""

    session_id: str
    project_path: Path
    source_path: str | None
    saved_at: float
    pid: int
    image_name: str
    regions: int

    @property
    def title(self) -> str:
        """What the user would call it: the original file's name, else the image's."""
        if self.source_path:
            return Path(self.source_path).name
        return self.image_name or "untitled project"

    def load(self) -> Project:
        """The recovered project (`ProjectFileError` if the file was damaged after it was listed)."""
        return load_project(self.project_path)


def _readable_project(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            zf.getinfo("project.json")
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return False
    return True


def _read_sidecar(path: Path, session_id: str) -> dict[str, Any]:
    """The sidecar's fields, or {} when it is missing or damaged (the project itself may still be fine)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return {}
    if not isinstance(doc, dict) or doc.get("format") != SIDECAR_FORMAT or doc.get("session") != session_id:
        return {}
    return doc


def _field(doc: dict[str, Any], key: str, kind: type | UnionType, default: Any) -> Any:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, kind):
        return default
    return value


def _sweep(folder: Path) -> None:
    """Delete what dead sessions left half-done: temp files of an interrupted write, locks without a project."""
    for path in [*folder.glob(".*.tmp"), *folder.glob("*.lock")]:
        session_id = path.name.lstrip(".").split(".")[0]
        if not _SESSION_RE.match(session_id) or _is_live(folder, session_id):
            continue
        if path.suffix == ".lock" and _paths(folder, session_id)[0].exists():
            continue
        with contextlib.suppress(OSError):
            path.unlink()


def list_recoveries() -> list[Recovery]:
    """Recoverable sessions, newest first; skips this process's own, live instances' and damaged files."""
    folder = recovery_dir()
    try:
        _sweep(folder)
        candidates = sorted(folder.glob(f"*{SUFFIX}"))
    except OSError:
        return []
    found = []
    for project_path in candidates:
        session_id = project_path.name[: -len(SUFFIX)]
        if not _SESSION_RE.match(session_id) or _is_live(folder, session_id):
            continue
        if not _readable_project(project_path):
            continue
        doc = _read_sidecar(_paths(folder, session_id)[1], session_id)
        try:
            mtime = project_path.stat().st_mtime
        except OSError:
            continue
        saved_at = _field(doc, "saved_at", int | float, mtime)
        found.append(
            Recovery(
                session_id=session_id,
                project_path=project_path,
                source_path=_field(doc, "source_path", str, None),
                saved_at=float(saved_at) if math.isfinite(saved_at) else mtime,
                pid=_field(doc, "pid", int, 0),
                image_name=_field(doc, "image", str, ""),
                regions=_field(doc, "regions", int, 0),
            )
        )
    found.sort(key=lambda r: (r.saved_at, r.session_id), reverse=True)
    return found


def discard(recovery: Recovery) -> None:
    """Delete a recovery the user no longer wants (or has restored and saved). Missing files are fine."""
    folder = recovery.project_path.parent
    for path in _paths(folder, recovery.session_id):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            if path.suffix != ".lock":
                raise OutputError(describe_os_error(path, exc)) from None
