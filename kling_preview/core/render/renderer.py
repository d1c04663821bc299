"""The `Renderer`: makes the frames of a Scene and keeps per-region caches across updates.

Caching: `Renderer.update()` keeps every per-region cache whose key did not change, so editing one
region rebuilds that region only. Keys come from `project.mask_revision` (bumped on every mask edit),
the trajectory, the region's settings and the scene size.
"""

from __future__ import annotations

import math
import threading

import cv2
import numpy as np

from .. import camera, motion, object_layer
from ..masks import STATIC
from ..project import MotionKind
from ..trajectory import arc_length
from .kling import KlingLayer, _composite, _is_stuff, _kling_layer, _layer_key, _Plate
from .loop import FieldKind, _Fields
from .scene import CacheKey, RegionSpec, Scene
from .textures import RegionGeometry, _Textures

BBox = motion.BBox


class Renderer:
    """Makes frames of a Scene; keeps per-region caches across `update()`s.

    Use from one thread at a time (a lock guards against overlap); `snapshot()` may run concurrently
    in another thread because a Scene is immutable.
    """

    def __init__(self, scene: Scene | None = None):
        self._lock = threading.RLock()
        self.scene: Scene | None = None
        self.warnings: list[str] = []
        self._geoms: dict[int, RegionGeometry | None] = {}
        self._geom_keys: dict[int, CacheKey] = {}
        self._plate: _Plate | None = None
        self._fields: _Fields | None = None
        self._layers: list[tuple[RegionSpec, RegionGeometry, KlingLayer]] = []
        self._layer_cache: dict[int, KlingLayer] = {}
        self._textures = _Textures()
        self._static: tuple[CacheKey, BBox | None, np.ndarray | None] | None = None
        self._geometry_builds = 0
        self._plate_fills = 0
        if scene is not None:
            self.update(scene)

    # -- caches --------------------------------------------------------------------------------------
    def _geometry(self, scene: Scene, spec: RegionSpec) -> RegionGeometry | None:
        key = (scene.project_token, scene.source_token, scene.size, spec.label, spec.revision, spec.feather)
        if self._geom_keys.get(spec.label) == key:
            return self._geoms[spec.label]
        self._geometry_builds += 1
        bbox = motion.region_bbox(scene.labels, spec.label)
        geom = None
        if bbox is not None:
            # The composite's feather keeps in proportion to the image, like an object layer's: the user's
            # 8 px on a 2560 px photo left a hard seam where a flow's moving texture meets the still.
            radius = object_layer.feather_radius(spec.feather, max(scene.labels.shape))
            mask, alpha = motion.region_alpha(scene.labels, spec.label, bbox, radius)
            geom = RegionGeometry(key, bbox, mask, alpha)
        self._geoms[spec.label] = geom
        self._geom_keys[spec.label] = key
        return geom

    def cache_entry(self, label: int) -> object | None:
        """The cached object a region's frames are made from in the current mode (for inspection)."""
        with self._lock:
            if self._fields is not None and label in self._fields.entries:
                return self._fields.entries[label]
            return self._geoms.get(label)

    def cache_info(self) -> dict[str, int]:
        """How much work the caches have done so far: region geometries (mask, feather) computed,
        clean-plate inpaintings, loop/ambient region fields built, region textures grown."""
        with self._lock:
            return {
                "geometry_builds": self._geometry_builds,
                "plate_fills": self._plate_fills + (self._plate.fills if self._plate else 0),
                "field_builds": self._fields.builds if self._fields else 0,
                "texture_builds": self._textures.builds,
            }

    def update(self, scene: Scene) -> None:
        """Switch to `scene`, rebuilding only the caches whose keys changed."""
        with self._lock:
            self.scene = scene
            live = {r.label for r in scene.regions if r.visible}
            for lab in list(self._geoms):
                if lab not in live:
                    del self._geoms[lab]
                    self._geom_keys.pop(lab, None)
            warnings: list[str] = []
            layers: list[tuple[RegionSpec, RegionGeometry, KlingLayer]] = []
            wanted: dict[int, tuple[CacheKey, FieldKind, RegionSpec, RegionGeometry]] = {}
            holes: dict[int, tuple[CacheKey, BBox]] = {}
            for spec in scene.regions:
                if not spec.visible:
                    continue
                geom = self._geometry(scene, spec)
                if scene.mode == "ambient" or (scene.mode == "loop" and spec.kind == MotionKind.AMBIENT):
                    kind = FieldKind.AMBIENT
                    moves = spec.strength != 0
                else:
                    kind = FieldKind.FLOW
                    moves = motion.path_moves(spec.trajectory, spec.strength)
                    if len(spec.trajectory) < 2:
                        warnings.append(f"{spec.name} has no trajectory; it stays still")
                    elif arc_length(spec.trajectory) <= 0:
                        warnings.append(f"{spec.name} has a trajectory of zero length; it stays still")
                if geom is None:
                    if moves:
                        warnings.append(f"{spec.name} has no painted area; nothing moves")
                    continue
                if not moves:
                    continue
                if scene.mode == "kling" and not _is_stuff(spec):
                    layers.append((spec, geom, self._layer(scene, spec, geom)))
                    holes[spec.label] = (geom.key[:-1], geom.bbox)  # the feather does not change the hole
                else:
                    # Loop and ambient regions, and in kling mode stuff (water, sky): their texture flows
                    # along their own field, so no plate shows there and nothing is translated rigidly.
                    wanted[spec.label] = (scene.region_key(spec) + (scene.period, scene.quality), kind, spec, geom)
            if scene.mode == "kling":
                self._plate = self._plate or _Plate()
                self._plate.update(scene, holes)
            else:
                if self._plate is not None:
                    self._plate_fills += self._plate.fills
                self._plate = None
            self._fields = self._fields or _Fields()
            self._fields.update(scene, wanted, self._textures)
            self._layers = layers
            live_layers = {spec.label for spec, _, _ in layers}
            self._layer_cache = {k: v for k, v in self._layer_cache.items() if k in live_layers}
            self._textures.retain(live_layers | set(wanted))
            self._update_static(scene)
            self.warnings = warnings

    def _layer(self, scene: Scene, spec: RegionSpec, geom: RegionGeometry) -> KlingLayer:
        key = _layer_key(scene, spec, geom)
        cached = self._layer_cache.get(spec.label)
        if cached is not None and cached.key == key:
            return cached
        layer = _kling_layer(scene, spec, geom, key)
        self._layer_cache[spec.label] = layer
        return layer

    def _update_static(self, scene: Scene) -> None:
        key = (scene.project_token, scene.source_token, scene.size, scene.static_revision)
        if self._static is not None and self._static[0] == key:
            return
        bbox = motion.region_bbox(scene.labels, STATIC)
        mask = None
        if bbox is not None:
            y0, y1, x0, x1 = bbox
            mask = (scene.labels[y0:y1, x0:x1] == STATIC).astype(np.uint8)
        self._static = (key, bbox, mask)

    @property
    def loop_cycles(self) -> int:
        """Flow-map cycles per loop period in loop mode (1 otherwise): faster flows use shorter cycles."""
        with self._lock:
            return self._fields.cycles if self._fields is not None else 1

    # -- time ----------------------------------------------------------------------------------------
    def _require(self) -> Scene:
        if self.scene is None:
            raise RuntimeError("the renderer has no scene yet")
        return self.scene

    def frame_count(self, seconds: float | None = None, fps: float | None = None) -> int:
        """Frames in a clip of `seconds` at `fps` (the scene's by default); at least one."""
        scene = self._require()
        seconds = scene.seconds if seconds is None else seconds
        fps = scene.fps if fps is None else fps
        return max(1, int(round(seconds * fps)))

    def times(self) -> list[float]:
        """Frame times of the clip: kling runs from the first to the last trajectory point inclusive;
        loop and ambient stop one frame short of the period, so the clip repeats seamlessly."""
        scene = self._require()
        n = self.frame_count()
        if scene.mode == "kling":
            if n == 1:
                return [0.0]
            return [scene.seconds * i / (n - 1) for i in range(n)]
        return [scene.seconds * i / n for i in range(n)]

    # -- frames --------------------------------------------------------------------------------------
    def frame(self, t: float) -> np.ndarray:
        """The frame at time t (seconds): a new HxWx3 uint8 RGB array at the scene's size."""
        with self._lock:
            scene = self._require()
            if scene.mode == "kling":
                assert self._plate is not None and self._plate.image is not None and self._fields is not None
                out = self._plate.image.copy()
                if t > 0:  # the first frame is exactly the source
                    self._fields.draw(out, t, scene.seconds, kling=True)
                u = min(max(t / scene.seconds, 0.0), 1.0) if scene.seconds > 0 else 1.0
                offsets = [motion.kling_offset(spec.trajectory, u, spec.strength) for spec, _, _ in self._layers]
                for (spec, geom, _), (dx, dy) in zip(self._layers, offsets):
                    # The plate shows through gradually over the first feather-width of travel, so the
                    # first frame is exactly the source and the feathered edge never flashes.
                    reveal = math.hypot(dx, dy) / max(spec.feather, 1.0)
                    if reveal < 1.0:
                        y0, y1, x0, x1 = geom.bbox
                        mix = cv2.addWeighted(
                            scene.pixels[y0:y1, x0:x1], 1.0 - reveal, self._plate.image[y0:y1, x0:x1], reveal, 0.0
                        )
                        np.copyto(out[y0:y1, x0:x1], mix, where=geom.mask[..., None])
                for (_, _, layer), (dx, dy) in zip(self._layers, offsets):
                    _composite(out, layer, dx, dy)
                self._composite_static(out, scene)
            else:
                assert self._fields is not None
                out = self._fields.render(scene.pixels, t, scene.period)
            if scene.camera_axis is not None and scene.seconds > 0:
                u = min(max(t / scene.seconds, 0.0), 1.0)
                out = camera.apply(out, scene.camera_axis, scene.camera_value, u)
            return out

    def _composite_static(self, out: np.ndarray, scene: Scene) -> None:
        if self._static is None or self._static[1] is None:
            return
        y0, y1, x0, x1 = self._static[1]
        cv2.copyTo(scene.pixels[y0:y1, x0:x1], self._static[2], out[y0:y1, x0:x1])  # type: ignore[arg-type]
