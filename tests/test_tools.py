"""The canvas tools as plain state machines: pointer records in, actions out (no Qt)."""

from __future__ import annotations

from kling_preview.core.masks import STATIC
from kling_preview.ui import tools as T


def test_brush_tool_state_machine():
    tool = T.BrushTool("motion")
    ctx = T.Context(target=3, radius=5)
    acts = tool.press(T.Pointer(10, 10, button=T.Button.LEFT, buttons=1), ctx)
    assert acts == [T.BeginStroke(erase=False, label=3), T.StrokeTo(((10, 10),))]
    assert tool.move(T.Pointer(12, 10, buttons=1), ctx) == [T.StrokeTo(((10, 10), (12, 10)))]
    assert tool.release(T.Pointer(12, 10, button=T.Button.LEFT), ctx) == [T.EndStroke()]
    acts = tool.press(T.Pointer(50, 10, button=T.Button.LEFT, shift=True), ctx)
    assert acts[1] == T.StrokeTo(((12, 10), (50, 10)))
    tool.release(T.Pointer(50, 10, button=T.Button.LEFT), ctx)
    assert T.BrushTool("static").press(T.Pointer(0, 0, button=T.Button.LEFT), ctx)[0].label == STATIC
    assert T.BrushTool("eraser").press(T.Pointer(0, 0, button=T.Button.LEFT), ctx)[0] == T.BeginStroke(True, 3)
    assert T.BrushTool("motion").press(T.Pointer(0, 0, button=T.Button.LEFT), T.Context(target=STATIC))[0].label is None


def test_trajectory_tool_state_machine():
    tool = T.TrajectoryTool()
    ctx = T.Context(target=1, path=(), slop=3, drag=3)
    assert tool.press(T.Pointer(10, 10, button=T.Button.LEFT), ctx) == []
    assert tool.release(T.Pointer(11, 10, button=T.Button.LEFT), ctx) == [
        T.CommitPath(((10, 10),), "Add trajectory point")
    ]
    ctx = T.Context(target=1, path=((10, 10), (50, 10)), slop=3, drag=3)
    tool.finish()
    tool.press(T.Pointer(49, 11, button=T.Button.LEFT), ctx)  # on a handle
    tool.move(T.Pointer(60, 30, buttons=1), ctx)
    assert tool.overlay(ctx).points == ((10, 10), (60, 30))
    assert tool.release(T.Pointer(60, 30, button=T.Button.LEFT), ctx) == [
        T.CommitPath(((10, 10), (60, 30)), "Move trajectory point")
    ]
    tool.press(T.Pointer(100, 100, button=T.Button.LEFT), ctx)
    tool.move(T.Pointer(120, 100, buttons=1), ctx)
    assert tool.key("escape", ctx) == [T.Repaint()]  # cancels the drag in progress
    assert tool.release(T.Pointer(120, 100, button=T.Button.LEFT), ctx) == []
    assert T.bigger_brush(1) == 2 and T.smaller_brush(2) == 1 and T.smaller_brush(1) == 1


def test_a_freehand_drag_over_a_path_is_a_named_replacement_and_on_none_a_drawing():
    tool = T.TrajectoryTool()
    for path, text in (((), "Draw trajectory"), (((10, 10), (50, 10)), T.REPLACE_PATH)):
        ctx = T.Context(target=1, path=path, slop=3, drag=3)
        tool.press(T.Pointer(100, 100, button=T.Button.LEFT), ctx)
        tool.move(T.Pointer(130, 100, buttons=1), ctx)
        actions = tool.release(T.Pointer(160, 110, button=T.Button.LEFT), ctx)
        assert len(actions) == 1 and isinstance(actions[0], T.CommitPath)
        assert actions[0].text == text and actions[0].points[0] == (100, 100)


def test_a_dense_path_shows_few_handles_far_from_the_cursor_and_every_one_near_it():
    from kling_preview.ui.tools import HANDLE_GAP, HANDLE_NEAR, handles_to_show

    dense = [(10.0 + 4 * i, 100.0) for i in range(48)]  # 48 points 4 screen px apart
    far = handles_to_show(dense, cursor=(500.0, 500.0), hover=None)
    assert far[0] == 0 and far[-1] == 47 and len(far) <= 48 * 4 / HANDLE_GAP + 2
    near = handles_to_show(dense, cursor=(100.0, 100.0), hover=None)
    close = [i for i, (x, _y) in enumerate(dense) if abs(x - 100.0) <= HANDLE_NEAR]
    assert set(close) <= set(near) and len(near) < 48
    assert 31 in handles_to_show(dense, cursor=None, hover=31)
    sparse = [(10.0 + 40 * i, 100.0) for i in range(6)]
    assert handles_to_show(sparse, cursor=None, hover=None) == list(range(6))
