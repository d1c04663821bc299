"""The body `send` posts: exactly the request.json `export` would write for the same input."""

from __future__ import annotations

import json

from ..errors import InvalidError
from ..project import Project
from ..spec import rules
from ..spec.kling import ExportRefused, build_request, dumps_request


def request_text(project: Project, *, allow_model: bool = False) -> tuple[str, list[rules.Problem]]:
    """The request JSON text and the validation warnings; refuses (`ExportRefused`) what export would refuse."""
    problems = rules.validate_project(project, allow_model=allow_model)
    if any(p.severity == "error" for p in problems):
        raise ExportRefused(problems)
    return dumps_request(build_request(project)), [p for p in problems if p.severity == "warning"]


def variants(text: str, prompts: list[str] | None = None, cfg_scales: list[float] | None = None) -> list[str]:
    """Request texts that differ from `text` only in prompt and/or cfg_scale (every combination), same masks.

    An empty or missing list keeps the request's own value, so one list alone varies one field.
    """
    body = json.loads(text)
    out = []
    for prompt in prompts or [body.get("prompt", "")]:
        for cfg in cfg_scales or [body.get("cfg_scale", 0.5)]:
            if not 0 <= float(cfg) <= 1:
                raise InvalidError(f"cfg_scale {cfg:g} is outside Kling's 0 to 1")
            if len(prompt) > rules.MAX_PROMPT_CHARS:
                limit = rules.MAX_PROMPT_CHARS
                raise InvalidError(f"a prompt has {len(prompt)} characters; Kling accepts at most {limit}")
            out.append(dumps_request({**body, "prompt": prompt, "cfg_scale": float(cfg)}))
    return out
