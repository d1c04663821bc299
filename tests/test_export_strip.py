"""The exported image holds the pixels' codec data only: hostile JPEGs, MPO pictures, PNG and WebP.

Each source carries its metadata as marked strings in every place a camera or an editor puts them
(EXIF and GPS, XMP, COM, JFXX thumbnails, APP segments between progressive scans, bytes after EOI);
the whole exported file and the Base64 in request.json are searched for every one of them.
"""

from __future__ import annotations

import base64
import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import textured_pixels
from PIL import Image, PngImagePlugin

from kling_preview.core.images import decode_image, load_image, strip_jpeg_metadata
from kling_preview.core.privacy import metadata_in_bytes
from kling_preview.core.project import Project
from kling_preview.core.spec.kling import export_bundle

SECRETS = (
    b"EXIF-SECRET-DESC",
    b"GPS-SECRET-AREA",
    b"XMP-SECRET-CITY",
    b"COM-SECRET-NOTE",
    b"THUMB-SECRET",
    b"BETWEEN-SCANS-SECRET",
    b"IPTC-SECRET",
    b"TRAILER-SECRET",
    b"SECOND-JPEG-SECRET",
)


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def _exif(description: bytes, gps_text: bytes) -> bytes:
    exif = Image.Exif()
    exif[0x010E] = description.decode()
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0), 0x1C: gps_text.decode()}  # GPSAreaInformation
    return exif.tobytes()


def _jpeg(pixels: np.ndarray, **options) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=90, **options)
    return buf.getvalue()


def hostile_jpeg() -> tuple[bytes, np.ndarray, int]:
    """A progressive JPEG with metadata everywhere, the pixels a decoder gives for it and its scan count."""
    pixels = textured_pixels(400, 320, seed=7)
    exif = _exif(b"EXIF-SECRET-DESC", b"GPS-SECRET-AREA")
    base = _jpeg(pixels, progressive=True, exif=exif, comment=b"COM-SECRET-NOTE")
    thumb = _jpeg(pixels[:16, :16], comment=b"THUMB-SECRET")
    extra = _segment(0xE0, b"JFXX\x00\x10" + thumb) + _segment(
        0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>XMP-SECRET-CITY</x:xmpmeta>"
    )
    # After SOI (and Pillow's JFIF APP0 and EXIF APP1): insert more segments before the first DQT.
    dqt = base.index(b"\xff\xdb")
    data = base[:dqt] + extra + base[dqt:]
    # Between the first and second progressive scans: a comment and a Photoshop/IPTC block.
    first_sos = data.index(b"\xff\xda")
    second_sos = data.index(b"\xff\xda", first_sos + 2)
    between = _segment(0xFE, b"BETWEEN-SCANS-SECRET") + _segment(0xED, b"Photoshop 3.0\x00IPTC-SECRET")
    data = data[:second_sos] + between + data[second_sos:]
    second = _jpeg(pixels[:32, :32], exif=_exif(b"SECOND-JPEG-SECRET", b"GPS-SECRET-AREA"))
    trailer = b"MotionPhoto_Data TRAILER-SECRET " + second + b" more text TRAILER-SECRET"
    return data + trailer, np.asarray(Image.open(io.BytesIO(base)).convert("RGB")), base.count(b"\xff\xda")


def _exported(tmp_path: Path, source: Path) -> tuple[bytes, bytes, str]:
    project = Project(load_image(source))
    out = tmp_path / "out"
    export_bundle(project, out, validate=False)
    body = json.loads((out / "request.json").read_text())
    names = [p.name for p in out.iterdir() if p.name.startswith("image.")]
    assert len(names) == 1
    return (out / names[0]).read_bytes(), base64.b64decode(body["image"]), names[0]


def _assert_clean(data: bytes) -> None:
    for secret in SECRETS:
        assert secret not in data, secret
    assert metadata_in_bytes(data) == []


