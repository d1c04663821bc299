"""Zoom and pan of the canvas as plain math, without Qt.

One transform (scale + offset, no rotation) maps image pixels to widget pixels, which makes the mapping
exact and testable without a window. Image pixel i covers [i, i + 1); a point (x, y) in image pixels
(trajectories, brush dabs) refers to pixel centres, so it sits at (x + .5, y + .5).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_ZOOM = 0.01
MAX_ZOOM = 64.0
#: Zoom steps (scale factors) for Ctrl+= / Ctrl+-, the ones image editors use.
ZOOM_STEPS = (
    0.01, 0.02, 0.03, 0.04, 0.05, 0.0625, 0.0833, 0.125, 0.1667, 0.25, 0.3333, 0.5, 0.6667,
    1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0,
)  # fmt: skip
FIT_MARGIN = 12  # widget px around the image when fitted
KEEP_VISIBLE = 48  # widget px of the image that panning always leaves on screen

Size = tuple[int, int]


@dataclass
class Viewport:
    """Scale (screen px per image px) and offset (widget px of the image's top-left corner)."""

    scale: float = 1.0
    ox: float = 0.0
    oy: float = 0.0
    #: True while the whole image is fitted: a resized widget fits it again.
    fit_mode: bool = True

    # ----- mapping ---------------------------------------------------------------------------------
    def image_to_widget(self, x: float, y: float) -> tuple[float, float]:
        """A point in image pixels (pixel centres at integers) to widget coordinates."""
        return (x + 0.5) * self.scale + self.ox, (y + 0.5) * self.scale + self.oy

    def widget_to_image(self, wx: float, wy: float) -> tuple[float, float]:
        return (wx - self.ox) / self.scale - 0.5, (wy - self.oy) / self.scale - 0.5

    def image_rect_to_widget(self, y0: int, y1: int, x0: int, x1: int) -> tuple[float, float, float, float]:
        """An image box (half-open rows y0..y1, columns x0..x1) as a widget rectangle (x, y, w, h)."""
        s = self.scale
        return x0 * s + self.ox, y0 * s + self.oy, (x1 - x0) * s, (y1 - y0) * s

    # ----- zoom and pan ----------------------------------------------------------------------------
    @staticmethod
    def fit_scale(image: Size, view: Size) -> float:
        w, h = image
        avail_w = max(1, view[0] - 2 * FIT_MARGIN)
        avail_h = max(1, view[1] - 2 * FIT_MARGIN)
        return max(MIN_ZOOM, min(MAX_ZOOM, avail_w / w, avail_h / h))

    def fit(self, image: Size, view: Size) -> None:
        """Whole image in view, centred; stays fitted when the view is resized."""
        w, h = image
        self.scale = self.fit_scale(image, view)
        self.ox = (view[0] - w * self.scale) / 2
        self.oy = (view[1] - h * self.scale) / 2
        self.fit_mode = True

    def set_zoom(self, scale: float, anchor: tuple[float, float], image: Size, view: Size) -> None:
        """Zoom to `scale` (clamped), keeping the image point under `anchor` (widget px) in place."""
        scale = max(MIN_ZOOM, min(MAX_ZOOM, scale))
        ix = (anchor[0] - self.ox) / self.scale
        iy = (anchor[1] - self.oy) / self.scale
        self.scale = scale
        self.ox = anchor[0] - ix * scale
        self.oy = anchor[1] - iy * scale
        self.fit_mode = False
        self.clamp(image, view)

    @staticmethod
    def step_in(scale: float) -> float:
        """The next zoom step above `scale`."""
        return next((s for s in ZOOM_STEPS if s > scale * 1.001), MAX_ZOOM)

    @staticmethod
    def step_out(scale: float) -> float:
        """The next zoom step below `scale`."""
        return next((s for s in reversed(ZOOM_STEPS) if s < scale / 1.001), MIN_ZOOM)

    def pan_by(self, dx: float, dy: float, image: Size, view: Size) -> None:
        self.ox += dx
        self.oy += dy
        self.fit_mode = False
        self.clamp(image, view)

    def clamp(self, image: Size, view: Size) -> None:
        """Keep at least KEEP_VISIBLE widget px of the image on screen."""
        w, h = image
        sw, sh = w * self.scale, h * self.scale
        keep_x, keep_y = min(KEEP_VISIBLE, sw), min(KEEP_VISIBLE, sh)
        self.ox = min(max(self.ox, keep_x - sw), view[0] - keep_x)
        self.oy = min(max(self.oy, keep_y - sh), view[1] - keep_y)


#: Widget px a touchpad scroll of one notch's worth (angle 120) pans, like a scroll area's three lines.
PAN_PER_NOTCH = 60.0
#: Widget px an arrow key pans the canvas (Shift: ARROW_PAN_BIG).
ARROW_PAN = 40.0
ARROW_PAN_BIG = 200.0


@dataclass(frozen=True)
class WheelIntent:
    """What one wheel event asks of the canvas: a zoom factor around the cursor, or a pan (widget px)."""

    zoom: float = 1.0
    dx: float = 0.0
    dy: float = 0.0


def wheel_intent(angle: tuple[int, int], pixel: tuple[int, int], ctrl: bool, shift: bool, phased: bool) -> WheelIntent:
    """Zoom or pan for a wheel event. Why these rules: a laptop's two-finger scroll must pan (both axes)
    as in every other app, Ctrl+scroll (and the pinch that some systems send as it) zooms, Shift+scroll
    and a sideways swipe pan sideways; a mouse wheel's whole notches, with no scroll phase, keep zooming
    around the cursor as before. A touchpad shows itself by a pixel delta, a phase, or part notches."""
    ax, ay = angle
    px, py = pixel
    if ctrl:
        delta = ay or ax or py or px
        return WheelIntent(zoom=2 ** (delta / 600)) if delta else WheelIntent()  # one notch is x1.15
    touchpad = bool(px or py) or phased or ax % 120 != 0 or ay % 120 != 0
    if touchpad:
        dx, dy = (float(px), float(py)) if (px or py) else (ax * PAN_PER_NOTCH / 120, ay * PAN_PER_NOTCH / 120)
    elif shift or ax:
        dx, dy = ax * PAN_PER_NOTCH / 120, ay * PAN_PER_NOTCH / 120
    else:
        return WheelIntent(zoom=2 ** (ay / 600)) if ay else WheelIntent()
    if shift and dx == 0:
        dx, dy = dy, 0.0  # Shift turns a vertical scroll sideways (macOS does it before Qt does)
    return WheelIntent(dx=dx, dy=dy)
