"""The `.klproj` project file: a zip that saves and restores a project losslessly.

Layout: `project.json` (format version, settings, regions with trajectories), `image.<ext>` (the original
bytes, untouched), `masks/static.png` and `masks/region-<n>.png` (8-bit, 0/255, image size; n is the
region's position from 1). Saves go to a temp file in the same folder, are fsynced, then replace the old
file, so a crash or a full disk never leaves a half-written project. Newer format versions are refused.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from .. import __version__
from . import limits, masks
from .errors import (
    ImageLoadError,
    InvalidError,
    LimitError,
    OutputError,
    ProjectFileError,
    UnreadableError,
)
from .fileio import atomic_write_bytes, refuse_input_as_output
from .images import decode_image, encode_png, pillow_reason
from .limits import MAX_PROJECT_FILE_BYTES, open_input_file
from .project import CAMERA_AXES, PREVIEW_MODES, MotionKind, Project

FORMAT_NAME = "kling-preview-project"
FORMAT_VERSION = 1
SUFFIX = ".klproj"
#: Largest member we unpack (an image file, or a mask PNG): guards against zip bombs in a project file.
MAX_MEMBER_BYTES = limits.MAX_IMAGE_FILE_BYTES
#: Most members a project file may list (a project has about ten), and how far from the end the zip's
#: end-of-directory record can be (22 bytes and a comment of at most 65535).
MAX_MEMBERS = 1000
_EOCD_SEARCH = 22 + 65535
MAX_JSON_BYTES = 20_000_000
#: Largest magnitude of a setting and of a trajectory coordinate the file keeps (importers use the same bounds).
NUMBER_LIMIT = 1e9
COORD_LIMIT = 1e7


def save_project(project: Project, path: str | Path) -> None:
    """Write `project` to `path` atomically; the previous file survives any failure."""
    path = Path(path)
    atomic_write_bytes(path, _zip_bytes(project))


def check_project_output(path: str | Path, source: str | Path) -> None:
    """Refuse an output that would destroy something: the input itself, or an existing file that is not a project.

    `import r.json -o r.json` or `-o photo.jpg` would otherwise replace the user's request or photo with a zip.
    """
    path, source = Path(path), Path(source)
    refuse_input_as_output(path, source, f"{SUFFIX} project")
    if os.path.exists(path) and not _is_project_file(path):
        raise OutputError(f"{path}: exists and is not a {SUFFIX} project; it is kept (choose another name)")


def _is_project_file(path: Path) -> bool:
    """A regular file (or a link to one) that is a zip holding project.json: what a save may replace."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with zipfile.ZipFile(path) as zf:
            return "project.json" in zf.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False