def test_a_hostile_jpeg_is_exported_with_codec_data_only(tmp_path):
    data, pixels, _ = hostile_jpeg()
    for secret in SECRETS:  # the source really carries every one
        assert secret in data, secret
    source = tmp_path / "photo.jpg"
    source.write_bytes(data)
    file_bytes, b64_bytes, name = _exported(tmp_path, source)
    assert name == "image.jpg"  # kept as JPEG: lossless, no re-encoding
    assert file_bytes == b64_bytes
    _assert_clean(file_bytes)
    assert file_bytes.count(b"\xff\xd8") == 1 and file_bytes.endswith(b"\xff\xd9")
    exported = np.asarray(Image.open(io.BytesIO(file_bytes)).convert("RGB"))
    assert np.array_equal(exported, pixels)


def test_stripping_is_stable_and_keeps_every_scan():
    data, _, scans = hostile_jpeg()
    once = strip_jpeg_metadata(data)
    assert strip_jpeg_metadata(once) == once
    assert once.count(b"\xff\xda") == scans > 2


def test_a_cmyk_jpeg_keeps_its_adobe_segment():
    cmyk = Image.fromarray(textured_pixels(64, 48, seed=2)).convert("CMYK")
    buf = io.BytesIO()
    cmyk.save(buf, format="JPEG", quality=95)
    data = buf.getvalue()[:2] + _segment(0xFE, b"COM-SECRET-NOTE") + buf.getvalue()[2:] + b"TRAILER-SECRET"
    stripped = strip_jpeg_metadata(data)
    assert b"Adobe" in stripped and b"SECRET" not in stripped
    before, after = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(stripped))
    assert after.mode == "CMYK" and np.array_equal(np.asarray(before), np.asarray(after))


def _mpo(tmp_path: Path) -> tuple[Path, np.ndarray]:
    first = textured_pixels(400, 320, seed=3)
    second = textured_pixels(400, 320, seed=4)
    buf = io.BytesIO()
    Image.fromarray(first).save(
        buf,
        format="MPO",
        save_all=True,
        append_images=[Image.fromarray(second)],
        exif=_exif(b"EXIF-SECRET-DESC", b"GPS-SECRET-AREA"),
        quality=90,
    )
    path = tmp_path / "camera.jpg"
    path.write_bytes(buf.getvalue())
    with Image.open(path) as im:
        assert im.format == "MPO" and im.n_frames == 2
        im.seek(0)
        return path, np.asarray(im.convert("RGB"))


def test_an_mpo_opens_as_its_first_picture(tmp_path):
    path, first = _mpo(tmp_path)
    image = load_image(path)
    assert image.format == "JPEG"
    assert np.array_equal(image.pixels, first)
    assert any("first is used" in note for note in image.notes)


def test_an_mpo_is_exported_as_its_first_picture_only(tmp_path):
    path, first = _mpo(tmp_path)
    file_bytes, b64_bytes, name = _exported(tmp_path, path)
    assert name == "image.jpg" and file_bytes == b64_bytes
    _assert_clean(file_bytes)
    assert file_bytes.count(b"\xff\xd8") == 1 and b"MPF" not in file_bytes
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(file_bytes)).convert("RGB")), first)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_sources_export_without_their_metadata(tmp_path, fmt):
    pixels = textured_pixels(320, 320, seed=5)
    buf = io.BytesIO()
    exif = _exif(b"EXIF-SECRET-DESC", b"GPS-SECRET-AREA")
    xmp = b"<x:xmpmeta>XMP-SECRET-CITY</x:xmpmeta>"
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "COM-SECRET-NOTE")
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        Image.fromarray(pixels).save(buf, format="PNG", pnginfo=info, exif=exif)
    else:
        Image.fromarray(pixels).save(buf, format="WEBP", lossless=True, exif=exif, xmp=xmp)
    source = tmp_path / f"still.{fmt.lower()}"
    source.write_bytes(buf.getvalue() + b"TRAILER-SECRET")
    file_bytes, b64_bytes, _ = _exported(tmp_path, source)
    assert file_bytes == b64_bytes
    _assert_clean(file_bytes)
    assert np.array_equal(decode_image(file_bytes, "x").pixels, pixels)
