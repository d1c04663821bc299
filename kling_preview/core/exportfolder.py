"""Writing an export folder safely: only our own files are replaced, all or nothing, one writer at a time.

An export folder may also hold the user's own files: the input photo (`image.jpg`), notes, a hand-made
`request.json`. So a manifest (`.kling-export.json`) lists every file an export wrote with its size and
SHA-256, and a later export may replace or remove only files that still match it; any other file in the
way refuses the export and survives.

The swap is journaled. The new files are first written and synced in a staging folder inside the export
folder; then a journal names the old and the new sets; then the renames run. A crash or kill during the
renames leaves the journal behind, and the next writer (or anything reading the folder) completes the new
set. A lock file serialises writers, so two exports into one folder never mix.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import OutputError, describe_os_error
from .fileio import atomic_write_bytes, fsync_dir

MANIFEST = ".kling-export.json"
LOCK = ".kling-export.lock"
JOURNAL = ".kling-export.journal"
STAGING = ".kling-export.new"
BACKUP = ".kling-export.old"
MANIFEST_FORMAT = "kling-preview-export"
#: How long a writer waits for another one to finish with the same folder.
LOCK_WAIT_SECONDS = 120.0
_LOCK_POLL_SECONDS = 0.05

Entry = dict[str, Any]


class ForeignFilesError(OutputError):
    """An export would replace files that no earlier export of ours wrote; nothing was written."""


# ----- the manifest ---------------------------------------------------------------------------------
def file_entry(data: bytes) -> Entry:
    """What the manifest records of one file: enough to tell it apart from anything the user put there."""
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _matches(path: Path, entry: Entry | None) -> bool:
    """True if `path` is a regular file (not a link) with exactly the recorded size and content."""
    if entry is None:
        return False
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != entry.get("size"):
            return False
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return False
    return digest.hexdigest() == entry.get("sha256")


def _parse_entries(value: object) -> dict[str, Entry] | None:
    if not isinstance(value, dict):
        return None
    entries: dict[str, Entry] = {}
    for name, entry in value.items():
        if (
            not isinstance(name, str)
            or not _plain_name(name)
            or not isinstance(entry, dict)
            or not isinstance(entry.get("size"), int)
            or not isinstance(entry.get("sha256"), str)
        ):
            return None
        entries[name] = {"size": entry["size"], "sha256": entry["sha256"]}
    return entries


def _plain_name(name: str) -> bool:
    """A bare file name (no folder part): a damaged manifest or journal can never point outside the folder."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\0" not in name


def read_manifest(folder: Path) -> dict[str, Entry]:
    """Files an earlier export wrote into `folder` (empty when there is no manifest).

    A file under the manifest's name that is not our manifest is refused rather than trusted or replaced.
    """
    path = folder / MANIFEST
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise OutputError(describe_os_error(path, exc)) from None
    entries = None
    if stat.S_ISREG(st.st_mode) and st.st_size < 1_000_000:
        try:
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError):
            doc = None
        if isinstance(doc, dict) and doc.get("format") == MANIFEST_FORMAT and doc.get("version") == 1:
            entries = _parse_entries(doc.get("files"))
    if entries is None:
        raise ForeignFilesError(f"{path}: not an export manifest of Kling Preview; nothing was exported")
    return entries


def _manifest_bytes(entries: dict[str, Entry]) -> bytes:
    doc = {"format": MANIFEST_FORMAT, "version": 1, "files": {n: entries[n] for n in sorted(entries)}}
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


def is_export_folder(folder: Path) -> bool:
    """True if an export of ours has written into `folder` (so a new export replaces its files)."""
    try:
        return bool(read_manifest(Path(folder)))
    except OutputError:
        return False


def foreign_files(folder: Path, names: list[str], ours: dict[str, Entry]) -> list[str]:
    """The `names` present in `folder` that are not, byte for byte, what an earlier export wrote."""
    found = []
    for name in names:
        path = folder / name
        if os.path.lexists(path) and not _matches(path, ours.get(name)):
            found.append(name)
    return found


