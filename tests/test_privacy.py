"""Privacy: the face warning before export, and exports that carry no EXIF, GPS or other metadata."""

from __future__ import annotations

import base64
import io
import json
import threading

import cv2
import numpy as np
import pytest
from conftest import make_project, textured_pixels
from PIL import Image, PngImagePlugin

from kling_preview.core import privacy
from kling_preview.core.errors import ImageLoadError
from kling_preview.core.images import decode_image, encode_png, load_image
from kling_preview.core.masks import STATIC
from kling_preview.core.project import Project
from kling_preview.core.spec.kling import export_bundle, export_image_bytes
from kling_preview.resources import sample_image_path


def draw_face(canvas: np.ndarray, cx: int, cy: int, size: int) -> None:
    """A drawn face (hair, skin oval, brows, eyes, nose shading, mouth) onto an RGB canvas, in place.

    Made from ellipses only; the cascade fires on it because it has the light/dark layout of a face.
    """
    s = size
    grey = np.zeros(canvas.shape[:2], np.uint8)
    layer = np.zeros(canvas.shape[:2], bool)

    def ellipse(center, axes, value):
        stamp = np.zeros_like(grey)
        cv2.ellipse(stamp, center, axes, 0, 0, 360, 255, -1)
        hit = stamp > 0
        grey[hit] = value
        layer[hit] = True

    ellipse((cx, cy - int(s * 0.08)), (int(s * 0.5), int(s * 0.66)), 30)  # hair
    ellipse((cx, cy), (int(s * 0.42), int(s * 0.58)), 200)  # skin
    ey, ex = cy - int(s * 0.12), int(s * 0.17)
    for side in (-1, 1):
        ellipse((cx + side * ex, ey - int(s * 0.1)), (int(s * 0.11), int(s * 0.03)), 60)  # brow
        ellipse((cx + side * ex, ey), (int(s * 0.09), int(s * 0.045)), 40)  # eye
    ellipse((cx, cy + int(s * 0.14)), (int(s * 0.07), int(s * 0.03)), 120)  # nose shadow
    ellipse((cx, cy + int(s * 0.3)), (int(s * 0.15), int(s * 0.04)), 70)  # mouth
    grey = cv2.GaussianBlur(grey, (0, 0), max(1.0, s / 60))
    soft = cv2.GaussianBlur(layer.astype(np.float32), (0, 0), max(1.0, s / 60))[..., None]
    tint = np.stack([grey, (grey * 0.85).astype(np.uint8), (grey * 0.75).astype(np.uint8)], axis=2)
    canvas[:] = (canvas * (1 - soft) + tint * soft).astype(np.uint8)


def _project(pixels: np.ndarray) -> Project:
    return Project(decode_image(encode_png(pixels), "still.png"))


def _contains(box, cx, cy) -> bool:
    x, y, w, h = box
    return x <= cx <= x + w and y <= cy <= y + h


# ----- faces ----------------------------------------------------------------------------------------
def test_the_cascade_ships_with_opencv():
    assert privacy.cascade_path() is not None and privacy.cascade_path().is_file()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic_texture_has_no_face(seed):
    assert privacy.find_faces(textured_pixels(640, 400, seed)) == []
    assert privacy.face_warning(make_project(640, 400, seed)) is None


def test_the_bundled_landscape_has_no_face():
    assert privacy.find_faces(load_image(sample_image_path()).pixels) == []


def test_a_drawn_face_is_found_where_it_is():
    pixels = textured_pixels(640, 480, seed=4) // 2 + 60
    draw_face(pixels, 400, 220, 180)
    faces = privacy.find_faces(pixels)
    assert len(faces) == 1
    assert _contains(faces[0], 400, 220)
    assert 100 <= faces[0][2] <= 300


def test_faces_in_a_large_photo_come_back_in_image_pixels(monkeypatch):
    pixels = np.full((3000, 4500, 3), 90, np.uint8)
    draw_face(pixels, 1200, 1400, 900)
    draw_face(pixels, 3400, 1500, 700)
    seen = []
    original = privacy._detect
    monkeypatch.setattr(privacy, "_detect", lambda grey: seen.append(grey.shape) or original(grey))
    faces = privacy.find_faces(pixels)
    assert seen == [(533, 800)]  # searched on a copy with an 800 px long side
    assert len(faces) == 2
    assert _contains(faces[0], 1200, 1400) and _contains(faces[1], 3400, 1500)  # largest first
    assert faces[0][2] > 600 and faces[1][2] > 450


def test_box_mapping_scales_back_and_clips_to_the_image(monkeypatch):
    monkeypatch.setattr(privacy, "_detect", lambda grey: [(10, 20, 30, 40), (780, 480, 100, 100)])
    faces = privacy.find_faces(np.zeros((1000, 1600, 3), np.uint8))  # downscaled by 2
    assert faces == [(20, 40, 60, 80), (1560, 960, 40, 40)]  # largest first; the second clipped at the edges


def test_small_images_are_not_upscaled_and_grey_or_rgba_input_works(monkeypatch):
    seen = []
    monkeypatch.setattr(privacy, "_detect", lambda grey: seen.append(grey.shape) or [])
    privacy.find_faces(np.zeros((300, 200, 3), np.uint8))
    privacy.find_faces(np.zeros((300, 200), np.uint8))
    privacy.find_faces(np.zeros((300, 200, 4), np.uint8))
    assert seen == [(300, 200)] * 3


