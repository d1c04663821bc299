"""One entry point that opens whatever the user hands us: an image, a `.klproj`, a request.json or an export folder."""

from __future__ import annotations

from pathlib import Path

from .errors import UnreadableError, describe_os_error
from .images import load_image
from .project import Project
from .projectfile import SUFFIX, load_project


def is_request_path(path: Path, is_dir: bool | None = None) -> bool:
    """A Kling request.json or an export folder (rather than a project file or an image)."""
    return (path.is_dir() if is_dir is None else is_dir) or path.suffix.lower() == ".json"


def load_input(path: str | Path) -> tuple[Project, list[str]]:
    """The project behind `path` and notes worth telling the user (EXIF rotation applied, data: prefix stripped...)."""
    path = Path(path)
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise UnreadableError(describe_os_error(path, exc)) from None
    if not exists:
        raise UnreadableError(f"{path}: no such file or folder")
    if is_request_path(path, is_dir):
        from .spec.kling import load_spec

        return load_spec(path)
    if path.suffix.lower() == SUFFIX:
        project = load_project(path)
        return project, list(project.image.notes)
    image = load_image(path)
    return Project(image), list(image.notes)
