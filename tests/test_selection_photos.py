"""Smart selection on a real photo against hand-traced masks (the issue's quality bar, at 960 px).

The same cases at 12 MP and the timings are in bench/bench_selection.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from selection_cases import CASES, STROKE_MARGIN, deepest_point, inner_stroke, iou, photo, truth

from kling_preview.core.selection import magic_wand, snap


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.photo}-{c.area}")
def test_snap_from_a_stroke_inside_the_edge_reaches_the_bar(case):
    image = photo(case.photo)
    area = truth(case.photo, case.area)
    stroke = inner_stroke(area, STROKE_MARGIN)
    assert iou(stroke, area) < case.snap_iou  # the stroke alone does not pass
    assert iou(snap(image, stroke), area) >= case.snap_iou


@pytest.mark.parametrize("case", [c for c in CASES if c.wand_iou is not None], ids=lambda c: f"{c.photo}-{c.area}")
def test_one_wand_click_reaches_the_bar_without_leaking(case):
    image = photo(case.photo)
    area = truth(case.photo, case.area)
    out = magic_wand(image, deepest_point(area))
    assert iou(out, area) >= case.wand_iou
    if case.avoid is not None:
        assert not np.any(out & truth(case.photo, case.avoid))
