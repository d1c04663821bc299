"""Texture fill of a hole from its surroundings: what an object that moves away uncovers (kling mode).

Why not a smooth fill: `cv2.inpaint` or a push-pull membrane leave a blurry grey block where the object
was, which reads as a hole, not as ground. Why not a blur of what was there: that is a ghost of the
object. So the hole gets real texture, copied from known pixels around it:

1. Matching, at a reduced size (cheap, and coarse enough to follow structure): a coarse-to-fine
   PatchMatch (Barnes et al. 2009) with expectation-maximisation voting (Wexler et al. 2007). Every hole
   pixel gets a source pixel whose patch looks like the hole's current estimate around it; the coarsest
   estimate is a smooth membrane, so the fill continues the surroundings' colours; each finer level
   refines the matches and re-votes the estimate.
2. Copy at full size: the matches' offsets are scaled up and every hole pixel copies the pixel its
   offset points at, so the grain is the source's own at every size (a proxy and a 4K export both keep
   their fine detail; nothing is upsampled).

Patches are compared through a 3x3 grid of slightly blurred samples at a stride of two (a 5x5 footprint,
27 numbers per pixel), so one comparison is one row gather. Deterministic: a fixed seed drives the
random search, so the same hole on the same image always gets the same fill (caches can compare).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .motion import push_pull

#: Long side of the image the matches are computed at (the copy is at full size).
MATCH_LONG_SIDE = 192
#: A hole's short side is at least this many pixels at the match size (small holes are matched finer),
#: as long as the hole has at most MATCH_BUDGET pixels there.
HOLE_ACROSS = 12
MATCH_BUDGET = 6000
#: Coarsest pyramid level: its hole fits in about this many pixels (smaller is cheaper, coarser).
COARSEST_HOLE = 12
#: ... and it is at least this many pixels on its short side (smaller ones hold too little context).
COARSEST_SIZE = 16
#: Patch footprint radius in pixels at every level (samples at -2, 0, 2 each way).
PATCH_RADIUS = 2
#: (EM rounds, PatchMatch passes per round) at the coarsest level and at each finer one.
COARSE_ROUNDS = (4, 1)
FINE_ROUNDS = (1, 1)
#: Jump lengths of the propagation step (a jump-flood keeps the vectorised propagation fast).
JUMPS = (4, 1)
#: Widest random search at the finer levels (the coarsest searches the whole image): they only refine.
FINE_SEARCH = 4
SEED = 1009
#: Weight of the hole's current estimate against known pixels when comparing patches.
ESTIMATE_TRUST = 0.3
#: Extra cost of a random-search candidate over a propagated one: a jump to unrelated texture must fit
#: clearly better, so the matches stay coherent (whole patches copied together, fewer seams).
JUMP_COST = 27 * 6.0**2
#: Patch distance (sum of squares over the 27 samples) added for a source one hole-size away: about a
#: difference of 8 grey levels per sample, so nearby texture wins unless far texture fits much better.
DISTANCE_COST = 27 * 16.0**2
#: Width of the band outside a hole (match-size px) where the copy is compared with the known pixels,
#: and how far along the edge that difference is smoothed.
EDGE_BAND = 2.0
EDGE_SMOOTH = 2.0
#: Where neighbouring matches disagree, the copies cross-fade over 1/SEAM_SHARPNESS of a match-size pixel.
SEAM_SHARPNESS = 1.6
#: Radius (full-size px) of the local mean the blended copies' detail is restored around.
SEAM_MEAN_SIGMA = 2.0
#: How far into the hole (match-size px) that correction reaches, fading out.
EDGE_REACH = 4.0


def _features(img: np.ndarray) -> np.ndarray:
    """(h*w, 9c) float32: each pixel's 5x5 patch sampled on a 3x3 grid of a slightly blurred image
    (c channels: 27 numbers for a colour image)."""
    h, w = img.shape[:2]
    r = PATCH_RADIUS
    soft = cv2.GaussianBlur(img, (0, 0), 0.8).reshape(h, w, -1)
    pad = cv2.copyMakeBorder(soft, r, r, r, r, cv2.BORDER_REFLECT_101).reshape(h + 2 * r, w + 2 * r, -1)
    parts = [pad[r + dy : r + dy + h, r + dx : r + dx + w] for dy in (-r, 0, r) for dx in (-r, 0, r)]
    return np.ascontiguousarray(np.concatenate(parts, axis=2).reshape(h * w, -1))


def _smooth_fill(img: np.ndarray, known: np.ndarray) -> np.ndarray:
    """`img` with every unknown pixel a smooth membrane of the known colours around it."""
    m = known.astype(np.float32)
    est = push_pull(img * m[..., None], m, relax=4)
    return np.where(known[..., None], img, est).astype(np.float32)


class _Level:
    """One pyramid level: the image, its hole, which pixels are known, the valid patch centres, and the
    hole pixels' neighbours (flat indices) that propagation and voting look at."""

    def __init__(self, img: np.ndarray, hole: np.ndarray, known: np.ndarray) -> None:
        self.img = img
        self.hole = hole
        self.known = known
        h, w = hole.shape
        self.shape = (h, w)
        k = 2 * PATCH_RADIUS + 1
        # A source's whole patch is known and inside the image (no pixel lookup needs a bounds check).
        centres = cv2.erode(
            known.astype(np.uint8), np.ones((k, k), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0
        )
        self.source = centres.astype(bool)
        self.source_flat = self.source.reshape(-1)
        self.source_idx = np.flatnonzero(self.source).astype(np.int64)
        self.targets = np.flatnonzero(hole).astype(np.int64)
        ty, tx = np.divmod(self.targets, w)
        self.ty, self.tx = ty.astype(np.float32), tx.astype(np.float32)
        # How much each sample of a hole pixel's patch counts: known pixels fully, the estimate less (it
        # is only a guess), so patches on the hole's edge follow the structure around them.
        sure = np.repeat(_features(known.astype(np.float32))[self.targets], img.shape[2], axis=1)
        self.trust = (ESTIMATE_TRUST + (1.0 - ESTIMATE_TRUST) * sure).astype(np.float32)
        # Distance penalty per squared pixel: a source one hole-size away costs DISTANCE_COST.
        extent = max(int(np.ptp(ty)), int(np.ptp(tx))) + 1 if len(ty) else 1
        self.near = DISTANCE_COST / float(extent * extent)
        # Propagation: (flat step, the neighbour one step away or -1 when it is not a hole pixel).
        self.steps: list[tuple[int, np.ndarray]] = []
        for step in JUMPS:
            for dy, dx in ((0, -step), (-step, 0), (0, step), (step, 0)):
                self.steps.append((dy * w + dx, self._neighbours(ty + dy, tx + dx, -1)))
        # Voting: (flat offset, the hole pixel whose patch covers the target at that offset, or itself).
        self.covers: list[tuple[np.ndarray, np.ndarray]] = []
        for oy in (-1, 0, 1):
            for ox in (-1, 0, 1):
                q = self._neighbours(ty - oy, tx - ox, None)
                self.covers.append((np.where(q == self.targets, 0, oy * w + ox), q))

    def _neighbours(self, ny: np.ndarray, nx: np.ndarray, missing: int | None) -> np.ndarray:
        h, w = self.shape
        ok = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        n = np.where(ok, ny * w + nx, 0)
        ok &= self.hole.reshape(-1)[n]
        return np.where(ok, n, self.targets if missing is None else missing)


def _pyramid(img: np.ndarray, hole: np.ndarray, known: np.ndarray) -> list[_Level]:
    """Finest first; halves while the hole is larger than COARSEST_HOLE and enough patch centres remain."""
    levels = [_Level(img, hole, known)]
    while True:
        last = levels[-1]
        ys, xs = np.nonzero(last.hole)
        extent = max(int(ys.max() - ys.min()), int(xs.max() - xs.min())) + 1
        h, w = last.shape
        if extent <= COARSEST_HOLE or min(h, w) < 2 * COARSEST_SIZE:
            break
        size = ((w + 1) // 2, (h + 1) // 2)
        small = cv2.resize(last.img, size, interpolation=cv2.INTER_AREA)
        hole_s = cv2.resize(last.hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
        known_s = (cv2.resize(last.known.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.999) & ~hole_s
        level = _Level(small, hole_s, known_s)
        if len(level.source_idx) < len(level.targets):
            break  # too little context left at this size to match against
        levels.append(level)
    return levels


def _pm_pass(
    level: _Level, feats: np.ndarray, nnf: np.ndarray, cost: np.ndarray, rng: np.random.Generator, search: int
) -> None:
    """One PatchMatch pass over the level's hole pixels: propagation by jumps, then random search.

    Candidates are flat indices; one that wraps across a row is still a valid source, just another guess.
    """
    h, w = level.shape
    t = level.targets
    tf = feats[t]
    flat_nnf = nnf.reshape(-1)
    size = h * w

    def consider(cand: np.ndarray, ok: np.ndarray | None = None, penalty: float = 0.0) -> None:
        inside = (cand >= 0) & (cand < size)
        if ok is not None:
            inside &= ok
        cand = np.where(inside, cand, 0)
        sel = np.flatnonzero(inside & level.source_flat[cand])
        if not len(sel):
            return
        c_sel = cand[sel]
        d = feats[c_sel] - tf[sel]
        c = np.einsum("ij,ij,ij->i", d, d, level.trust[sel]) + _distance_cost(level, sel, c_sel) + penalty
        better = c < cost[sel]
        sel = sel[better]
        cost[sel] = c[better]
        flat_nnf[t[sel]] = c_sel[better]

    for step, n in level.steps:
        # The neighbour's source moved back by the same step: the candidate a coherent fill would use.
        consider(flat_nnf[np.maximum(n, 0)] - step, n >= 0)
    radius = search
    while radius >= 1:
        jy = rng.integers(-radius, radius + 1, len(t))
        jx = rng.integers(-radius, radius + 1, len(t))
        consider(flat_nnf[t] + jy * w + jx, penalty=JUMP_COST)
        radius //= 2


def _vote(level: _Level, est: np.ndarray, nnf: np.ndarray) -> None:
    """Each hole pixel becomes the mean of what the patches covering it (3x3 neighbours) copy there.

    Sources are patch centres, so a source moved by one pixel is still inside the known image.
    """
    flat_img = level.img.reshape(-1, 3)
    flat_nnf = nnf.reshape(-1)
    acc = np.zeros((len(level.targets), 3), np.float32)
    for off, q in level.covers:
        acc += flat_img[flat_nnf[q] + off]
    est.reshape(-1, 3)[level.targets] = acc * (1.0 / len(level.covers))


def _mirrored_sources(level: _Level, rng: np.random.Generator) -> np.ndarray:
    """First guess: each hole pixel mirrored across its nearest patch centre (the surroundings' texture
    reflected inwards, undistorted), or a random centre where the mirror point is no centre."""
    h, w = level.shape
    _, lab = cv2.distanceTransformWithLabels(
        (~level.source).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    t = level.targets
    qy, qx = np.divmod(level.source_idx[lab.reshape(-1)[t] - 1], w)
    ty, tx = np.divmod(t, w)
    my, mx = 2 * qy - ty, 2 * qx - tx
    ok = (my >= 0) & (my < h) & (mx >= 0) & (mx < w)
    m = np.where(ok, my * w + mx, 0)
    ok &= level.source_flat[m]
    return np.where(ok, m, _random_sources(level, len(t), rng))


def _random_sources(level: _Level, n: int, rng: np.random.Generator) -> np.ndarray:
    return level.source_idx[rng.integers(0, len(level.source_idx), n)]


def _upsample(coarse: _Level, nnf_c: np.ndarray, fine: _Level, rng: np.random.Generator) -> np.ndarray:
    """The coarse matches at the fine level: twice the coarse source plus the pixel's place in its cell."""
    h, w = fine.shape
    ch, cw = coarse.shape
    nnf = np.arange(h * w, dtype=np.int64).reshape(h, w)
    t = fine.targets
    ty, tx = np.divmod(t, w)
    cy, cx = np.minimum(ty // 2, ch - 1), np.minimum(tx // 2, cw - 1)
    sy, sx = np.divmod(nnf_c[cy, cx], cw)
    fy, fx = 2 * sy + (ty - 2 * cy), 2 * sx + (tx - 2 * cx)
    ok = coarse.hole[cy, cx] & (fy >= 0) & (fy < h) & (fx >= 0) & (fx < w)
    cand = np.where(ok, fy * w + fx, 0)
    ok &= fine.source.reshape(-1)[cand]
    cand = np.where(ok, cand, _random_sources(fine, len(t), rng))
    nnf.reshape(-1)[t] = cand
    return nnf


def _distance_cost(level: _Level, sel: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """The spatial prior: far sources cost more, so the fill copies from the hole's own surroundings."""
    cy, cx = np.divmod(cand, level.shape[1])
    dy, dx = cy - level.ty[sel], cx - level.tx[sel]
    return np.asarray((dy * dy + dx * dx) * level.near, np.float32)


def _costs(level: _Level, feats: np.ndarray, nnf: np.ndarray) -> np.ndarray:
    t = level.targets
    cand = nnf.reshape(-1)[t]
    d = feats[cand] - feats[t]
    cost = np.einsum("ij,ij,ij->i", d, d, level.trust) + _distance_cost(level, np.arange(len(t)), cand)
    return np.asarray(cost, np.float32)


def match(img: np.ndarray, hole: np.ndarray, known: np.ndarray, seed: int = SEED) -> np.ndarray | None:
    """For every pixel, the flat index of the pixel it copies: itself outside `hole`, a known pixel with
    a similar neighbourhood inside it (coarse-to-fine PatchMatch + voting). None when nothing is known.

    `img` (h, w, 3) float32 or uint8; `hole` and `known` bool (`known` excludes the hole).
    """
    if not hole.any():
        h, w = hole.shape
        return np.arange(h * w, dtype=np.int64).reshape(h, w)
    levels = _pyramid(img.astype(np.float32), hole, known & ~hole)
    if len(levels[-1].source_idx) == 0:
        return None
    rng = np.random.default_rng(seed)
    nnf: np.ndarray | None = None
    est = _smooth_fill(levels[-1].img, levels[-1].known)
    for i in range(len(levels) - 1, -1, -1):
        level = levels[i]
        if nnf is not None:
            # Unknown pixels outside the hole (other holes) keep the coarser estimate, scaled up.
            h, w = level.shape
            up = cv2.resize(est, (w, h), interpolation=cv2.INTER_LINEAR)
            est = np.where(level.known[..., None], level.img, up).astype(np.float32)
        if nnf is None:
            h, w = level.shape
            nnf = np.arange(h * w, dtype=np.int64).reshape(h, w)
            nnf.reshape(-1)[level.targets] = _mirrored_sources(level, rng)
            rounds, passes = COARSE_ROUNDS
            search = max(level.shape)
        else:
            nnf = _upsample(levels[i + 1], nnf, level, rng)
            _vote(level, est, nnf)
            rounds, passes = FINE_ROUNDS
            search = FINE_SEARCH
        for r in range(rounds):
            feats = _features(est)
            cost = _costs(level, feats, nnf)
            for _ in range(passes):
                _pm_pass(level, feats, nnf, cost, rng, search)
            if i > 0 or r < rounds - 1:
                _vote(level, est, nnf)
    assert nnf is not None
    return nnf


def fill_hole(pixels: np.ndarray, hole: np.ndarray, known: np.ndarray, match_scale: float = 1.0) -> np.ndarray:
    """`pixels` (h, w, 3 uint8) with every `hole` pixel copied from a `known` pixel of similar surroundings.

    Matches are found at `match_scale` of the size (<= 1) and copied at full size, so the fill keeps the
    source's grain. Without any known pixel the hole becomes a heavy blur of what was there.
    """
    out = pixels.copy()
    hole = np.asarray(hole, bool)
    if not hole.any():
        return out
    # Known islands inside the hole (a static post the object surrounded) are not its surroundings.
    known = np.asarray(known, bool) & ~hole & ~enclosed(hole)
    h, w = hole.shape
    # A small or thin hole is matched finer (it is cheap), so it is still a few patches across.
    y0, y1, x0, x1 = _bbox(hole)
    thin = HOLE_ACROSS / max(1, min(y1 - y0, x1 - x0))
    budget = math.sqrt(MATCH_BUDGET / max(1, int(np.count_nonzero(hole))))
    s = min(1.0, max(match_scale, 16.0 / max(1, min(h, w)), min(thin, budget)))
    sw, sh = max(1, round(w * s)), max(1, round(h * s))
    if (sw, sh) == (w, h):
        small, hole_s, known_s = pixels, hole, known
    else:
        small = cv2.resize(pixels, (sw, sh), interpolation=cv2.INTER_AREA)
        # Dilate the hole and shrink the known area by a pixel, so matches scaled back up land on pixels
        # known at full size.
        hole_s = cv2.resize(hole.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA) > 0
        hole_s = cv2.dilate(hole_s.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        known_s = (cv2.resize(known.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA) > 0.999) & ~hole_s
    nnf = match(small, hole_s, known_s) if known_s.any() else None
    if nnf is None:
        out[hole] = cv2.GaussianBlur(pixels, (0, 0), max(h, w) / 8.0)[hole]
        return out
    copy, gain = _blend_copies(pixels, nnf, hole, known, hole_s)
    if (gain > 1.001).any():
        # Variance-preserving blend: where different copies were cross-faded, their detail around the
        # local mean is scaled back up, so a seam is not a smooth streak.
        out_f = pixels.astype(np.float32)
        out_f[hole] = copy
        mean = cv2.GaussianBlur(out_f, (0, 0), SEAM_MEAN_SIGMA)[hole]
        copy = mean + (copy - mean) * gain[:, None]
    # The copy's colours meet the surroundings smoothly: their mismatch along the hole's edge, carried
    # into the hole as a membrane (instant cloning), is added to it. Smooth, so found at the small size.
    fix = _edge_mismatch(small, hole_s, known_s, nnf)
    if (sw, sh) != (w, h):
        fix = cv2.resize(fix, (w, h), interpolation=cv2.INTER_LINEAR)
    out[hole] = np.clip(copy + fix[hole] + 0.5, 0, 255).astype(np.uint8)
    return out


def _blend_copies(
    pixels: np.ndarray, nnf: np.ndarray, hole: np.ndarray, known: np.ndarray, hole_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """((n, 3) float32, (n,) float32 gain): each full-size hole pixel (raster order) copied through the
    offsets of the four small pixels around it, blended bilinearly, and the contrast gain that undoes the
    blend's loss of detail. Where the offsets agree this is an exact copy (the grain
    is kept); where they differ the seam is a short cross-fade, not the edge of a block."""
    h, w = hole.shape
    sh, sw = hole_s.shape
    ys, xs = np.nonzero(hole)
    uy = (ys + 0.5) * (sh / h) - 0.5
    ux = (xs + 0.5) * (sw / w) - 0.5
    y0, x0 = np.floor(uy).astype(np.int64), np.floor(ux).astype(np.int64)
    # Sharpened weights: a pixel takes its own cell's copy but for a narrow cross-fade between cells.
    ty = np.clip((uy - y0 - 0.5) * SEAM_SHARPNESS + 0.5, 0.0, 1.0).astype(np.float32)
    tx = np.clip((ux - x0 - 0.5) * SEAM_SHARPNESS + 0.5, 0.0, 1.0).astype(np.float32)
    acc = np.zeros((len(ys), 3), np.float32)
    wsum = np.zeros(len(ys), np.float32)
    weights, offsets = [], []
    for dy in (0, 1):
        for dx in (0, 1):
            cy, cx = np.clip(y0 + dy, 0, sh - 1), np.clip(x0 + dx, 0, sw - 1)
            wt = (ty if dy else 1.0 - ty) * (tx if dx else 1.0 - tx)
            sy, sx = np.divmod(nnf[cy, cx], sw)
            fy = np.clip(np.rint(ys + (sy - cy) * (h / sh)).astype(np.int64), 0, h - 1)
            fx = np.clip(np.rint(xs + (sx - cx) * (w / sw)).astype(np.int64), 0, w - 1)
            wt = wt * (hole_s[cy, cx] & known[fy, fx])
            acc += pixels[fy, fx] * wt[:, None]
            wsum += wt
            weights.append(wt)
            offsets.append((fy - ys) * (2 * w + 1) + (fx - xs))
    fy, fx = _full_sources(nnf, hole, known, (sh, sw))
    copy = pixels[fy, fx].astype(np.float32)
    some = wsum > 1e-3
    copy[some] = acc[some] / wsum[some, None]
    # Sum of squared weights, copies through the same offset counted as one: blending k different
    # textures shrinks their contrast by sqrt(that) / sum of weights.
    square = np.zeros(len(ys), np.float32)
    for wk, ok in zip(weights, offsets):
        same = sum((wj * (oj == ok) for wj, oj in zip(weights, offsets)), np.zeros(len(ys), np.float32))
        square += wk * same
    gain = np.ones(len(ys), np.float32)
    gain[some] = wsum[some] / np.sqrt(np.maximum(square[some], 1e-6))
    return np.asarray(copy, np.float32), gain


def _full_sources(
    nnf: np.ndarray, hole: np.ndarray, known: np.ndarray, small: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Where each full-size hole pixel copies from: the offset of the small pixel it falls in, scaled up."""
    h, w = hole.shape
    sh, sw = small
    ys, xs = np.nonzero(hole)
    cy = np.minimum((ys * sh) // h, sh - 1)
    cx = np.minimum((xs * sw) // w, sw - 1)
    src_y, src_x = np.divmod(nnf[cy, cx], sw)
    fy = np.rint(ys + (src_y - cy) * (h / sh)).astype(np.int64)
    fx = np.rint(xs + (src_x - cx) * (w / sw)).astype(np.int64)
    np.clip(fy, 0, h - 1, out=fy)
    np.clip(fx, 0, w - 1, out=fx)
    # A copy that still lands off the known area takes the nearest known pixel instead.
    bad = ~known[fy, fx]
    if bad.any():
        _, lab = cv2.distanceTransformWithLabels(
            (~known).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
        )
        near = np.flatnonzero(known)[lab[fy[bad], fx[bad]] - 1]
        fy[bad], fx[bad] = np.divmod(near, w)
    return fy, fx


def _edge_mismatch(img: np.ndarray, hole: np.ndarray, known: np.ndarray, nnf: np.ndarray) -> np.ndarray:
    """(h, w, 3) float32, smooth: what to add to the copied pixels so they meet the known ones at the edge.

    Just outside the hole, the copy is continued with the offset of the nearest hole pixel and compared
    with the known pixels there; the low-passed difference is spread over the hole as a membrane.
    """
    h, w = hole.shape
    dist, lab = cv2.distanceTransformWithLabels(
        (~hole).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    edge = known & (dist <= EDGE_BAND)
    ey, ex = np.nonzero(edge)
    near = np.flatnonzero(hole)[lab[ey, ex] - 1]
    ny, nx = np.divmod(near, w)
    sy, sx = np.divmod(nnf.reshape(-1)[near], w)
    cy, cx = np.clip(ey + sy - ny, 0, h - 1), np.clip(ex + sx - nx, 0, w - 1)
    img = img.astype(np.float32)
    diff = np.zeros((h, w, 3), np.float32)
    diff[ey, ex] = img[ey, ex] - img[cy, cx]
    wts = edge.astype(np.float32)
    # Low-pass along the edge: texture differences average out, a colour step stays.
    on_edge = edge.astype(np.float32)
    diff = cv2.GaussianBlur(diff, (0, 0), EDGE_SMOOTH) * on_edge[..., None]
    wts = cv2.GaussianBlur(wts, (0, 0), EDGE_SMOOTH) * on_edge
    fix = push_pull(diff, wts, relax=8)
    # Only the seam is corrected: deeper in, the copy keeps its own colours (a membrane reaching the middle
    # would lay a veil of the edge's average mismatch over the whole fill).
    depth = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)
    fade = np.clip(1.0 - depth / EDGE_REACH, 0.0, 1.0).astype(np.float32)
    return np.asarray(fix * fade[..., None], np.float32)


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def enclosed(mask: np.ndarray, only: np.ndarray | None = None) -> np.ndarray:
    """bool: the holes of `mask`: pixels outside it that it encloses (their 4-connected part of the
    outside does not reach the array's edge). With `only` (bool), just the holes made of `only` pixels."""
    outside = (~np.asarray(mask, bool)).astype(np.uint8)
    if not outside.any():
        return np.zeros(outside.shape, bool)
    n, comp = cv2.connectedComponents(outside, connectivity=4)
    inner = np.ones(n, bool)
    inner[0] = False  # the mask itself
    inner[np.unique(np.concatenate([comp[0], comp[-1], comp[:, 0], comp[:, -1]]))] = False
    if only is not None:
        inner[np.unique(comp[~np.asarray(only, bool)])] = False
    return np.asarray(inner[comp], bool)


def match_scale(long_side: int) -> float:
    """The scale matches are computed at for an image with this long side."""
    return min(1.0, MATCH_LONG_SIDE / max(1, long_side))


def band_energy(pixels: np.ndarray, where: np.ndarray) -> float:
    """Mean squared band-pass (Gaussian sigma 1 minus sigma 2.5) of the grey image over `where`: fine detail."""
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(np.float32)
    band = cv2.GaussianBlur(grey, (0, 0), 1.0) - cv2.GaussianBlur(grey, (0, 0), 2.5)
    sel = band[np.asarray(where, bool)]
    return float(np.mean(sel * sel)) if sel.size else 0.0


def ring(mask: np.ndarray, width: float) -> np.ndarray:
    """The pixels outside `mask` within `width` px of it: a hole's surroundings."""
    dist = cv2.distanceTransform((~np.asarray(mask, bool)).astype(np.uint8), cv2.DIST_L2, 3)
    return (dist > 0) & (dist <= width)


Box = tuple[int, int, int, int]  # y0, y1, x0, x1 (half-open), like motion.BBox


def overlaps(a: Box, b: Box) -> bool:
    """True when two boxes share a pixel."""
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def changed_box(old: tuple[Box, np.ndarray] | None, new: tuple[Box, np.ndarray] | None) -> Box | None:
    """The box of the pixels in one of two masks (each given on its own box) but not in the other: where
    a hole gained or lost pixels, so only fills whose surroundings reach it are redone. None: no change."""
    given = [m for m in (old, new) if m is not None]
    if not given:
        return None
    uy0, ux0 = min(m[0][0] for m in given), min(m[0][2] for m in given)
    uy1, ux1 = max(m[0][1] for m in given), max(m[0][3] for m in given)
    diff = np.zeros((uy1 - uy0, ux1 - ux0), bool)
    for (y0, y1, x0, x1), mask in given:
        diff[y0 - uy0 : y1 - uy0, x0 - ux0 : x1 - ux0] ^= np.asarray(mask, bool)
    if not diff.any():
        return None
    y0, y1, x0, x1 = _bbox(diff)
    return y0 + uy0, y1 + uy0, x0 + ux0, x1 + ux0
