"""Frame synthesis: an immutable `Scene` snapshot of a project (scene.py) and a `Renderer` that makes its
frames (renderer.py).

Modules, one idea each:
- scene: the snapshot, taken on the GUI thread and shared with the render thread without copying;
- textures: per-region geometry and the region textures every moving region samples;
- kling: kling mode, layers translated along their trajectories over a clean plate;
- loop: loop and ambient modes, textures flowing along dense fields (see motion.py for the fields);
- renderer: the caches and the frame for each mode; the static mask is composited last from the
  original and the camera move is applied on top.
"""

from .renderer import Renderer
from .scene import RegionSpec, Scene, fit_size, snapshot

__all__ = ["RegionSpec", "Renderer", "Scene", "fit_size", "snapshot"]
