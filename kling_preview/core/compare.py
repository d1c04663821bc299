"""Did the generated video follow the motion brush? Track each region's content and measure it against its arrow.

The video may have another size and frame count than the still, and may not start exactly on it, so each
region's content is first found in the video's first frame by its appearance in the still (template
matching), then followed with pyramidal Lucas-Kanade on good features inside it; when too few features
survive, the content is found again by its appearance near where it should be. All figures are in the
still's pixels. Frames are tracked at a reduced size (`WORK_SIDE`) so a 5 s 720p clip takes a few seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from .errors import InvalidError, UnreadableError
from .project import Project
from .spec.rules import region_ref
from .trajectory import arc_length

WORK_SIDE = 640  # long side, in pixels, of the frames the tracker sees
MAX_POINTS = 80  # features followed per region: enough for a robust median, few enough to be quick
MIN_POINTS = 8  # fewer surviving features than this: find the content again by its appearance
MATCH_FOUND = 0.45  # normalised correlation above which a template match is trusted
FB_ERROR = 1.0  # forward-backward disagreement (px) beyond which a tracked feature is dropped
LK_WINDOW, LK_LEVELS = (15, 15), 3  # pyramid levels reach motions of ~100 work pixels per frame
LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 10, 0.03)
Point = tuple[float, float]


@dataclass
class Clip:
    """The video as the tracker needs it: small grey frames, the first frame in colour at full size."""

    gray: list[np.ndarray]
    first_rgb: np.ndarray
    size: tuple[int, int]  # the video's own width, height


@dataclass
class RegionResult:
    """How one region's content moved, in the still's pixels."""

    ref: str
    trajectory: list[Point]
    tracked_path: list[Point] = field(default_factory=list)
    direction_cosine: float | None = None
    endpoint_error: float | None = None
    match_score: float = 0.0

    @property
    def verdict(self) -> str:
        """One line a person can act on."""
        if len(self.trajectory) < 2:
            return f"{self.ref}: no trajectory to compare"
        if self.direction_cosine is None:
            return f"{self.ref}: did not move (its trajectory is {arc_length(self.trajectory):.0f} px long)"
        cos, err = self.direction_cosine, self.endpoint_error if self.endpoint_error is not None else math.inf
        if cos >= 0.9 and err <= 0.35:
            what = "followed its trajectory"
        elif cos >= 0.7:
            what = "roughly followed its trajectory"
        elif cos <= -0.7:
            what = "moved against its trajectory"
        else:
            what = "moved another way than its trajectory"
        return f"{self.ref}: {what} (direction_cosine {cos:.2f}, endpoint_error {err:.2f})"


@dataclass
class Comparison:
    """The whole report: per region (in the project's order) and the static area's largest drift."""

    regions: list[RegionResult]
    static_motion_px: float | None
    frames: int
    video_size: tuple[int, int]
    still_size: tuple[int, int]
    first_rgb: np.ndarray

    def to_json(self) -> dict[str, object]:
        return {
            "frames": self.frames,
            "video_size": list(self.video_size),
            "still_size": list(self.still_size),
            "static_motion_px": _round(self.static_motion_px),
            "regions": [
                {
                    "region": r.ref,
                    "direction_cosine": _round(r.direction_cosine, 3),
                    "endpoint_error": _round(r.endpoint_error, 3),
                    "trajectory": [[round(x, 1), round(y, 1)] for x, y in r.trajectory],
                    "tracked_path": [[round(x, 1), round(y, 1)] for x, y in r.tracked_path],
                    "verdict": r.verdict,
                }
                for r in self.regions
            ],
        }


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


# ----- reading the video -------------------------------------------------------------------------
def read_clip(path: Path, work_side: int = WORK_SIDE) -> Clip:
    """Decode every frame as small greyscale (scaled by the decoder, which is cheaper than resizing after)."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise UnreadableError(f"{path}: not a video that can be read ({_first_line(exc)})") from None
    with container:
        if not container.streams.video:
            raise UnreadableError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        gray: list[np.ndarray] = []
        first_rgb: np.ndarray | None = None
        size = (0, 0)
        try:
            for frame in container.decode(stream):
                if first_rgb is None:
                    first_rgb = frame.to_ndarray(format="rgb24")
                    size = (frame.width, frame.height)
                    scale = min(1.0, work_side / max(size))
                    work = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
                gray.append(_small_gray(frame, work))
        except av.error.FFmpegError as exc:
            if len(gray) < 2:
                raise UnreadableError(f"{path}: the video cannot be decoded ({_first_line(exc)})") from None
    if first_rgb is None or len(gray) < 2:
        raise InvalidError(f"{path}: the video has fewer than 2 frames; there is no motion to compare")
    return Clip(gray, first_rgb, size)


def _small_gray(frame: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
    """The frame's luma at `size`: read straight from the Y plane when the video is YUV (nearly every one)."""
    luma: np.ndarray
    if frame.format.name.startswith(("yuv", "yuvj", "nv12")):
        plane = frame.planes[0]
        luma = np.frombuffer(memoryview(plane), np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]
    else:
        luma = frame.to_ndarray(format="gray")
    if (luma.shape[1], luma.shape[0]) == size:
        return np.ascontiguousarray(luma)
    return np.asarray(cv2.resize(luma, size, interpolation=cv2.INTER_AREA))


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


# ----- the comparison ----------------------------------------------------------------------------
def compare(project: Project, clip: Clip) -> Comparison:
    """Track each region and the static area of `project` through `clip`."""
    still_w, still_h = project.size
    work_h, work_w = clip.gray[0].shape
    scale = np.array([work_w / still_w, work_h / still_h])
    still = cv2.resize(cv2.cvtColor(project.image.pixels, cv2.COLOR_RGB2GRAY), (work_w, work_h),
                       interpolation=cv2.INTER_AREA)  # fmt: skip
    regions, contents, offsets = [], [], []
    for number, region in enumerate(project.regions, 1):
        result = RegionResult(region_ref(number, region.name), [(float(x), float(y)) for x, y in region.trajectory])
        regions.append(result)
        mask = _work_mask(project.mask(region.label), (work_w, work_h))
        if len(result.trajectory) >= 2 and mask.any():
            template, box = _appearance(still, mask)
            found, result.match_score = _locate(clip.gray[0], template, None)
            offset = np.array([found[0] - box[0], found[1] - box[1]], float)
            offset = offset if result.match_score >= MATCH_FOUND else np.zeros(2)
            contents.append(_Content(_shift(mask, offset), template))
            offsets.append((result, offset))
    static_mask = _work_mask(project.static_mask, (work_w, work_h))
    if static_mask.any():
        contents.append(_Content(static_mask, None))
    paths = _track(clip.gray, contents)
    for (result, offset), path in zip(offsets, paths):
        _measure(result, (path + offset) / scale)  # from where the still has the content, in still pixels
    static = None
    if static_mask.any():
        drift = paths[-1] / scale
        static = float(np.hypot(drift[:, 0], drift[:, 1]).max())
    return Comparison(regions, static, len(clip.gray), clip.size, (still_w, still_h), clip.first_rgb)


def _work_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    small = cv2.resize(mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA)
    return np.asarray(small >= 128)


def _measure(result: RegionResult, displacement: np.ndarray) -> None:
    """Fill in the tracked path, direction cosine and endpoint error from the content's displacement per frame."""
    start = np.array(result.trajectory[0])
    still_path = start + displacement
    result.tracked_path = [(float(x), float(y)) for x, y in still_path]
    moved = still_path[-1] - still_path[0]
    wanted = np.array(result.trajectory[-1]) - start
    if np.hypot(*moved) >= 0.5 and np.hypot(*wanted) > 1e-9:
        result.direction_cosine = float(np.dot(moved, wanted) / (np.hypot(*moved) * np.hypot(*wanted)))
    length = arc_length(result.trajectory)
    if length > 1e-9:
        result.endpoint_error = float(np.hypot(*(still_path[-1] - np.array(result.trajectory[-1]))) / length)


def _appearance(still: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The still's pixels under the region's bounding box, and that box (x, y, w, h), in work pixels."""
    x, y, w, h = cv2.boundingRect(mask.astype(np.uint8))
    return still[y : y + h, x : x + w], (x, y, w, h)


def _locate(frame: np.ndarray, template: np.ndarray, near: tuple[int, int] | None) -> tuple[tuple[int, int], float]:
    """Where `template` best matches `frame` (top-left) and how well; only around `near` when given."""
    th, tw = template.shape
    fh, fw = frame.shape
    x0, y0 = 0, 0
    search = frame
    if near is not None:
        reach = max(th, tw) // 2 + 16
        x0, y0 = max(0, near[0] - reach), max(0, near[1] - reach)
        search = frame[y0 : min(fh, near[1] + th + reach), x0 : min(fw, near[0] + tw + reach)]
    if search.shape[0] < th or search.shape[1] < tw or template.std() < 1e-6:
        return (near or (0, 0)), 0.0
    scores = cv2.matchTemplate(search, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, where = cv2.minMaxLoc(scores)
    return (where[0] + x0, where[1] + y0), float(best)


def _shift(mask: np.ndarray, offset: np.ndarray) -> np.ndarray:
    shift = np.array([[1, 0, offset[0]], [0, 1, offset[1]]], np.float32)
    moved = cv2.warpAffine(mask.astype(np.uint8), shift, (mask.shape[1], mask.shape[0]), flags=cv2.INTER_NEAREST)
    return np.asarray(moved > 0)


def _features(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Corners worth tracking inside `mask`, kept away from its edge (where content meets what is behind it)."""
    inner = cv2.erode(mask.astype(np.uint8) * 255, np.ones((7, 7), np.uint8))
    if not inner.any():
        inner = mask.astype(np.uint8) * 255
    found = cv2.goodFeaturesToTrack(frame, maxCorners=MAX_POINTS, qualityLevel=0.01, minDistance=5, mask=inner,
                                    blockSize=5)  # fmt: skip
    return np.empty((0, 1, 2), np.float32) if found is None else found.astype(np.float32)


class _Content:
    """One thing being followed: a region's content or the static area, with its features and position."""

    def __init__(self, mask: np.ndarray, template: np.ndarray | None) -> None:
        self.mask = mask  # where the content is in frame 0
        self.template = template  # its look in the still, for finding it again (regions only)
        self.origin = np.array(cv2.boundingRect(mask.astype(np.uint8))[:2], float)
        self.position = np.zeros(2)
        self.path = [self.position.copy()]
        self.points = np.empty((0, 1, 2), np.float32)
        self.seeded = 1

    def reseed(self, frame: np.ndarray) -> None:
        """New features where the content is now; a region is first found again by its appearance."""
        if self.template is not None:
            guess = self.origin + self.position
            where, score = _locate(frame, self.template, (int(round(guess[0])), int(round(guess[1]))))
            if score >= MATCH_FOUND:
                self.position = np.array(where, float) - self.origin
        self.points = _features(frame, _shift(self.mask, self.position))
        self.seeded = max(len(self.points), 1)


def _track(frames: list[np.ndarray], contents: list[_Content]) -> list[np.ndarray]:
    """Each content's position over the clip (frame 0 at `(0, 0)`), as the median motion of its features.

    All features go through one Lucas-Kanade call per frame pair, so the image pyramids are built once.
    """
    for content in contents:
        content.points = _features(frames[0], content.mask)
        content.seeded = max(len(content.points), 1)
    for prev, frame in zip(frames, frames[1:]):
        counts = [len(c.points) for c in contents]
        if sum(counts):
            points = np.concatenate([c.points for c in contents])
            ahead, ok, _ = _flow(prev, frame, points)
            back, ok_back, _ = _flow(frame, prev, np.asarray(ahead))
            agree = np.linalg.norm((back - points)[:, 0], axis=1) < FB_ERROR
            good = (ok.ravel() == 1) & (ok_back.ravel() == 1) & agree
            bounds = np.cumsum([0, *counts])
            for content, lo, hi in zip(contents, bounds, bounds[1:]):
                keep = good[lo:hi]
                if keep.any():
                    content.position = content.position + np.median((ahead[lo:hi] - points[lo:hi])[keep, 0], axis=0)
                content.points = ahead[lo:hi][keep]
        for content in contents:
            if len(content.points) < min(MIN_POINTS, content.seeded):
                content.reseed(frame)
            content.path.append(content.position.copy())
    return [np.array(c.path) for c in contents]


def _flow(prev: np.ndarray, frame: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ahead, ok, err = cv2.calcOpticalFlowPyrLK(
        prev, frame, points, points.copy(), winSize=LK_WINDOW, maxLevel=LK_LEVELS, criteria=LK_CRITERIA
    )
    return np.asarray(ahead), np.asarray(ok), np.asarray(err)
