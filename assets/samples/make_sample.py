"""Draws the bundled sample: a lake landscape made here from noise (no third-party photo), and its project.

Run `python assets/samples/make_sample.py` to rebuild `landscape.png` and `sample.klproj`. The output is
deterministic (fixed seeds), so rebuilding changes nothing unless this script changes.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.masks import STATIC
from kling_preview.core.project import MotionKind, Project
from kling_preview.core.projectfile import save_project

W, H = 1280, 720
HORIZON = 400  # the lake's far shore
HERE = Path(__file__).resolve().parent


def fractal_noise(h: int, w: int, rng: np.random.Generator, octaves: int = 6, base: int = 4) -> np.ndarray:
    """Value noise summed over octaves, normalised to 0..1."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = base * 2**o
        grid = rng.random((cells + 1, int(cells * w / h) + 1)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    out /= total
    return (out - out.min()) / (out.max() - out.min() + 1e-6)


def ridge_line(w: int, rng: np.random.Generator, octaves: int = 5, base: int = 3) -> np.ndarray:
    """A smooth 1-D noise profile (mountain ridges, the bank's edge), normalised to 0..1."""
    xs = np.linspace(0.0, 1.0, w)
    out = np.zeros(w)
    amp = 1.0
    for o in range(octaves):
        knots = base * 2**o + 1
        out += amp * np.interp(xs, np.linspace(0, 1, knots), rng.random(knots))
        amp *= 0.45
    return ((out - out.min()) / (out.max() - out.min() + 1e-9)).astype(np.float32)


def lerp(a, b, t):
    return np.asarray(a, np.float32) * (1 - t) + np.asarray(b, np.float32) * t


def draw_landscape() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The RGB image and the areas its project paints (sky, water, mountains, foreground)."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)

    # Sky: a warm-to-blue gradient with soft clouds.
    t = np.clip(yy / HORIZON, 0, 1)[..., None]
    sky = lerp((70, 120, 200), (250, 205, 170), t**1.6)
    clouds = fractal_noise(H, W, rng, octaves=6, base=3)
    stretch = cv2.resize(clouds, (W * 2, H))[:, W // 2 : W // 2 + W]  # wider, flatter clouds
    cover = np.clip((stretch - 0.48) * 3.2, 0, 1) * np.clip(1.2 - yy / HORIZON, 0, 1)
    shade = lerp((255, 250, 245), (200, 190, 200), np.clip(yy / HORIZON, 0, 1)[..., None])
    img = lerp(sky, shade, cover[..., None])

    # Mountains: two ridges of noise, the far one hazier.
    mountains = np.zeros((H, W), bool)
    for base_y, height, colour, seed in ((330, 150, (105, 120, 150), 1), (370, 110, (70, 85, 95), 2)):
        ridge_rng = np.random.default_rng(seed)
        ridge = ridge_line(W, ridge_rng, octaves=6, base=3)
        top = base_y - height * ridge
        inside = (yy >= top[None, :]) & (yy < HORIZON)
        tex = fractal_noise(H, W, ridge_rng, octaves=5, base=8)[..., None]
        img = np.where(inside[..., None], lerp(colour, np.array(colour) * 0.7, tex), img)
        mountains |= inside

    # Water: the sky and mountains mirrored, darkened, with horizontal ripples.
    water_rows = H - HORIZON
    mirror_src = img[HORIZON - 1 : HORIZON - 1 - water_rows : -1]  # the lake is lower than the sky is tall
    mirror = cv2.resize(mirror_src, (W, water_rows))
    ripple = fractal_noise(water_rows * 2, W // 3, rng, octaves=5, base=24)
    ripple = cv2.resize(ripple, (W, water_rows))
    shift = ((ripple - 0.5) * 10).astype(np.float32)
    map_x = (xx[HORIZON:] + shift).astype(np.float32)
    map_y = (yy[HORIZON:] - HORIZON + shift * 0.6).astype(np.float32)
    mirror = cv2.remap(mirror, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    depth = np.linspace(0, 1, water_rows, dtype=np.float32)[:, None, None]
    water = lerp(mirror * 0.8, (30, 60, 90), depth * 0.6) + (ripple[..., None] - 0.5) * 50
    img[HORIZON:] = water
    water_mask = np.zeros((H, W), bool)
    water_mask[HORIZON:] = True

    # Foreground: a grassy bank in the lower left and a tree on it.
    bank_top = 565 + 40 * ridge_line(W, rng, octaves=5, base=4) + 0.0005 * (xx[0] - 150) ** 2
    bank = yy >= bank_top[None, :]
    grass_tex = fractal_noise(H, W, rng, octaves=6, base=16)[..., None]
    img = np.where(bank[..., None], lerp((40, 70, 30), (95, 125, 50), grass_tex), img)
    trunk = (np.abs(xx - 250) < 9 + (yy - 380) * 0.02) & (yy > 380) & (yy < 600)
    crown = ((xx - 250) / 105) ** 2 + ((yy - 330) / 120) ** 2 < 1 + 0.35 * (fractal_noise(H, W, rng, 4, 6) - 0.5)
    leaves = fractal_noise(H, W, rng, octaves=6, base=20)[..., None]
    img = np.where(trunk[..., None], (60, 45, 35), img)
    img = np.where(crown[..., None], lerp((25, 60, 25), (80, 120, 45), leaves), img)
    foreground = bank | trunk | crown

    grain = rng.normal(0, 2.0, (H, W, 1)).astype(np.float32)
    pixels = np.clip(img + grain, 0, 255).astype(np.uint8)
    sky_mask = (yy < HORIZON) & ~mountains & ~foreground
    return pixels, {
        "sky": sky_mask,
        "water": water_mask & ~foreground,
        "still": mountains | foreground,
    }


def build_project(pixels: np.ndarray, areas: dict[str, np.ndarray]) -> Project:
    """Two regions (clouds drifting right, water flowing left) and the mountains and tree held static."""
    project = Project(decode_image(encode_png(pixels), "landscape.png"))
    erode = np.ones((9, 9), np.uint8)
    sky = cv2.erode(areas["sky"].astype(np.uint8), erode).astype(bool)
    water = cv2.erode(areas["water"].astype(np.uint8), erode).astype(bool)
    project.set_mask(STATIC, areas["still"])
    clouds = project.add_region("Clouds", kind=MotionKind.FLOW, strength=1.0, feather=16.0)
    project.set_mask(clouds.label, sky)
    clouds.trajectory = [(300.0, 150.0), (560.0, 140.0), (820.0, 160.0)]
    lake = project.add_region("Water", kind=MotionKind.FLOW, strength=0.8, feather=12.0)
    project.set_mask(lake.label, water)
    lake.trajectory = [(1150.0, 600.0), (980.0, 620.0), (800.0, 640.0)]
    project.clip.mode = "loop"
    project.clip.loop_seconds = 4.0
    project.clip.seconds = 5.0
    project.kling.prompt = "clouds drift slowly over a calm mountain lake, gentle ripples, golden hour"
    project.kling.negative_prompt = "people, text, watermark"
    return project


def main() -> None:
    pixels, areas = draw_landscape()
    (HERE / "landscape.png").write_bytes(encode_png(pixels))
    save_project(build_project(pixels, areas), HERE / "sample.klproj")
    print(f"wrote {HERE / 'landscape.png'} and {HERE / 'sample.klproj'}")


if __name__ == "__main__":
    main()
