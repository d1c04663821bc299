"""Kling's image2video request (build, export, import, validate) and other trajectory formats."""

from .kling import (
    ExportRefused,
    build_request,
    dumps_request,
    export_bundle,
    export_image_bytes,
    import_request,
    load_spec,
    read_request_json,
)
from .rules import Problem, validate_project, validate_request
from .tracks import read_tracks, write_ati, write_kjnodes

__all__ = [
    "ExportRefused",
    "Problem",
    "build_request",
    "dumps_request",
    "export_bundle",
    "export_image_bytes",
    "import_request",
    "load_spec",
    "read_request_json",
    "read_tracks",
    "validate_project",
    "validate_request",
    "write_ati",
    "write_kjnodes",
]