# ----- the lock -------------------------------------------------------------------------------------
def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:  # a file system without locks (some network shares): export unserialised there
        if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
            return True
        raise
    return True


@contextlib.contextmanager
def folder_lock(folder: Path, wait: float | None = None) -> Iterator[None]:
    """Hold `folder`'s writer lock; another writer waits for it (up to `wait` seconds, then a clear error).

    The lock file is removed on release. A waiter that locked a file already removed (its inode is no
    longer the one at the path) starts again, so two writers can never both hold the lock.
    """
    path = folder / LOCK
    deadline = time.monotonic() + (LOCK_WAIT_SECONDS if wait is None else wait)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise OutputError(describe_os_error(folder, exc)) from None
        try:
            while not _try_lock(fd):
                if time.monotonic() > deadline:
                    raise OutputError(f"{folder}: another export is still writing into this folder; try again")
                time.sleep(_LOCK_POLL_SECONDS)
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
        except OSError as exc:
            os.close(fd)
            raise OutputError(describe_os_error(folder, exc)) from None
        except BaseException:
            os.close(fd)
            raise
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # before the unlock, so a waiter never keeps a stale lock file (see above)
        os.close(fd)


# ----- interrupted swaps ----------------------------------------------------------------------------
def _read_journal(folder: Path) -> tuple[dict[str, Entry], dict[str, Entry]] | None:
    path = folder / JOURNAL
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        doc = None
    new = _parse_entries(doc.get("new")) if isinstance(doc, dict) else None
    old = _parse_entries(doc.get("old")) if isinstance(doc, dict) else None
    if new is None or old is None:
        raise OutputError(f"{path}: the journal of an interrupted export is damaged; remove it and export again")
    return new, old


def _complete(folder: Path, new: dict[str, Entry], old: dict[str, Entry]) -> None:
    """Finish a journaled swap: every staged file moves in, stale files of ours go; then the journal goes."""
    staged = folder / STAGING
    for name in new:
        src, dst = staged / name, folder / name
        if os.path.lexists(src):
            ours = name == MANIFEST or _matches(dst, old.get(name)) or _matches(dst, new[name])
            if os.path.lexists(dst) and not ours:
                raise OutputError(f"{dst}: changed since an export into {folder} was interrupted; it is kept")
            os.replace(src, dst)
        elif not _matches(dst, new[name]):
            raise OutputError(f"{folder}: an interrupted export cannot be completed ({name} is missing)")
    for name, entry in old.items():
        if name not in new and _matches(folder / name, entry):
            (folder / name).unlink()
    fsync_dir(folder)
    (folder / JOURNAL).unlink()
    fsync_dir(folder)


def _clear_scratch(folder: Path) -> None:
    for name in (STAGING, BACKUP):
        shutil.rmtree(folder / name, ignore_errors=True)


def _recover_locked(folder: Path) -> bool:
    journal = _read_journal(folder)
    if journal is not None:
        try:
            _complete(folder, *journal)
        except OSError as exc:
            raise OutputError(
                f"{folder}: an interrupted export cannot be completed ({describe_os_error(exc.filename, exc)})"
            ) from None
    _clear_scratch(folder)
    return journal is not None


def recover_folder(folder: str | Path) -> bool:
    """Complete an export into `folder` that was killed while swapping files; True if one was completed.

    Readers call this before reading an export folder, so they never see half of a swap.
    """
    folder = Path(folder)
    if not os.path.lexists(folder / JOURNAL):
        return False
    with folder_lock(folder):
        return _recover_locked(folder)


