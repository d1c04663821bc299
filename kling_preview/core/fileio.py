"""Atomic file output: all or nothing, so a crash, a full disk or a cancel never leaves half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError, describe_os_error


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """A temp path beside `path` to write into; on success it is fsynced and replaces `path`.

    Any exception (including KeyboardInterrupt) removes the temp file and keeps the old `path` as it was.
    OS failures become an `OutputError` naming `path`. When `path` is a symlink to a file, the target is
    replaced (keeping its permissions) and the link stays.
    """
    path = Path(path)
    target = _replaced_file(path)
    folder = target.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=suffix or ".tmp", dir=folder)
        os.close(fd)
    except OSError as exc:
        raise OutputError(describe_os_error(path, exc)) from None
    tmp_path = Path(tmp)
    try:
        os.chmod(tmp_path, _file_mode(target))
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
        fsync_dir(folder)
    except OSError as exc:
        raise OutputError(describe_os_error(path, exc)) from None
    finally:
        with contextlib.suppress(OSError):
            tmp_path.unlink()


#: Bytes of the output's name kept in a temp name: enough to recognise it, few enough that an output
#: name at the file system's 255-byte limit still leaves room for the random part and the suffix.
_TEMP_NAME_BYTES = 64


def temp_prefix(name: str) -> str:
    """`.NAME.` for a temp file beside NAME, NAME cut to 64 bytes: a temp name stays under 100 bytes."""
    short = name
    while len(short.encode("utf-8", "surrogateescape")) > _TEMP_NAME_BYTES:
        short = short[:-1]
    return f".{short}."


def _replaced_file(path: Path) -> Path:
    """The file a save really replaces: a symlink's target (the link stays, pointing at the new content).

    Replacing the link itself would turn it into a plain file with the target's permissions, and leave
    the target stale. A link to nothing, or to something other than a file, is replaced as it is.
    """
    if not path.is_symlink():
        return path
    try:
        target = Path(os.path.realpath(path))
        return target if target.is_file() else path
    except (OSError, RuntimeError):
        return path


def refuse_input_as_output(out: str | Path, source: str | Path, what: str = "output") -> None:
    """An output must never be the input, by any name (a hard link, `./x`, a link): writing it would lose the input."""
    try:
        same = os.path.exists(out) and os.path.exists(source) and os.path.samefile(out, source)
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise OutputError(describe_os_error(out, exc)) from None
    if same:
        raise OutputError(f"{out}: is the input {source}; choose another name for the {what}")


def fsync_dir(path: str | Path) -> None:
    """Make a rename in `path` durable; a no-op where folders cannot be synced (the rename stays atomic)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_umask() -> int:
    """The process umask, read once at import (os.umask can only be read by setting it, which races threads)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _file_mode(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual ones (mkstemp's 0600 is too strict)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 `text` to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
