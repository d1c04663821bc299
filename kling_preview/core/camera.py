"""Camera moves: Kling's `camera_control` "simple" config as one global warp per frame.

One axis, value -10..10, ramping from identity at the first frame to the full move at the clip end.
Directions follow Kling's documentation and describe the *camera*; the picture moves the other way:
horizontal + = camera right (content slides left), vertical + = camera up (content slides down),
pan + = camera turns up (rotation about the x axis), tilt + = camera turns right (about the y axis),
roll + = camera rolls clockwise (content turns counter-clockwise), zoom - = narrower field of view
(magnified), zoom + = wider (shrunk). Areas the source does not cover are mirrored from the edge.

A matrix maps an *output* pixel to the *source* pixel it shows (inverse mapping), so the warp is a
single `cv2.warpAffine` (or `cv2.warpPerspective` for pan and tilt) with `WARP_INVERSE_MAP`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")

#: What value 10 means at the clip end.
SHIFT_AT_10 = 0.25  # fraction of the frame width (horizontal) or height (vertical) the camera travels
TURN_AT_10 = 20.0  # degrees the camera turns (pan, tilt)
ROLL_AT_10 = 30.0  # degrees the camera rolls
ZOOM_AT_10 = 2.0  # magnification at zoom -10; +10 shows the frame at 1/2
#: Focal length in units of the long side (about a 53 degree field of view), for pan and tilt.
FOCAL = 1.0


def zoom_factor(value: float, u: float = 1.0) -> float:
    """Magnification after a fraction `u` of the clip: exponential so the zoom speed looks constant."""
    return float(ZOOM_AT_10 ** (-float(value) / 10.0 * float(u)))


def is_affine(axis: str | None) -> bool:
    return axis not in ("pan", "tilt")


def matrix(axis: str | None, value: float, u: float, width: int, height: int) -> np.ndarray:
    """3x3 map from output pixel (x, y, 1) to source pixel; identity for u = 0, no axis or value 0."""
    u = min(max(float(u), 0.0), 1.0)
    k = float(value) / 10.0 * u
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    m = np.eye(3, dtype=np.float64)
    if axis is None or k == 0.0:
        return m
    if axis == "horizontal":
        m[0, 2] = k * SHIFT_AT_10 * width
    elif axis == "vertical":
        m[1, 2] = -k * SHIFT_AT_10 * height
    elif axis == "roll":
        a = math.radians(k * ROLL_AT_10)
        c, s = math.cos(a), math.sin(a)
        rot = np.array([[c, -s], [s, c]])
        m[:2, :2] = rot
        m[:2, 2] = np.array([cx, cy]) - rot @ np.array([cx, cy])
    elif axis == "zoom":
        z = zoom_factor(value, u)
        m[0, 0] = m[1, 1] = 1.0 / z
        m[0, 2] = cx - cx / z
        m[1, 2] = cy - cy / z
    elif axis in ("pan", "tilt"):
        f = FOCAL * max(width, height)
        kmat = np.array([[f, 0.0, cx], [0.0, f, cy], [0.0, 0.0, 1.0]])
        a = math.radians(k * TURN_AT_10)
        c, s = math.cos(a), math.sin(a)
        if axis == "tilt":  # turn right: the ray through the output centre points right of the old one
            rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        else:  # pan up: the ray through the output centre points above the old one (image y is down)
            rot = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
        m = kmat @ rot @ np.linalg.inv(kmat)
        m /= m[2, 2]
    else:
        raise ValueError(f"unknown camera axis {axis!r}")
    return m


def apply(frame: np.ndarray, axis: str | None, value: float, u: float) -> np.ndarray:
    """The frame as the camera sees it after a fraction `u` of the clip (the same array when still)."""
    h, w = frame.shape[:2]
    m = matrix(axis, value, u, w, h)
    if np.array_equal(m, np.eye(3)):
        return frame
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    if is_affine(axis):
        return cv2.warpAffine(frame, m[:2], (w, h), flags=flags, borderMode=cv2.BORDER_REFLECT_101)
    return cv2.warpPerspective(frame, m, (w, h), flags=flags, borderMode=cv2.BORDER_REFLECT_101)
