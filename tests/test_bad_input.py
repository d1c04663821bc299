"""A catalogue of bad inputs, each through the command line: a stable exit code, one clear line per problem
naming the file, never a traceback, and nothing written to the output path.

Inputs that are unusual but fine (16-bit, CMYK, palette, alpha, EXIF-rotated, animated, unicode and long
paths) must load, with a note where something was changed.
"""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import make_project, textured_pixels
from PIL import Image

from kling_preview.cli import main
from kling_preview.core.errors import SpecError
from kling_preview.core.masks import STATIC
from kling_preview.core.project import Project
from kling_preview.core.projectfile import save_project
from kling_preview.core.spec.kling import export_bundle
from kling_preview.core.spec.tracks import read_tracks

W, H = 400, 300
PREFIXES = ("error: ", "warning: ", "note: ", "hint: ")


# ----- building blocks -------------------------------------------------------------------------------
def _pixels() -> np.ndarray:
    return textured_pixels(W, H, seed=21)


def _png_bytes(pixels: np.ndarray | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_pixels() if pixels is None else pixels).save(buf, "PNG")
    return buf.getvalue()


def _jpeg_bytes(**kwargs) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_pixels()).save(buf, "JPEG", quality=90, **kwargs)
    return buf.getvalue()


def _project(regions: int = 1) -> Project:
    p = make_project(W, H, seed=4)
    for i in range(regions):
        r = p.add_region()
        x = 30 + 60 * i
        p.paint(r.label, [(x, 60)], 20)
        r.trajectory = [(float(x), 60.0), (float(x), 120.0)]
    p.paint(STATIC, [(350, 260)], 15)
    return p


