"""Sample points carried along the streamlines of a curved flow field (export quality).

A flow-map phase with travel s draws at x the texture found s seconds upstream. The cheap answer,
x - s V(x), follows the tangent at x: exact while the field is uniform (a straight trajectory), but at a
bend the tangent leaves the streamline, by about (s |V|)^2 / (2 r) px at a bend of radius r (20-25 px
for a cycle's travel of 100 px around a 250 px bend): the texture is pulled across the bend towards its
inside, and features cut the corner instead of following the river. Here the sample point is x carried
backward along V itself for s seconds (the backward-warp approximation of Eulerian motion, Holynski et al.
2021), integrated once per field (RK4) and stored at a few travel levels; a frame interpolates linearly
between its two neighbouring levels (error about (level travel)^2 / (8 r): a tenth of a pixel).

Memory stays bounded: the displacements are smooth (the field is built on about 160 cells on the long
side and blurred), so they are kept on nodes every NODE_SPACING of the long side (4 px at 1080p) and
upsampled bilinearly per stripe (0.4 px at most off the integrated path on a 250 px bend at 1080p).
17 levels (the phases' reach upstream, 1.5 cycles, and half a cycle downstream), 1 MB each for a
region covering a whole 1080p frame: 17 MB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .. import motion

#: Travel levels stored per flow-map cycle (a phase's travel is interpolated between two of them).
LEVELS_PER_CYCLE = 8
#: Nodes the displacements are stored on, every this fraction of the long side (at least 1 px).
NODE_SPACING = 1.0 / 480.0
#: Largest travel of one RK4 integration step, as a fraction of the long side: a cell of the grid the
#: field is built on; quarter steps move the sample points by under 0.01 px.
STEP_SHIFT = 1.0 / motion.FIELD_CELLS
#: A field counts as curved when following it moves some sample point this many px off the linear one;
#: below, the linear map is as good and cheaper.
CURVED_PX = 0.5


@dataclass(eq=False)
class Streams:
    """A region's sample points at travel levels, as remap coordinates on its texture upsampled `zoom`
    times: `levels[k]` holds, on nodes every `spacing` px of its box, where the point `first + k * step`
    seconds upstream of each node lies. Coordinates, not displacements: upsampling them gives a
    stripe's remap map in one call."""

    levels: np.ndarray  # (n, node rows, node columns, 2) float32
    first: float
    step: float
    spacing: int

    def at(self, travel: float) -> np.ndarray:
        """The node coordinates `travel` seconds upstream (negative: downstream), interpolated linearly
        between the two nearest levels."""
        f = (travel - self.first) / self.step
        k = min(max(int(math.floor(f)), 0), len(self.levels) - 2)
        a = min(max(f - k, 0.0), 1.0)
        return np.asarray(cv2.addWeighted(self.levels[k], 1.0 - a, self.levels[k + 1], a, 0.0))

    def rows(self, nodes: np.ndarray, a0: int, a1: int, width: int) -> np.ndarray:
        """The remap map of the box's rows a0..a1 (width columns) from node coordinates `nodes`: a
        bilinear upsampling (cv2.resize by the whole node spacing, a fifth of the cost of an affine
        warp) of the node rows around them."""
        s = self.spacing
        i0, i1 = a0 // s, min(a1 // s + 3, nodes.shape[0])
        up = cv2.resize(nodes[i0:i1], None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
        # Node i sits at pixel s (i - 1) + (s - 1) / 2, so box pixel y is upsampled row y + s.
        return np.asarray(up)[a0 + s - i0 * s : a1 + s - i0 * s, s : s + width]

    @property
    def nbytes(self) -> int:
        return int(self.levels.nbytes)


def upstream(field: np.ndarray, points: np.ndarray, travel: float, steps: int) -> np.ndarray:
    """`points` ((..., 2) float32 x, y on the field's box) carried `travel` seconds upstream along the
    velocity `field` (negative travel: downstream), in `steps` RK4 steps. Beyond the box the field
    continues as its edge."""
    h = np.float32(travel / steps)
    p = np.ascontiguousarray(points, np.float32)
    for _ in range(steps):
        k1 = _velocity(field, p)
        k2 = _velocity(field, p - (h / 2) * k1)
        k3 = _velocity(field, p - (h / 2) * k2)
        k4 = _velocity(field, p - h * k3)
        p = p - (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
    return p


def _velocity(field: np.ndarray, p: np.ndarray) -> np.ndarray:
    out = cv2.remap(field, p, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # type: ignore[call-overload]
    return np.asarray(out).reshape(p.shape)


def build_streams(
    field: np.ndarray,
    mask: np.ndarray,
    cycle: float,
    reach: float,
    zoom: int,
    long_side: int,
    origin: tuple[int, int],
) -> Streams | None:
    """The travel levels of a flow field (px/s on its box) for phases of up to `reach` cycles of `cycle`
    seconds upstream and half a cycle downstream, as coordinates on the region's texture (the box's first
    pixel at `origin` (x, y) on it) upsampled `zoom` times; None when the field is not curved enough for
    that to matter in the region's `mask` (bool on the box): the linear map x - s V is then within
    CURVED_PX of the streamline."""
    h, w = field.shape[:2]
    if cycle <= 0 or h == 0 or w == 0:
        return None
    flat = field.reshape(-1, 2)
    speed = float(np.sqrt(np.einsum("ij,ij->i", flat, flat).max()))
    if speed <= 0 or float(np.ptp(flat, axis=0).max()) <= 1e-4 * speed:
        return None  # uniform: a straight trajectory
    spacing = max(1, int(round(NODE_SPACING * long_side)))
    # Node i at pixel spacing (i - 1) + (spacing - 1) / 2: one node beyond each edge of the box, so
    # upsampling interpolates every box pixel between two nodes (see Streams.rows).
    nh, nw = -(-h // spacing) + 2, -(-w // spacing) + 2
    nodes = motion.pixel_grid((0, nh, 0, nw)) * np.float32(spacing) + np.float32((spacing - 1) / 2 - spacing)
    dt = cycle / LEVELS_PER_CYCLE
    steps = max(1, int(math.ceil(speed * dt / max(1.0, STEP_SHIFT * long_side))))
    back, ahead = [nodes], []
    for _ in range(int(math.ceil(reach * LEVELS_PER_CYCLE - 1e-9))):
        back.append(upstream(field, back[-1], dt, steps))
    p = nodes
    for _ in range(LEVELS_PER_CYCLE // 2):
        p = upstream(field, p, -dt, steps)
        ahead.append(p)
    inside = np.zeros(nodes.shape[:2], bool)
    picked = mask[spacing // 2 :: spacing, spacing // 2 :: spacing]
    inside[1 : 1 + picked.shape[0], 1 : 1 + picked.shape[1]] = picked
    v = _velocity(field, nodes)
    far = (len(back) - 1) * dt
    off = max(_farthest(back[-1], nodes - far * v, inside), _farthest(p, nodes + (len(ahead) * dt) * v, inside))
    if off <= CURVED_PX:
        return None
    # Pixel centres: texture pixel i is at zoom i + (zoom - 1) / 2 of its upsampled copy.
    shift = np.float32(zoom) * np.asarray(origin, np.float32) + np.float32((zoom - 1) / 2)
    levels = np.stack(ahead[::-1] + back) * np.float32(zoom) + shift
    return Streams(np.ascontiguousarray(levels, np.float32), -len(ahead) * dt, dt, spacing)


def _farthest(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    d = (a - b)[where]
    return float(np.sqrt(np.einsum("ij,ij->i", d, d).max())) if d.size else 0.0
