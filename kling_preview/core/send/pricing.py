"""What a request costs, in Kling's API resource units, shown before anything is sent.

Kling bills the API from prepaid resource packs in units; the unit's price depends on the pack. The table
records the per-task deduction for the models and modes that carry the motion brush, as Kling's developer
pricing listed it and as public transcriptions of that page agree (a 10 s clip costs twice a 5 s one). Kling
changes its prices: the date says how old these figures are, and the app says so next to the number.
"""

from __future__ import annotations

PRICES_AS_OF = "2026-11-30"

#: (model_name, mode) -> units for a 5 s clip.
UNITS_PER_5S: dict[tuple[str, str], float] = {
    ("kling-v1", "std"): 1.0,
    ("kling-v1", "pro"): 3.5,
    ("kling-v1-5", "std"): 1.0,
    ("kling-v1-5", "pro"): 3.5,
    ("kling-v1-6", "std"): 1.0,
    ("kling-v1-6", "pro"): 3.5,
}


def units_for(model_name: str, mode: str, duration: str) -> float | None:
    """Units one task of this request spends; None when the model, mode or duration is not in the table."""
    per_5s = UNITS_PER_5S.get((model_name, mode))
    if per_5s is None or duration not in ("5", "10"):
        return None
    return per_5s * int(duration) / 5


def cost_line(model_name: str, mode: str, duration: str, tasks: int = 1) -> str:
    """`3.5 units (Kling's price as of 2026-11-30)`, or why the cost is not known."""
    units = units_for(model_name, mode, duration)
    if units is None:
        return f"cost unknown for {model_name} {mode} {duration} s: check Kling's pricing page"
    total = units * tasks
    each = f" ({units:g} each)" if tasks > 1 else ""
    plural = "" if total == 1 else "s"
    return f"{total:g} unit{plural}{each} (Kling's price as of {PRICES_AS_OF}; it may have changed)"