def _zip_bytes(project: Project) -> bytes:
    image_name = f"image.{project.image.extension}"
    doc: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "app_version": __version__,
        "image": {
            "file": image_name,
            "name": project.image.name,
            "background": list(project.image.background),
        },
        "static_mask": "masks/static.png",
        "regions": [
            {
                "label": r.label,
                "name": r.name,
                "color": list(r.color),
                "mask": f"masks/region-{i}.png",
                "trajectory": [[x, y] for x, y in r.trajectory],
                "kind": r.kind.value,
                "strength": r.strength,
                "feather": r.feather,
                "visible": r.visible,
            }
            for i, r in enumerate(project.regions, start=1)
        ],
        "clip": vars(project.clip).copy(),
        "kling": vars(project.kling).copy(),
        "camera": {"axis": project.camera.axis, "value": project.camera.value},
    }
    members = {
        "project.json": json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8"),
        image_name: project.image.data,
        "masks/static.png": encode_png(masks.to_png_mask(project.static_mask)),
    }
    for i, r in enumerate(project.regions, start=1):
        members[f"masks/region-{i}.png"] = encode_png(masks.to_png_mask(project.mask(r.label)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            # A fixed timestamp makes saving the same project give the same bytes.
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            compress = zipfile.ZIP_DEFLATED if name.endswith(".json") else zipfile.ZIP_STORED
            zf.writestr(info, data, compress)
    return buf.getvalue()


def load_project(path: str | Path) -> Project:
    """Read a `.klproj`; every problem is a `ProjectFileError` naming the file and what is wrong."""
    path = Path(path)
    try:
        fh = open_input_file(path, MAX_PROJECT_FILE_BYTES, "project file")
    except UnreadableError as exc:
        raise ProjectFileError(str(exc)) from None
    with fh:
        _check_directory(path, fh)
        try:
            zf = zipfile.ZipFile(fh)
        except UnicodeDecodeError:
            raise ProjectFileError(f"{path}: damaged project file (a member name is not valid UTF-8)") from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, NotImplementedError):
            raise ProjectFileError(
                f"{path}: not a Kling Preview project (not a zip file, or a damaged one)"
            ) from None
        with zf:
            return _ProjectReader(path, zf).read()


def _check_directory(path: Path, fh: BinaryIO) -> None:
    """Refuse a zip whose directory lists more members than any project has, before zipfile builds them all.

    A small file can list millions of entries (each becomes a Python object); a project has about ten.
    """
    try:
        size = fh.seek(0, io.SEEK_END)
        fh.seek(max(0, size - _EOCD_SEARCH))
        tail = fh.read()
        fh.seek(0)
    except OSError as exc:
        raise ProjectFileError(f"{path}: {exc.strerror or exc}") from None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return  # not a zip at all: zipfile says so in its own words
    entries = int.from_bytes(tail[at + 10 : at + 12], "little")
    if entries > MAX_MEMBERS:
        raise ProjectFileError(f"{path}: the zip lists {entries} members; a Kling Preview project has about ten")


class _ProjectReader:
    """Reads one open project zip, checking every field so damage gives a clear message."""

    def __init__(self, path: Path, zf: zipfile.ZipFile):
        self.path = path
        self.zf = zf

    def fail(self, problem: str) -> ProjectFileError:
        return ProjectFileError(f"{self.path}: {problem}")

    def member(self, name: str, limit: int = MAX_MEMBER_BYTES) -> bytes:
        """A member's bytes, never more than `limit` whatever the zip header claims (limits.read_zip_member)."""
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise self.fail(f"{name} is missing") from None
        try:
            return limits.read_zip_member(self.zf, info, limit, "a Kling Preview project")
        except limits.ZipMemberError as exc:
            raise self.fail(f"{name} {exc}") from None

    def read(self) -> Project:
        raw = self.member("project.json", MAX_JSON_BYTES)
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise self.fail(f"project.json is not valid JSON ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
            raise self.fail("project.json is not a Kling Preview project description")
        version = doc.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise self.fail("project.json has no format version")
        if version > FORMAT_VERSION:
            raise self.fail(
                f"made by a newer Kling Preview (format version {version}; this version reads up to "
                f"{FORMAT_VERSION}). Update Kling Preview to open it."
            )
        image_doc = self.obj(doc, "image")
        background = self.color(image_doc.get("background", [128, 128, 128]), "image.background")
        image_file = self.text(image_doc, "file")
        try:
            image = decode_image(
                self.member(image_file),
                self.text(image_doc, "name", image_file),
                background,
                label=f"{self.path}: {image_file}",
            )
        except ImageLoadError as exc:
            raise ProjectFileError(str(exc)) from None
        project = Project(image)
        self.read_settings(project, doc)
        static_name = doc.get("static_mask")
        if static_name is not None:
            project.set_mask(masks.STATIC, self.mask(self.text(doc, "static_mask"), project))
        regions = doc.get("regions", [])
        if not isinstance(regions, list):
            raise self.fail("project.json: regions must be a list")
        for i, entry in enumerate(regions, start=1):
            self.read_region(project, entry, i)
        return project

    def read_region(self, project: Project, entry: Any, number: int) -> None:
        where = f"region {number}"
        if not isinstance(entry, dict):
            raise self.fail(f"project.json: {where} is not an object")
        label = self.number(entry, "label", where, int)
        try:
            kind = MotionKind(entry.get("kind", "path"))
        except ValueError:
            raise self.fail(f"project.json: {where} has an unknown motion kind {entry.get('kind')!r}") from None
        try:
            region = project.add_region(
                self.text(entry, "name", f"Region {number}"),
                self.color(entry.get("color"), f"{where}.color"),
                label=label,
                trajectory=self.points(entry.get("trajectory", []), where),
                kind=kind,
                strength=self.number(entry, "strength", where, float, 1.0),
                feather=self.number(entry, "feather", where, float, 8.0),
                visible=bool(entry.get("visible", True)),
            )
        except LimitError as exc:
            raise LimitError(f"{self.path}: {exc}") from None
        except ValueError as exc:
            raise self.fail(f"project.json: {where}: {exc}") from None
        mask = self.mask(self.text(entry, "mask"), project)
        if (mask & (project.labels != masks.UNPAINTED)).any():
            raise self.fail(f"{where}'s mask overlaps another region or the static mask")
        project.set_mask(region.label, mask)

    def read_settings(self, project: Project, doc: dict[str, Any]) -> None:
        clip = doc.get("clip", {})
        if isinstance(clip, dict):
            mode = clip.get("mode", project.clip.mode)
            if mode not in PREVIEW_MODES:
                raise self.fail(f"project.json: unknown preview mode {mode!r}")
            project.clip.mode = mode
            project.clip.seconds = self.number(clip, "seconds", "clip", float, project.clip.seconds)
            project.clip.fps = self.number(clip, "fps", "clip", int, project.clip.fps)
            project.clip.loop_seconds = self.number(clip, "loop_seconds", "clip", float, project.clip.loop_seconds)
            try:
                limits.check_clip(project.clip.seconds, project.clip.fps, project.clip.loop_seconds)
            except InvalidError as exc:  # read, but breaks a rule: exit 1 like a 7th region
                raise InvalidError(f"{self.path}: project.json: {exc}") from None
        kling = doc.get("kling", {})
        if isinstance(kling, dict):
            k = project.kling
            k.model_name = self.text(kling, "model_name", k.model_name)
            k.mode = self.text(kling, "mode", k.mode)
            k.duration = self.text(kling, "duration", k.duration)
            k.prompt = self.text(kling, "prompt", k.prompt)
            k.negative_prompt = self.text(kling, "negative_prompt", k.negative_prompt)
            k.cfg_scale = self.number(kling, "cfg_scale", "kling", float, k.cfg_scale)
            extra = kling.get("extra", {})
            k.extra = dict(extra) if isinstance(extra, dict) else {}
        camera = doc.get("camera", {})
        if isinstance(camera, dict):
            axis = camera.get("axis")
            if axis is not None and axis not in CAMERA_AXES:
                raise self.fail(f"project.json: unknown camera axis {axis!r}")
            project.camera.axis = axis
            project.camera.value = self.number(camera, "value", "camera", float, 0.0)

    # ----- typed field readers ---------------------------------------------------------------------
    def obj(self, doc: dict[str, Any], key: str) -> dict[str, Any]:
        value = doc.get(key)
        if not isinstance(value, dict):
            raise self.fail(f"project.json: {key} is missing or not an object")
        return value

    def text(self, doc: dict[str, Any], key: str, default: str | None = None) -> str:
        value = doc.get(key, default)
        if not isinstance(value, str):
            raise self.fail(f"project.json: {key} must be text")
        return value

    def number(self, doc: dict[str, Any], key: str, where: str, kind: type, default: float | None = None) -> Any:
        value = doc.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"project.json: {where}.{key} must be a finite number")
        if abs(value) > NUMBER_LIMIT:  # checked first: math.isfinite(10**400) overflows
            raise self.fail(f"project.json: {where}.{key} is out of range ({str(value)[:30]})")
        if not math.isfinite(value):
            raise self.fail(f"project.json: {where}.{key} must be a finite number")
        if kind is int and value != int(value):
            raise self.fail(f"project.json: {where}.{key} must be a whole number")
        return kind(value)

    def color(self, value: Any, where: str) -> tuple[int, int, int]:
        if (
            not isinstance(value, list)
            or len(value) != 3
            or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
        ):
            raise self.fail(f"project.json: {where} must be three integers 0..255")
        return int(value[0]), int(value[1]), int(value[2])

    def points(self, value: Any, where: str) -> list[tuple[float, float]]:
        if not isinstance(value, list):
            raise self.fail(f"project.json: {where}.trajectory must be a list of [x, y]")
        out = []
        for p in value:
            if (
                not isinstance(p, list)
                or len(p) != 2
                or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in p)
                or max(abs(p[0]), abs(p[1])) > COORD_LIMIT
                or not all(math.isfinite(c) for c in p)
            ):
                raise self.fail(f"project.json: {where}.trajectory has a bad point {str(p)[:40]}")
            out.append((float(p[0]), float(p[1])))
        return out

    def mask(self, name: str, project: Project) -> np.ndarray:
        data = self.member(name)
        try:
            im = Image.open(io.BytesIO(data))
            if im.size != project.size:
                raise self.fail(
                    f"{name} is {im.size[0]}x{im.size[1]} but the image is {project.size[0]}x{project.size[1]}"
                )
            im.load()
            return masks.from_png_mask(np.asarray(im.convert("L")))
        except ProjectFileError:
            raise
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise self.fail(f"{name} is not a readable mask image ({pillow_reason(exc)})") from None
