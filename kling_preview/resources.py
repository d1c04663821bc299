"""Where the bundled assets (sample project, icon) are, in a checkout and in a frozen desktop build."""

from __future__ import annotations

import sys
from pathlib import Path


def assets_dir() -> Path:
    """The `assets/` folder: inside the bundle when frozen, beside the package in a checkout, else a wheel's."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = [Path(frozen) / "assets"] if frozen else []
    candidates.append(Path(__file__).resolve().parent.parent / "assets")  # a checkout or an editable install
    candidates.append(Path(sys.prefix) / "share" / "kling-preview" / "assets")  # a wheel's data files
    for path in candidates:
        if path.is_dir():
            return path
    raise FileNotFoundError("the assets folder of Kling Preview is missing: " + ", ".join(map(str, candidates)))


def sample_project_path() -> Path:
    """The bundled sample `.klproj` (a drawn landscape with two regions and a static mask)."""
    return assets_dir() / "samples" / "sample.klproj"


def sample_image_path() -> Path:
    return assets_dir() / "samples" / "landscape.png"
