"""The CLI's output contract under hostile names and signals: one prefixed line per problem, naming the file.

Also: SIGTERM / SIGHUP clean up like Ctrl+C, and output names up to the file system's 255 bytes work.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest
from conftest import make_project, textured_pixels
from PIL import Image

from kling_preview import cli
from kling_preview.cli import main
from kling_preview.core.fileio import atomic_write_bytes
from kling_preview.core.project import STATIC
from kling_preview.core.projectfile import load_project, save_project
from kling_preview.core.spec.kling import export_bundle

PREFIXES = ("error: ", "warning: ", "note: ", "hint: ")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def painted_project():
    project = make_project(400, 320)
    region = project.add_region()
    project.paint(region.label, [(100, 100)], 25)
    region.trajectory = [(100.0, 100.0), (160.0, 130.0)]
    project.paint(STATIC, [(300, 250)], 25)
    return project


def assert_contract(err: str, name: str) -> list[str]:
    """Every stderr line begins with a prefix and names `name`; returns the lines."""
    lines = err.splitlines()
    assert lines, "expected at least one line on stderr"
    for line in lines:
        assert line.startswith(PREFIXES), line
        assert name in line, line
    return lines


# ----- 12. no name can break a line -----------------------------------------------------------------


def test_a_newline_in_an_input_name_cannot_forge_an_error_line(capsys, tmp_path):
    name = "a\nerror: all your files were deleted.klproj"
    code, _, err = run(capsys, "export", str(tmp_path / name), "-o", str(tmp_path / "out"))
    assert code == 2
    (line,) = assert_contract(err, "a\\nerror: all your files")
    assert "no such file" in line


def test_a_newline_inside_a_request_cannot_forge_an_error_line(capsys, tmp_path):
    export_bundle(painted_project(), tmp_path / "bundle")
    body = json.loads((tmp_path / "bundle" / "request.json").read_text())
    body["image"] = "https://example.com/photo.jpg\nerror: forged\x1b[2K"
    request = tmp_path / "request.json"
    request.write_text(json.dumps(body))
    run_result = run(capsys, "validate", str(request))
    err = run_result[2]
    lines = assert_contract(err, str(request))
    assert not any(line.startswith("error: forged") for line in lines)
    assert "\x1b" not in err and any("\\nerror: forged\\x1b[2K" in line for line in lines)


def test_a_name_that_is_not_utf8_is_printed_escaped(tmp_path):
    export_bundle(painted_project(), tmp_path / "bundle")
    out = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.klproj")
    done = subprocess.run(
        [sys.executable, "-m", "kling_preview", "import", str(tmp_path / "bundle"), "-o", out],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("caf\\xe9.klproj") and "Traceback" not in done.stderr
    assert os.path.exists(out)


def test_a_multi_line_error_keeps_one_line_per_problem(capsys, tmp_path):
    export_bundle(painted_project(), tmp_path / "bundle")
    body = json.loads((tmp_path / "bundle" / "request.json").read_text())
    body["image"] = "!!!not base64"
    body["static_mask"] = "!!!not base64 either"
    request = tmp_path / "evil\nerror: forged.json"
    request.write_text(json.dumps(body))
    code, _, err = run(capsys, "import", str(request), "-o", str(tmp_path / "x.klproj"))
    assert code == 2
    lines = assert_contract(err, "evil\\nerror: forged.json")
    assert len(lines) == 2  # one per unreadable field


@pytest.mark.parametrize(
    "argv",
    [["render", "--sample"], ["export", "--sample", "-o", "x", "--bogus"], ["render", "x", "-o", "y", "--fps", "a\nb"]],
)
def test_usage_errors_are_prefixed_lines(capsys, argv):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: kling-preview") and lines[1].startswith("hint: ")


NUMPY_WARNING = """
import sys, warnings
import numpy as np
from kling_preview import cli

def noisy(args):
    np.array([1.0, 0.0]) / np.array([0.0, 0.0])  # RuntimeWarning: divide by zero, invalid value
    warnings.warn("odd\\nthing", UserWarning)
    return 0

