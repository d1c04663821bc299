"""Draw the Kling Preview app icon: a framed photo, a motion-brush stroke and a trajectory arrow.

Drawn from code (numpy + Pillow, no third-party art) so the icon can be regenerated and changed in review.
Writes `assets/icon.png` (512 px), `assets/icon.ico` (16..256 px) and `assets/icon.icns` (when Pillow can
write ICNS). Small sizes get a simplified drawing, because a landscape is mush at 16 px.

    python packaging/make_icon.py [--out-dir assets]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
DESIGN = 512  # all coordinates below are in a 512 x 512 design space
SUPERSAMPLE = 4  # drawn 4x larger, then reduced with Lanczos: Pillow's primitives are not antialiased
ICO_SIZES = [16, 24, 32, 48, 64, 128, 256]
SIMPLE_BELOW = 48  # sizes under this get the simplified drawing

BG_TOP = (74, 58, 190)
BG_BOTTOM = (28, 30, 78)
BRUSH = (255, 99, 71)  # the first region colour of the app's palette
ARROW = (255, 255, 255)
OUTLINE = (20, 22, 52)


def _vertical_gradient(w: int, h: int, top: Sequence[int], bottom: Sequence[int]) -> Image.Image:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    rows = (1 - t) * np.asarray(top, np.float32) + t * np.asarray(bottom, np.float32)
    return Image.fromarray(np.repeat(rows, w, axis=1).round().astype(np.uint8), "RGB")


def _bezier(p0, p1, p2, p3, n: int = 64) -> list[tuple[float, float]]:
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
    return [(float(x), float(y)) for x, y in pts]


def _scaled(points: Sequence[tuple[float, float]], k: float) -> list[tuple[float, float]]:
    return [(x * k, y * k) for x, y in points]


def _stroke(draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], width: float, fill) -> None:
    """A round-capped polyline drawn as overlapping discs (Pillow's wide lines show seams at joints)."""
    arr = np.asarray(pts, dtype=np.float64)
    seg = np.hypot(*np.diff(arr, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    steps = np.arange(0.0, cum[-1] + 1e-9, max(1.0, width / 10))
    r = width / 2
    for x, y in zip(np.interp(steps, cum, arr[:, 0]), np.interp(steps, cum, arr[:, 1])):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _arrow_head(tip: tuple[float, float], prev: tuple[float, float], length: float, spread: float):
    ang = math.atan2(tip[1] - prev[1], tip[0] - prev[0])
    left = (tip[0] - length * math.cos(ang - spread), tip[1] - length * math.sin(ang - spread))
    right = (tip[0] - length * math.cos(ang + spread), tip[1] - length * math.sin(ang + spread))
    return [tip, left, right]


def draw_icon(size: int, simple: bool | None = None) -> Image.Image:
    """The icon as an RGBA image of `size` x `size` pixels."""
    if simple is None:
        simple = size < SIMPLE_BELOW
    s = size * SUPERSAMPLE
    k = s / DESIGN
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))

    # Rounded-square tile with a vertical gradient.
    margin, radius = (8, 84) if simple else (24, 96)
    tile_mask = Image.new("L", (s, s), 0)
    ImageDraw.Draw(tile_mask).rounded_rectangle(
        (margin * k, margin * k, (DESIGN - margin) * k, (DESIGN - margin) * k), radius=radius * k, fill=255
    )
    img.paste(_vertical_gradient(s, s, BG_TOP, BG_BOTTOM), (0, 0), tile_mask)

    draw = ImageDraw.Draw(img)
    # The photo: a white frame around a small landscape.
    fx0, fy0, fx1, fy1 = (70, 118, 442, 394) if simple else (92, 128, 420, 380)
    border = 30 if simple else 16
    draw.rounded_rectangle((fx0 * k, fy0 * k, fx1 * k, fy1 * k), radius=18 * k, fill=(250, 250, 252))
    ix0, iy0, ix1, iy1 = fx0 + border, fy0 + border, fx1 - border, fy1 - border
    photo_w, photo_h = round((ix1 - ix0) * k), round((iy1 - iy0) * k)
    photo = _vertical_gradient(photo_w, photo_h, (120, 190, 245), (214, 236, 250)).convert("RGBA")
    pd = ImageDraw.Draw(photo)

    def local(points):
        return [((x - ix0) * k, (y - iy0) * k) for x, y in points]

    if not simple:
        pd.ellipse(local([(330, 162), (372, 204)]), fill=(255, 206, 84))
    pd.polygon(local([(ix0 - 10, 330), (170, 218), (240, 300), (290, 236), (ix1 + 10, 330)]), fill=(72, 112, 156))
    pd.polygon(
        local([(ix0 - 10, iy1 + 10), (ix0 - 10, 300), (200, 268), (ix1 + 10, 306), (ix1 + 10, iy1 + 10)]),
        fill=(58, 150, 104),
    )
    img.paste(photo, (round(ix0 * k), round(iy0 * k)))

    # The motion brush: a translucent stroke painted over the hills.
    brush_layer = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    bd = ImageDraw.Draw(brush_layer)
    if simple:
        brush_path = _bezier(np.array([110.0, 300]), np.array([170, 230]), np.array([230, 340]), np.array([300, 270]))
        brush_w = 78
    else:
        brush_path = _bezier(np.array([132.0, 318]), np.array([180, 262]), np.array([228, 350]), np.array([286, 290]))
        brush_w = 54
    _stroke(bd, _scaled(brush_path, k), brush_w * k, BRUSH + (255,))
    brush_layer.putalpha(brush_layer.getchannel("A").point(lambda a: a * 215 // 255))
    img = Image.alpha_composite(img, brush_layer)
    draw = ImageDraw.Draw(img)

    # The trajectory: a curved arrow leaving the stroke towards the top right, with its control points.
    if simple:
        path = _bezier(np.array([250.0, 290]), np.array([300, 220]), np.array([350, 190]), np.array([430, 120]))
        line_w, head_len = 40, 120
    else:
        path = _bezier(np.array([262.0, 300]), np.array([350, 292]), np.array([320, 170]), np.array([432, 110]))
        line_w, head_len = 20, 78
    shaft = path[:-6]  # stop short of the tip so the head's point stays sharp
    head = _arrow_head(path[-1], path[-10], head_len, math.radians(28))
    _stroke(draw, _scaled(shaft, k), (line_w + 12) * k, OUTLINE)
    outline = _scaled(head, k)
    _stroke(draw, outline + outline[:1], 12 * k, OUTLINE)
    draw.polygon(outline, fill=OUTLINE)
    _stroke(draw, _scaled(shaft, k), line_w * k, ARROW)
    draw.polygon(_scaled(head, k), fill=ARROW)
    if not simple:
        for x, y in (path[0], path[21], path[42]):
            r = 15
            draw.ellipse(((x - r - 5) * k, (y - r - 5) * k, (x + r + 5) * k, (y + r + 5) * k), fill=OUTLINE)
            draw.ellipse(((x - r) * k, (y - r) * k, (x + r) * k, (y + r) * k), fill=BRUSH)
            draw.ellipse(((x - 6) * k, (y - 6) * k, (x + 6) * k, (y + 6) * k), fill=ARROW)

    return img.resize((size, size), Image.Resampling.LANCZOS)


def write_icons(out_dir: Path) -> list[Path]:
    """Write icon.png, icon.ico and (if supported) icon.icns into `out_dir`; returns the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    big = draw_icon(512)
    png = out_dir / "icon.png"
    big.save(png, optimize=True)
    written.append(png)

    # ICO: Pillow writes each requested size by resizing the first image, so pass hand-drawn frames.
    frames = {n: draw_icon(n) for n in ICO_SIZES}
    ico = out_dir / "icon.ico"
    frames[256].save(
        ico, format="ICO", sizes=[(n, n) for n in ICO_SIZES], append_images=[frames[n] for n in ICO_SIZES if n != 256]
    )
    written.append(ico)

    Image.init()
    if "ICNS" in Image.SAVE:
        icns = out_dir / "icon.icns"
        big1024 = draw_icon(1024)
        big1024.save(icns, format="ICNS", append_images=[draw_icon(n) for n in (16, 32, 64, 128, 256, 512)])
        written.append(icns)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "assets", help="folder to write into (default: assets/)")
    args = parser.parse_args(argv)
    for path in write_icons(args.out_dir):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
