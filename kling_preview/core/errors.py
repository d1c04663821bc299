"""The project's own error types.

Every failure caused by the user's input is one of these, so the CLI and the app can show one clear
line (naming the file and the problem) instead of a traceback. `exit_code` is the CLI's stable code.
"""

from __future__ import annotations

from typing import Self


class KlingPreviewError(Exception):
    """Base of every error the project raises on purpose."""

    exit_code = 1
    _lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        """One line per problem (see `from_lines`); a plain message is one line, whatever it holds."""
        return list(self._lines) if self._lines else [str(self)]

    @classmethod
    def from_lines(cls, lines: list[str]) -> Self:
        """One error for several problems. Kept as separate lines, so a newline inside one of them (a file
        name may hold one) stays part of that line instead of posing as a problem of its own."""
        exc = cls("\n".join(lines))
        exc._lines = list(lines)
        return exc


class UnreadableError(KlingPreviewError):
    """The input cannot be read at all: missing, not an image, not JSON, damaged zip, newer format."""

    exit_code = 2


class InvalidError(KlingPreviewError):
    """The input was read but breaks a rule (a 7th region, a 78-point trajectory, overlapping masks...)."""

    exit_code = 1


class ImageLoadError(UnreadableError):
    """An image file could not be decoded or is beyond the pixel limit."""


class ProjectFileError(UnreadableError):
    """A `.klproj` file is damaged, incomplete or from a newer version."""


class SpecError(UnreadableError):
    """A Kling request or trajectory file cannot be understood."""


class LimitError(InvalidError):
    """A Kling limit would be broken by an edit (7th region, too many points)."""


class OutputError(KlingPreviewError):
    """Writing an output failed (unwritable folder, full disk, unknown extension)."""

    exit_code = 2


def describe_os_error(path: object, exc: OSError) -> str:
    """One line naming the file and what the operating system said, without Python noise."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{path}: {reason}"


class Cancelled(KlingPreviewError):
    """Long work (render, export) was cancelled by the user; nothing was written."""

    exit_code = 130
