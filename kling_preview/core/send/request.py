"""The body `send` posts: exactly the request.json `export` would write for the same input."""

from __future__ import annotations

from ..project import Project
from ..spec import rules
from ..spec.kling import ExportRefused, build_request, dumps_request


def request_text(project: Project, *, allow_model: bool = False) -> tuple[str, list[rules.Problem]]:
    """The request JSON text and the validation warnings; refuses (`ExportRefused`) what export would refuse."""
    problems = rules.validate_project(project, allow_model=allow_model)
    if any(p.severity == "error" for p in problems):
        raise ExportRefused(problems)
    return dumps_request(build_request(project)), [p for p in problems if p.severity == "warning"]