cli.COMMANDS["validate"] = noisy
sys.exit(cli.main(["validate", "input.klproj"]))
"""


def test_numpy_runtime_warnings_do_not_leak_and_other_warnings_are_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-c", NUMPY_WARNING], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert done.stderr == "warning: input.klproj: odd\\nthing\n"


def test_ctrl_c_is_a_prefixed_line_naming_the_output(capsys, monkeypatch, tmp_path):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "render", interrupted)
    code, _, err = run(capsys, "render", "--sample", "-o", str(tmp_path / "clip.mp4"))
    assert code == 130
    (line,) = assert_contract(err, "clip.mp4")
    assert line.startswith("error: ") and "interrupted" in line


def test_a_damaged_mask_is_named_without_python_object_text(capsys, tmp_path):
    good = tmp_path / "good.klproj"
    save_project(painted_project(), good)
    bad = tmp_path / "bad.klproj"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = b"not a png at all" if info.filename == "masks/static.png" else src.read(info)
            dst.writestr(info, data)
    code, _, err = run(capsys, "validate", str(bad))
    assert code == 2
    (line,) = assert_contract(err, str(bad))
    assert "masks/static.png" in line and "object at 0x" not in line and "BytesIO" not in line


def test_render_warnings_and_image_notes_name_the_file(capsys, tmp_path):
    project = make_project(320, 240)
    region = project.add_region()
    project.paint(region.label, [(100, 100)], 25)
    region.trajectory = [(100.0, 100.0), (100.0, 100.0)]  # zero length: a render warning
    source = tmp_path / "still.klproj"
    save_project(project, source)
    code, _, err = run(capsys, "render", str(source), "-o", str(tmp_path / "c.gif"), "--seconds", "0.2", "--fps", "5")
    assert code == 0
    assert "zero length" in err
    assert_contract(err, str(source))

    photo = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(textured_pixels(400, 320)).save(buf, "JPEG", exif=exif)
    photo.write_bytes(buf.getvalue())
    code, _, err = run(capsys, "export", str(photo), "-o", str(tmp_path / "photo-export"))
    assert code == 0 and "EXIF orientation 6 applied" in err
    assert_contract(err, str(photo))


# ----- 4. SIGTERM / SIGHUP clean up like Ctrl+C --------------------------------------------------


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("output", ["frames", "clip.mp4"])
def test_a_stop_signal_during_render_leaves_nothing_behind(tmp_path, signame, output):
    if not hasattr(signal, signame):
        pytest.skip(f"{signame} does not exist on this platform")
    signum = getattr(signal, signame)
    folder = tmp_path / "renders"
    folder.mkdir()
    argv = ["render", "--sample", "-o", str(folder / output), "--width", "160", "--seconds", "30", "--fps", "30"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kling_preview", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        for _ in range(6000):  # until the temp file or folder exists (the render is then under way)
            if any(folder.iterdir()) or proc.poll() is not None:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the render ended before it could be stopped"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + signum, err
    assert list(folder.iterdir()) == []
    (line,) = assert_contract(err, output)
    assert line.startswith("error: ") and f"stopped by {signame}" in line


# ----- 13. names up to 255 bytes ----------------------------------------------------------------


def test_outputs_with_names_up_to_255_bytes_work(capsys, tmp_path):
    bundle = tmp_path / ("b" * 255)
    assert run(capsys, "export", "--sample", "-o", str(bundle))[0] == 0
    project = tmp_path / ("é" * 120 + ".klproj")  # 247 bytes in UTF-8
    code, _, err = run(capsys, "import", str(bundle), "-o", str(project))
    assert code == 0, err
    assert len(load_project(project).regions) == 2
    atomic_write_bytes(project, b"again")  # replacing works too
    clip = tmp_path / ("c" * 251 + ".gif")
    frames = tmp_path / ("f" * 255)
    small = ("--seconds", "0.2", "--fps", "5", "--width", "64")
    for out in (clip, frames):
        code, _, err = run(capsys, "render", str(bundle), "-o", str(out), *small)
        assert code == 0, err
    assert clip.stat().st_size > 0 and len(list(frames.iterdir())) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([bundle.name, project.name, clip.name, frames.name])


def test_atomic_saves_to_a_255_byte_name(tmp_path):
    out = tmp_path / ("x" * 255)
    atomic_write_bytes(out, b"one")
    atomic_write_bytes(out, b"two")
    assert out.read_bytes() == b"two" and [p.name for p in tmp_path.iterdir()] == [out.name]