def _klproj_members(project: Project | None = None) -> dict[str, bytes]:
    """The members of a real project file, to damage one by one."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "base.klproj"
        save_project(project or _project(), path)
        with zipfile.ZipFile(path) as zf:
            return {n: zf.read(n) for n in zf.namelist()}


def _write_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _klproj_with(path: Path, change: Callable[[dict], object] | None = None, text: str | None = None) -> Path:
    """A real project file whose project.json is edited by `change` (or replaced by `text`)."""
    members = _klproj_members()
    if text is None:
        doc = json.loads(members["project.json"])
        change(doc)
        text = json.dumps(doc)
    members["project.json"] = text.encode("utf-8")
    return _write_zip(path, members)


def _request() -> dict:
    """A valid request body (one region, static mask)."""
    from kling_preview.core.spec.kling import build_request

    return build_request(_project())


def _request_file(path: Path, body: object = None, text: str | None = None) -> Path:
    path.write_text(text if text is not None else json.dumps(body), encoding="utf-8")
    return path


def _mask_b64(size: tuple[int, int], box: tuple[int, int, int, int]) -> str:
    arr = np.zeros((size[1], size[0]), np.uint8)
    x0, y0, x1, y1 = box
    arr[y0:y1, x0:x1] = 255
    buf = io.BytesIO()
    Image.fromarray(arr, "L").save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _region(box, n: int = 2) -> dict:
    points = [{"x": box[0] + 5 + i, "y": H - box[1] - 5} for i in range(n)]
    return {"mask": _mask_b64((W, H), box), "trajectories": points}


# ----- image builders --------------------------------------------------------------------------------
def img_zero(tmp: Path) -> Path:
    (tmp / "empty.png").write_bytes(b"")
    return tmp / "empty.png"


def img_text(tmp: Path) -> Path:
    (tmp / "notes.png").write_text("this is not a picture\n")
    return tmp / "notes.png"


def img_truncated_png(tmp: Path) -> Path:
    data = _png_bytes()
    (tmp / "half.png").write_bytes(data[: len(data) // 2])
    return tmp / "half.png"


def img_truncated_jpeg(tmp: Path) -> Path:
    data = _jpeg_bytes()
    (tmp / "half.jpg").write_bytes(data[: len(data) // 2])
    return tmp / "half.jpg"


def img_corrupt_png(tmp: Path) -> Path:
    data = bytearray(_png_bytes())
    for i in range(len(data) // 2, len(data) // 2 + 64):
        data[i] ^= 0x5A
    (tmp / "corrupt.png").write_bytes(bytes(data))
    return tmp / "corrupt.png"


def img_bomb_ihdr(tmp: Path) -> Path:
    """A small PNG whose header claims 30000x30000 (900 MP): refused before any pixel is decoded."""
    data = bytearray(_png_bytes())
    data[16:24] = struct.pack(">II", 30_000, 30_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    (tmp / "bomb.png").write_bytes(bytes(data))
    return tmp / "bomb.png"


def img_bomb_1bit(tmp: Path) -> Path:
    """A real 12000x10000 1-bit PNG: 120 MP, a few kilobytes on disk."""
    Image.new("1", (12_000, 10_000)).save(tmp / "bomb1.png")
    return tmp / "bomb1.png"


def img_ppm(tmp: Path) -> Path:
    Image.fromarray(_pixels()).save(tmp / "photo.ppm")
    return tmp / "photo.ppm"


def img_folder(tmp: Path) -> Path:
    (tmp / "folder.png").mkdir()
    return tmp / "folder.png"


def img_missing(tmp: Path) -> Path:
    return tmp / "nowhere.png"


def img_tiny(tmp: Path) -> Path:
    Image.fromarray(_pixels()[:40, :50]).save(tmp / "tiny.png")
    return tmp / "tiny.png"


def img_wide(tmp: Path) -> Path:
    Image.fromarray(np.zeros((320, 2000, 3), np.uint8)).save(tmp / "wide.png")
    return tmp / "wide.png"


def img_unicode_empty(tmp: Path) -> Path:
    (tmp / "пусто 🌄.png").write_bytes(b"")
    return tmp / "пусто 🌄.png"


def img_name_too_long(tmp: Path) -> Path:
    return tmp / ("n" * 300 + ".png")


# fine, with notes
def img_16bit(tmp: Path) -> Path:
    arr = (textured_pixels(W, H, 3)[:, :, 0].astype(np.uint16) * 257).astype(np.uint16)
    Image.fromarray(arr).save(tmp / "deep.png")
    return tmp / "deep.png"


def img_cmyk(tmp: Path) -> Path:
    Image.fromarray(_pixels()).convert("CMYK").save(tmp / "print.jpg", quality=90)
    return tmp / "print.jpg"


def img_palette(tmp: Path) -> Path:
    """16 palette entries, entry 0 transparent (and used by a sixteenth of the pixels)."""
    im = Image.fromarray((_pixels()[:, :, 0] % 16).astype(np.uint8), "P")
    im.putpalette(textured_pixels(16, 1, 5).reshape(-1).tolist())
    im.save(tmp / "palette.png", transparency=0)
    return tmp / "palette.png"


def img_alpha(tmp: Path) -> Path:
    rgba = np.dstack([_pixels(), np.linspace(0, 255, W, dtype=np.uint8)[None, :].repeat(H, 0)])
    Image.fromarray(rgba, "RGBA").save(tmp / "alpha.png")
    return tmp / "alpha.png"


def img_rotated(tmp: Path) -> Path:
    exif = Image.Exif()
    exif[0x0112] = 6
    (tmp / "rotated.jpg").write_bytes(_jpeg_bytes(exif=exif))
    return tmp / "rotated.jpg"


def _frames() -> list[Image.Image]:
    return [Image.fromarray(np.roll(_pixels(), 40 * i, axis=1)) for i in range(3)]


def img_gif(tmp: Path) -> Path:
    first, *rest = _frames()
    first.save(tmp / "anim.gif", save_all=True, append_images=rest, duration=100, loop=0)
    return tmp / "anim.gif"


def img_webp(tmp: Path) -> Path:
    first, *rest = _frames()
    first.save(tmp / "anim.webp", save_all=True, append_images=rest, duration=100, loop=0, lossless=True)
    return tmp / "anim.webp"


def img_unicode(tmp: Path) -> Path:
    path = tmp / "фото ünï 🌄 写真.png"
    path.write_bytes(_png_bytes())
    return path


def img_long_path(tmp: Path) -> Path:
    folder = tmp.joinpath(*["d" * 200] * 8)
    folder.mkdir(parents=True)
    path = folder / ("n" * 240 + ".png")
    path.write_bytes(_png_bytes())
    return path


# ----- .klproj builders ------------------------------------------------------------------------------
def kp_zero(tmp: Path) -> Path:
    (tmp / "zero.klproj").write_bytes(b"")
    return tmp / "zero.klproj"


def kp_not_zip(tmp: Path) -> Path:
    (tmp / "plain.klproj").write_bytes(_png_bytes())
    return tmp / "plain.klproj"


def kp_truncated(tmp: Path) -> Path:
    path = tmp / "cut.klproj"
    save_project(_project(), path)
    path.write_bytes(path.read_bytes()[:-300])
    return path


def kp_no_json(tmp: Path) -> Path:
    members = _klproj_members()
    del members["project.json"]
    return _write_zip(tmp / "nojson.klproj", members)


def kp_bad_json(tmp: Path) -> Path:
    return _klproj_with(tmp / "badjson.klproj", text='{"format": "kling-preview-project", "version": 1,')


def kp_newer(tmp: Path) -> Path:
    return _klproj_with(tmp / "newer.klproj", lambda d: d.update(version=99))


def kp_deep(tmp: Path) -> Path:
    return _klproj_with(tmp / "deep.klproj", text="[" * 100_000 + "]" * 100_000)


def kp_huge_number(tmp: Path) -> Path:
    text = json.dumps(json.loads(_klproj_members()["project.json"]))
    return _klproj_with(tmp / "huge.klproj", text=text.replace('"cfg_scale": 0.5', '"cfg_scale": 1e400'))


def kp_nan(tmp: Path) -> Path:
    text = json.dumps(json.loads(_klproj_members()["project.json"]))
    return _klproj_with(tmp / "nan.klproj", text=text.replace('"strength": 1.0', '"strength": NaN'))


def kp_wrong_types(tmp: Path) -> Path:
    return _klproj_with(tmp / "types.klproj", lambda d: d.update(regions={"a": 1}))


def kp_huge_label(tmp: Path) -> Path:
    return _klproj_with(tmp / "label.klproj", lambda d: d["regions"][0].update(label=10**400))


def kp_seventh(tmp: Path) -> Path:
    members = _klproj_members(_project(regions=6))
    doc = json.loads(members["project.json"])
    doc["regions"].append(dict(doc["regions"][-1], label=7, mask="masks/region-7.png"))
    seventh = np.zeros((H, W), np.uint8)
    seventh[200:230, 200:230] = 255
    members["masks/region-7.png"] = _png_bytes(seventh)
    members["project.json"] = json.dumps(doc).encode()
    return _write_zip(tmp / "seven.klproj", members)


def kp_mask_size(tmp: Path) -> Path:
    members = _klproj_members()
    members["masks/region-1.png"] = _png_bytes(np.zeros((H // 2, W // 2), np.uint8))
    return _write_zip(tmp / "masksize.klproj", members)


def kp_bad_image(tmp: Path) -> Path:
    members = _klproj_members()
    members["image.png"] = members["image.png"][:100]
    return _write_zip(tmp / "badimage.klproj", members)


def kp_missing_mask(tmp: Path) -> Path:
    members = _klproj_members()
    del members["masks/region-1.png"]
    return _write_zip(tmp / "nomask.klproj", members)


def kp_zero_fps(tmp: Path) -> Path:
    return _klproj_with(tmp / "fps.klproj", lambda d: d["clip"].update(fps=0))


# ----- request.json builders -------------------------------------------------------------------------
def rq_zero(tmp: Path) -> Path:
    return _request_file(tmp / "request.json", text="")


def rq_not_json(tmp: Path) -> Path:
    return _request_file(tmp / "request.json", text='{"model_name": "kling-v1", ')


def rq_not_utf8(tmp: Path) -> Path:
    (tmp / "request.json").write_bytes(b'{"prompt": "\xff\xfe"}')
    return tmp / "request.json"


def rq_array(tmp: Path) -> Path:
    return _request_file(tmp / "request.json", [1, 2, 3])


def rq_nan(tmp: Path) -> Path:
    text = json.dumps(_request()).replace('"cfg_scale": 0.5', '"cfg_scale": NaN')
    return _request_file(tmp / "request.json", text=text)


def rq_deep(tmp: Path) -> Path:
    return _request_file(tmp / "request.json", text='{"extra": ' + "[" * 100_000 + "]" * 100_000 + "}")


def rq_huge_number(tmp: Path) -> Path:
    text = json.dumps(_request()).replace('"cfg_scale": 0.5', '"cfg_scale": 1e400')
    return _request_file(tmp / "request.json", text=text)


def rq_image_type(tmp: Path) -> Path:
    return _request_file(tmp / "request.json", dict(_request(), image=12345))


def rq_no_image(tmp: Path) -> Path:
    body = _request()
    del body["image"]
    return _request_file(tmp / "request.json", body)


def rq_bad_base64(tmp: Path) -> Path:
    return _request_file(tmp / "request.json", dict(_request(), image="!!not base64!!"))


def rq_seven(tmp: Path) -> Path:
    body = _request()
    body.pop("static_mask")
    body["dynamic_masks"] = [_region((10 + 50 * i, 10, 50 + 50 * i, 50)) for i in range(7)]
    return _request_file(tmp / "request.json", body)


def _points(n: int) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        body = _request()
        body["dynamic_masks"] = [_region((20, 20, 120, 120), n)]
        return _request_file(tmp / "request.json", body)

    build.__name__ = f"rq_{n}_points"
    return build


def rq_point_type(tmp: Path) -> Path:
    body = _request()
    body["dynamic_masks"][0]["trajectories"] = [{"x": "left", "y": 3}, {"x": 4, "y": 5}]
    return _request_file(tmp / "request.json", body)


def rq_huge_int(tmp: Path) -> Path:
    body = _request()
    body["dynamic_masks"][0]["trajectories"] = [{"x": 1, "y": 2}, {"x": 7, "y": 8}]
    text = json.dumps(body).replace('"x": 7', '"x": 1' + "0" * 400)
    return _request_file(tmp / "request.json", text=text)


def rq_mask_size(tmp: Path) -> Path:
    body = _request()
    body["dynamic_masks"][0]["mask"] = _mask_b64((W // 2, H // 2), (10, 10, 40, 40))
    return _request_file(tmp / "request.json", body)


def rq_masks_type(tmp: Path) -> Path:
    return _request_file(tmp / "request.json", dict(_request(), dynamic_masks="everything"))


def rq_folder_without_request(tmp: Path) -> Path:
    folder = tmp / "bundle"
    export_bundle(_project(), folder)
    (folder / "request.json").unlink()
    return folder


def rq_prompt_type(tmp: Path) -> Path:
    return _request_file(tmp / "request.json", dict(_request(), prompt=["a", "list"]))


def good_klproj(tmp: Path) -> Path:
    path = tmp / "good.klproj"
    save_project(_project(), path)
    return path


# ----- the catalogue ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bad:
    build: Callable[[Path], Path]
    command: str
    code: int
    errors: int = 1  # error lines expected (one per problem)
    out: str = "out"  # -o name (a folder for export, a file otherwise)
    names: str | None = None  # what each error line must name; default the input's file name


CASES = {
    # images
    "image-zero-bytes": Bad(img_zero, "export", 2),
    "image-text-file": Bad(img_text, "export", 2),
    "image-truncated-png": Bad(img_truncated_png, "export", 2),
    "image-truncated-jpeg": Bad(img_truncated_jpeg, "export", 2),
    "image-corrupt-png": Bad(img_corrupt_png, "render", 2, out="out.gif"),
    "image-bomb-patched-ihdr": Bad(img_bomb_ihdr, "export", 2),
    "image-bomb-1-bit": Bad(img_bomb_1bit, "render", 2, out="out.mp4"),
    "image-unsupported-ppm": Bad(img_ppm, "export", 2),
    "image-folder-named-png": Bad(img_folder, "export", 2),
    "image-missing": Bad(img_missing, "render", 2, out="frames"),
    "image-unicode-name-empty": Bad(img_unicode_empty, "export", 2),
    "image-name-too-long": Bad(img_name_too_long, "validate", 2),
    "image-too-small": Bad(img_tiny, "export", 1),
    "image-extreme-aspect": Bad(img_wide, "validate", 1, errors=1),
    # project files
    "klproj-zero-bytes": Bad(kp_zero, "validate", 2),
    "klproj-not-a-zip": Bad(kp_not_zip, "export", 2),
    "klproj-truncated": Bad(kp_truncated, "export", 2),
    "klproj-without-project-json": Bad(kp_no_json, "render", 2, out="out.gif"),
    "klproj-partial-json": Bad(kp_bad_json, "validate", 2),
    "klproj-newer-version": Bad(kp_newer, "export", 2),
    "klproj-deep-nesting": Bad(kp_deep, "validate", 2),
    "klproj-number-1e400": Bad(kp_huge_number, "export", 2),
    "klproj-nan": Bad(kp_nan, "export", 2),
    "klproj-wrong-types": Bad(kp_wrong_types, "validate", 2),
    "klproj-huge-integer-label": Bad(kp_huge_label, "validate", 2),
    "klproj-seventh-region": Bad(kp_seventh, "export", 1),
    "klproj-mask-size-mismatch": Bad(kp_mask_size, "export", 2),
    "klproj-damaged-image": Bad(kp_bad_image, "export", 2),
    "klproj-missing-mask": Bad(kp_missing_mask, "validate", 2),
    "klproj-zero-fps": Bad(kp_zero_fps, "render", 1, out="out.gif"),
    # Kling requests
    "request-zero-bytes": Bad(rq_zero, "import", 2, out="out.klproj"),
    "request-partial-json": Bad(rq_not_json, "validate", 2),
    "request-not-utf8": Bad(rq_not_utf8, "export", 2),
    "request-top-level-array": Bad(rq_array, "import", 2, out="out.klproj"),
    "request-nan": Bad(rq_nan, "import", 2, out="out.klproj"),
    "request-deep-nesting": Bad(rq_deep, "import", 2, out="out.klproj"),
    "request-number-1e400": Bad(rq_huge_number, "export", 2),
    "request-image-wrong-type": Bad(rq_image_type, "import", 2, out="out.klproj"),
    "request-image-missing": Bad(rq_no_image, "export", 2),
    "request-image-not-base64": Bad(rq_bad_base64, "import", 2, out="out.klproj"),
    "request-seventh-region": Bad(rq_seven, "import", 1, out="out.klproj"),
    "request-0-point-trajectory": Bad(_points(0), "export", 1),
    "request-1-point-trajectory": Bad(_points(1), "export", 1),
    "request-78-point-trajectory": Bad(_points(78), "validate", 1),
    "request-point-wrong-type": Bad(rq_point_type, "import", 2, out="out.klproj"),
    "request-huge-integer": Bad(rq_huge_int, "export", 2),
    "request-mask-size-mismatch": Bad(rq_mask_size, "import", 1, out="out.klproj"),
    "request-masks-wrong-type": Bad(rq_masks_type, "validate", 2),
    "request-prompt-wrong-type": Bad(rq_prompt_type, "import", 2, out="out.klproj"),
    "export-folder-without-request": Bad(rq_folder_without_request, "import", 2, out="out.klproj"),
    # outputs
    "output-unknown-extension": Bad(good_klproj, "render", 2, out="out.xyz", names="out.xyz"),
    "output-name-too-long": Bad(good_klproj, "export", 2, out="o" * 300, names="o" * 100),
}


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _argv(case: Bad, source: Path, out: Path) -> list[str]:
    if case.command == "validate":
        return ["validate", str(source)]
    extra = ["--seconds", "0.5", "--width", "64"] if case.command == "render" else []
    return [case.command, str(source), "-o", str(out), *extra]


def _leftovers(folder: Path, out_name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{out_name[:50]}"))


def _run_case(capsys, tmp_path: Path, case: Bad) -> tuple[int, str, Path, Path]:
    source = case.build(tmp_path)
    outdir = tmp_path / "results"
    outdir.mkdir()
    out = outdir / case.out
    code, _stdout, err = run_cli(capsys, *_argv(case, source, out))
    return code, err, source, out


def _params(select: Callable[[Bad], bool] = lambda c: True):
    out = []
    for name, case in CASES.items():
        if not select(case):
            continue
        out.append(pytest.param(case, id=name))
    return out


@pytest.mark.parametrize("case", _params())
def test_bad_input_is_refused_cleanly(capsys, tmp_path, case):
    code, err, source, out = _run_case(capsys, tmp_path, case)
    assert code == case.code, err
    lines = err.splitlines()
    assert len(lines) == len(set(lines)), err  # no message twice
    assert lines and all(line.startswith(PREFIXES) for line in lines), err
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == case.errors, err
    name = case.names or source.name
    assert all(name in line for line in errors), err
    assert out.name not in os.listdir(out.parent), "a refused input must not write its output"
    assert _leftovers(out.parent, out.name) == []


# ----- unusual but fine --------------------------------------------------------------------------------
FINE = {
    "16-bit-png": (img_16bit, "16-bit"),
    "cmyk-jpeg": (img_cmyk, "CMYK"),
    "palette-with-transparency": (img_palette, "transparent"),
    "alpha-png": (img_alpha, "transparent"),
    "exif-rotated-jpeg": (img_rotated, "orientation 6"),
    "animated-gif": (img_gif, "animated; its first frame is used"),
    "animated-webp": (img_webp, "animated; its first frame is used"),
    "unicode-path": (img_unicode, None),
    "very-long-path": (img_long_path, None),
}


@pytest.mark.parametrize(("build", "note"), list(FINE.values()), ids=list(FINE))
def test_unusual_images_load_with_a_note(capsys, tmp_path, build, note):
    source = build(tmp_path)
    out = tmp_path / "bundle"
    code, stdout, err = run_cli(capsys, "export", str(source), "-o", str(out))
    assert code == 0, err
    assert all(line.startswith(PREFIXES) for line in err.splitlines()), err
    assert not any(line.startswith("error") for line in err.splitlines())
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1 and note in notes[0]
    body = json.loads((out / "request.json").read_text())
    with Image.open(io.BytesIO(base64.b64decode(body["image"]))) as im:
        expected = (H, W) if build is img_rotated else (W, H)  # EXIF 6: the still is turned upright
        assert im.size == expected


def test_an_animated_gif_uses_its_first_frame(capsys, tmp_path):
    source = img_gif(tmp_path)
    code, _, _ = run_cli(capsys, "export", str(source), "-o", str(tmp_path / "b"))
    assert code == 0
    with Image.open(source) as im:
        first = np.asarray(im.convert("RGB"))
    with Image.open(tmp_path / "b" / "image.png") as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), first)


def test_export_onto_an_existing_file_keeps_that_file(capsys, tmp_path):
    source = good_klproj(tmp_path)
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    code, _, err = run_cli(capsys, "export", str(source), "-o", str(target))
    assert code == 2 and err.count("\n") == 1 and "notes.txt" in err and err.startswith("error: ")
    assert target.read_text() == "keep me"


@pytest.mark.parametrize(
    "argv",
    [
        ["render", "IN", "-o", "x.gif", "--fps", "NaN"],
        ["render", "IN", "-o", "x.gif", "--seconds", "1e400"],
        ["render", "IN", "-o", "x.gif", "--width", "-3"],
        ["import", "IN"],
        ["validate", "IN", "--bogus"],
    ],
)
def test_usage_errors_exit_2_without_traceback(capsys, tmp_path, argv):
    source = good_klproj(tmp_path)
    code, _, err = run_cli(capsys, *[str(source) if a == "IN" else a for a in argv])
    lines = err.strip().splitlines()
    # One line names the problem, then at most a hint where to look: never a traceback or a usage block.
    assert code == 2 and lines[0].startswith("error: kling-preview") and len(lines) <= 2
    assert all(line.startswith(("error: ", "hint: ")) for line in lines)
    assert not (tmp_path / "x.gif").exists()


# ----- through a real process --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("build", "command", "code"),
    [(rq_deep, "import", 2), (img_bomb_ihdr, "export", 2), (kp_seventh, "validate", 1)],
    ids=["deep-json-import", "bomb-export", "seventh-region-validate"],
)
def test_a_real_process_prints_one_line_and_no_traceback(tmp_path, build, command, code):
    source = build(tmp_path)
    out = tmp_path / ("out.klproj" if command == "import" else "out")
    argv = [command, str(source)] + ([] if command == "validate" else ["-o", str(out)])
    done = subprocess.run(
        [sys.executable, "-m", "kling_preview", *argv], capture_output=True, text=True, env=os.environ, timeout=120
    )
    assert done.returncode == code
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: ")
    assert not out.exists()


# ----- trajectory files --------------------------------------------------------------------------------
TRACKS = {
    "zero-bytes": b"",
    "not-utf8": b"[\xff\xfe]",
    "partial-json": b'[{"x": 1, "y": ',
    "nan": b'[{"x": NaN, "y": 1}, {"x": 2, "y": 3}]',
    "number-1e400": b'[{"x": 1e400, "y": 1}, {"x": 2, "y": 3}]',
    "huge-integer": b'[{"x": 1' + b"0" * 400 + b', "y": 1}]',
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "a-number": b"42",
    "mixed-points-and-lists": b'[{"x": 1, "y": 2}, [{"x": 1, "y": 2}]]',
    "x-is-text": b'[{"x": "left", "y": 2}]',
    "point-is-a-list": b"[[1, 2], [3, 4]]",
    "empty-track": b"[[]]",
    "kjnodes-string-garbage": b'"[{x: 1, y: 2"',
    "object-without-coordinates": b'{"points": []}',
    "ati-track-with-null": b'[[{"x": 1, "y": 2}, null]]',
}


@pytest.mark.parametrize("data", list(TRACKS.values()), ids=list(TRACKS))
def test_bad_trajectory_files_are_spec_errors_naming_the_file(tmp_path, data):
    path = tmp_path / "tracks.json"
    path.write_bytes(data)
    with pytest.raises(SpecError) as info:
        read_tracks(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message


def test_a_missing_trajectory_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="gone.json"):
        read_tracks(tmp_path / "gone.json")
