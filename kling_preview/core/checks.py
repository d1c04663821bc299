"""`validate` for any input: the raw request rules for request.json / export folders, project rules otherwise.

A request is checked as it stands on disk (7 masks, overlaps, `data:` prefixes...), since those are exactly
what the importer would have to refuse or repair; a project is checked as the exporter would see it.
"""

from __future__ import annotations

from pathlib import Path

from .errors import SpecError
from .inputs import is_request_path, load_input
from .spec.kling import read_request_json
from .spec.rules import UNREADABLE_RULES, Problem, validate_project, validate_request


def validate_path(path: str | Path, *, allow_model: bool = False) -> list[Problem]:
    """Every Kling problem of the input at `path`; unreadable inputs raise an UnreadableError.

    `allow_model`: a model name Kling Preview does not know is a warning instead of an error.
    """
    path = Path(path)
    if is_request_path(path):
        body, folder, label = read_request_json(path)
        problems = validate_request(body, label, base_dir=folder, allow_model=allow_model)
        unreadable = [p for p in problems if p.rule in UNREADABLE_RULES and p.severity == "error"]
        if unreadable:
            raise SpecError.from_lines([f"{label}: {p.message}" for p in unreadable])
        return problems
    project, _notes = load_input(path)
    return validate_project(project, allow_model=allow_model)