def test_face_warning_names_the_count_and_the_terms():
    pixels = np.full((600, 900, 3), 80, np.uint8)
    draw_face(pixels, 250, 300, 220)
    draw_face(pixels, 650, 300, 220)
    message = privacy.face_warning(_project(pixels))
    assert message == (
        "The image seems to contain 2 face(s). Kling's terms forbid real people's faces without their consent."
    )


def test_missing_cascade_file_means_no_faces_not_a_crash(monkeypatch, tmp_path):
    monkeypatch.setattr(privacy, "_cascade", None)
    monkeypatch.setattr(privacy, "_cascade_loaded", False)
    monkeypatch.setattr(privacy, "cascade_path", lambda: tmp_path / "missing.xml")
    pixels = np.full((480, 640, 3), 80, np.uint8)
    draw_face(pixels, 320, 240, 200)
    assert privacy.find_faces(pixels) == []
    assert privacy.face_warning(_project(pixels)) is None


def test_detection_from_many_threads_at_once_is_consistent(monkeypatch):
    monkeypatch.setattr(privacy, "_cascade", None)
    monkeypatch.setattr(privacy, "_cascade_loaded", False)  # all threads race to load it
    pixels = np.full((480, 640, 3), 80, np.uint8)
    draw_face(pixels, 320, 240, 200)
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(privacy.find_faces(pixels))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and all(r == results[0] and len(r) == 1 for r in results)


# ----- metadata -------------------------------------------------------------------------------------
def _gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2024:05:01 10:00:00"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 29.0)
    gps[3], gps[4] = "E", (2.0, 17.0, 40.0)
    return exif


def _jpeg_with_gps(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    Image.fromarray(pixels).save(buf, "JPEG", quality=90, exif=_gps_exif(), xmp=xmp, comment=b"holiday")
    return buf.getvalue()


def test_metadata_report_finds_exif_gps_xmp_and_comments_in_a_jpeg(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(_jpeg_with_gps(textured_pixels(320, 240)))
    found = privacy.metadata_report(path)
    kinds = " | ".join(found)
    assert "EXIF" in kinds and "GPS" in kinds and "XMP" in kinds and "comment" in kinds


def test_metadata_report_finds_png_text_icc_and_exif(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "someone")
    info.add_itxt("Description", "naïve", zip=True)
    path = tmp_path / "a.png"
    Image.fromarray(textured_pixels(64, 48)).save(path, pnginfo=info, exif=_gps_exif(), icc_profile=b"\0" * 200)
    kinds = " | ".join(privacy.metadata_report(path))
    for expected in ("Author", "Description", "ICC", "EXIF", "GPS"):
        assert expected in kinds


def test_clean_files_report_nothing(tmp_path):
    (tmp_path / "a.png").write_bytes(encode_png(textured_pixels(64, 48)))
    assert privacy.metadata_report(tmp_path / "a.png") == []
    Image.fromarray(textured_pixels(64, 48)).save(tmp_path / "a.webp", lossless=True)
    assert privacy.metadata_report(tmp_path / "a.webp") == []


def test_metadata_report_of_a_non_image_is_an_image_load_error(tmp_path):
    (tmp_path / "x.jpg").write_bytes(b"\xff\xd8\x00garbage")
    with pytest.raises(ImageLoadError, match="x.jpg"):
        privacy.metadata_report(tmp_path / "x.jpg")
    with pytest.raises(ImageLoadError, match="nope.png"):
        privacy.metadata_report(tmp_path / "nope.png")


@pytest.mark.parametrize("rotated", [False, True])
def test_an_export_of_a_gps_tagged_photo_carries_no_metadata(tmp_path, rotated):
    pixels = textured_pixels(480, 360, seed=5)
    exif = _gps_exif()
    if rotated:
        exif[0x0112] = 6  # the pixels must be turned: the export is re-encoded, and clean too
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=90, exif=exif, comment=b"holiday")
    source = tmp_path / "photo.jpg"
    source.write_bytes(buf.getvalue())
    assert any("GPS" in m for m in privacy.metadata_report(source))

    project = Project(load_image(source))
    region = project.add_region("Sky")
    project.paint(region.label, [(120, 90), (200, 120)], 30)
    region.trajectory = [(120.0, 90.0), (220.0, 80.0)]
    project.paint(STATIC, [(300, 300)], 25)
    out = tmp_path / "bundle"
    export_bundle(project, out)

    images = sorted(p for p in out.iterdir() if p.suffix in (".png", ".jpg", ".jpeg"))
    assert {"static_mask.png", "dynamic_mask_1.png", "overlay.png"} <= {p.name for p in images}
    assert any(p.stem == "image" for p in images)
    for path in images:
        assert privacy.metadata_report(path) == [], path.name
    body = json.loads((out / "request.json").read_text())
    for field in (body["image"], body["static_mask"], body["dynamic_masks"][0]["mask"]):
        assert privacy.metadata_in_bytes(base64.b64decode(field)) == []
    data, _ = export_image_bytes(project.image)
    assert privacy.metadata_in_bytes(data) == []
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == project.size