# ----- publishing -----------------------------------------------------------------------------------
def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; returns those this call created (outermost first)."""
    missing = []
    probe = folder
    try:
        while not os.path.lexists(probe) and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        if not missing and not folder.is_dir():
            raise OutputError(f"{folder}: exists and is not a folder")
        created = []
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                continue  # someone else made it meanwhile: not ours to remove
            created.append(path)
        if not folder.is_dir():
            raise OutputError(f"{folder}: exists and is not a folder")
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise OutputError(describe_os_error(folder, exc)) from None
    return created


def _remove_created(created: list[Path]) -> None:
    """Remove the folders a failed export created, innermost first, each only if it is empty."""
    for path in reversed(created):
        try:
            path.rmdir()
        except OSError:
            return


def _write_new(path: Path, data: bytes) -> None:
    """Create `path` with `data`, flushed to disk."""
    with open(path, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def publish_folder(files: dict[str, bytes], folder: Path) -> None:
    """Put `files` into `folder` all or nothing; files of an earlier export that are not rewritten go.

    Raises `ForeignFilesError` (nothing written, nothing removed) if a file in the way is not one an
    earlier export wrote. A failure puts back what was there, and removes folders this call created.
    """
    folder = Path(folder)
    created = _make_folders(folder)
    try:
        with folder_lock(folder):
            _recover_locked(folder)
            ours = read_manifest(folder)
            names = list(files)
            foreign = foreign_files(folder, names, ours)
            if foreign:
                raise ForeignFilesError(
                    f"{folder}: {', '.join(foreign)} {'was' if len(foreign) == 1 else 'were'} not written by an "
                    "export of Kling Preview; kept, and nothing was exported (choose another folder or move "
                    f"{'it' if len(foreign) == 1 else 'them'} away)"
                )
            _swap(folder, files, ours)
    except BaseException:
        _remove_created(created)
        raise


def _swap(folder: Path, files: dict[str, bytes], ours: dict[str, Entry]) -> None:
    entries = {name: file_entry(data) for name, data in files.items()}
    files = {**files, MANIFEST: _manifest_bytes(entries)}  # the manifest moves in last
    new = {**entries, MANIFEST: file_entry(files[MANIFEST])}
    old = {name: e for name, e in ours.items() if _matches(folder / name, e)}
    staged, backup = folder / STAGING, folder / BACKUP
    current = folder
    try:
        staged.mkdir()
        backup.mkdir()
        for name, data in files.items():
            current = folder / name
            _write_new(staged / name, data)
        fsync_dir(staged)
        current = folder / JOURNAL
        journal = {"new": new, "old": old}
        atomic_write_bytes(folder / JOURNAL, json.dumps(journal).encode("utf-8"))
    except OSError as exc:
        _clear_scratch(folder)
        raise OutputError(describe_os_error(current, exc)) from None
    except BaseException:
        _clear_scratch(folder)
        raise
    leaving = [n for n in old if n not in files] + [n for n in files if os.path.lexists(folder / n)]
    _rename_all(folder, list(files), leaving)


def _rename_all(folder: Path, names: list[str], leaving: list[str]) -> None:
    """The rename phase: old files aside, new ones in, then the journal goes (the commit).

    A failure or an interrupt here undoes both moves and drops the journal; a kill leaves the journal
    for `recover_folder` to complete.
    """
    staged, backup = folder / STAGING, folder / BACKUP
    moved: list[str] = []
    placed: list[str] = []
    current = folder
    try:
        for name in leaving:
            current = folder / name
            os.replace(current, backup / name)
            moved.append(name)
        for name in names:
            current = folder / name
            os.replace(staged / name, current)
            placed.append(name)
        fsync_dir(folder)
        (folder / JOURNAL).unlink()
        fsync_dir(folder)
    except BaseException as exc:  # an interrupt too: the old files wait in the backup folder
        undone = _undo(folder, placed, moved)
        if undone:
            with contextlib.suppress(OSError):
                (folder / JOURNAL).unlink()
            _clear_scratch(folder)
        if isinstance(exc, OSError):
            raise OutputError(describe_os_error(current, exc)) from None
        raise
    _clear_scratch(folder)


def _undo(folder: Path, placed: list[str], moved: list[str]) -> bool:
    """Put the old files back; False if a step failed (the journal then stays, to complete the new set)."""
    ok = True
    for name in placed:
        try:
            os.replace(folder / name, folder / STAGING / name)
        except OSError:
            ok = False
    for name in moved:
        try:
            os.replace(folder / BACKUP / name, folder / name)
        except OSError:
            ok = False
    return ok
