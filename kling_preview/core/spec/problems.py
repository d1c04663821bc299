"""What a broken rule looks like (`Problem`), and how messages name regions, values and JSON types.

Kept apart from `rules` so the exporters, importers and the CLI can speak of problems without the rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

#: Problems of one rule listed before the rest are summed up in one line.
MAX_REPEATS = 10


@dataclass(frozen=True)
class Problem:
    """One broken rule: `region` is the region's label (the request's region number), None if project-wide."""

    severity: str  # "error" | "warning"
    message: str
    rule: str
    region: int | None = None


def _error(message: str, rule: str, region: int | None = None) -> Problem:
    return Problem("error", message, rule, region)


def _warning(message: str, rule: str, region: int | None = None) -> Problem:
    return Problem("warning", message, rule, region)


def region_ref(number: int, name: str | None = None) -> str:
    """How messages name a region: "region 3", or "region 3 (Sky)" when its name says more."""
    if not name or name.strip().lower() == f"region {number}":
        return f"region {number}"
    return f"region {number} ({name})"


def json_type(value: object) -> str:
    """The JSON name of a value's type, for messages about a request."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def quote(value: object, limit: int = 60) -> str:
    """A field value as JSON on one line (a newline in a value must not split a message), shortened."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def cap_repeats(problems: list[Problem], limit: int = MAX_REPEATS) -> list[Problem]:
    """At most `limit` problems of one rule, then one "... and K more" line: a hostile request must not
    turn into millions of lines."""
    counts: dict[str, int] = {}
    for p in problems:
        counts[p.rule] = counts.get(p.rule, 0) + 1
    out: list[Problem] = []
    seen: dict[str, int] = {}
    for p in problems:
        seen[p.rule] = seen.get(p.rule, 0) + 1
        if seen[p.rule] <= limit:
            out.append(p)
        elif seen[p.rule] == limit + 1:
            out.append(Problem(p.severity, f"... and {counts[p.rule] - limit} more like this ({p.rule})", p.rule))
    return out
