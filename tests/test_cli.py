"""The command line contract: subcommands, --sample, stable exit codes, one clear line per problem."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kling_preview import __version__
from kling_preview.cli import main
from kling_preview.core.projectfile import load_project


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors and --version
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"kling-preview {__version__}"


def test_python_dash_m_runs_the_same_entry_point():
    done = subprocess.run([sys.executable, "-m", "kling_preview", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and __version__ in done.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["render", "--sample"],  # no -o
        ["render", "--sample", "-o", "x.mp4", "--fps", "0"],
        ["render", "--sample", "-o", "x.mp4", "--seconds", "-1"],
        ["render", "--sample", "-o", "x.mp4", "--width", "abc"],
        ["render", "--sample", "-o", "x.mp4", "--mode", "wobble"],
        ["export"],
    ],
)
def test_usage_errors_exit_2(capsys, argv):
    code, _, err = run(capsys, *argv)
    lines = err.strip().splitlines()
    # One line names the problem, then at most a hint where to look: never a traceback or a usage block.
    assert code == 2 and lines[0].startswith("error: kling-preview") and len(lines) <= 2
    assert all(line.startswith(("error: ", "hint: ")) for line in lines)


def test_missing_input_exits_2_with_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "export", str(tmp_path / "nope.klproj"), "-o", str(tmp_path / "out"))
    assert code == 2
    assert err.strip().count("\n") == 0 and "nope.klproj" in err
    assert not (tmp_path / "out").exists()


def test_input_and_sample_together_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "validate", "--sample", str(tmp_path / "a.klproj"))
    assert code == 2 and "not both" in err


def test_export_import_validate_round_trip_on_the_sample(capsys, tmp_path):
    bundle = tmp_path / "bundle"
    code, _, err = run(capsys, "export", "--sample", "-o", str(bundle))
    assert code == 0, err
    names = {p.name for p in bundle.iterdir()}
    assert {"request.json", "static_mask.png", "dynamic_mask_1.png", "dynamic_mask_2.png", "trajectories.json",
            "overlay.png"} <= names
    body = json.loads((bundle / "request.json").read_text())
    assert len(body["dynamic_masks"]) == 2 and not body["image"].startswith("data:")

    code, _, err = run(capsys, "validate", str(bundle / "request.json"))
    assert code == 0, err

    klproj = tmp_path / "back.klproj"
    code, _, err = run(capsys, "import", str(bundle), "-o", str(klproj))
    assert code == 0, err
    assert len(load_project(klproj).regions) == 2

    again = tmp_path / "again"
    code, _, err = run(capsys, "export", str(klproj), "-o", str(again))
    assert code == 0, err
    assert (again / "request.json").read_bytes() == (bundle / "request.json").read_bytes()


def test_validate_reports_a_78_point_trajectory_and_exits_1(capsys, tmp_path):
    bundle = tmp_path / "bundle"
    assert run(capsys, "export", "--sample", "-o", str(bundle))[0] == 0
    body = json.loads((bundle / "request.json").read_text())
    body["dynamic_masks"][1]["trajectories"] = [{"x": 100 + i, "y": 100} for i in range(78)]
    bad = tmp_path / "request.json"
    bad.write_text(json.dumps(body))
    code, _, err = run(capsys, "validate", str(bad))
    assert code == 1
    assert "region 2" in err and err.count("78 points") == 1  # reported once


def test_validate_unreadable_exits_2(capsys, tmp_path):
    bad = tmp_path / "request.json"
    bad.write_text("{ not json")
    code, _, err = run(capsys, "validate", str(bad))
    assert code == 2 and "request.json" in err


@pytest.mark.parametrize(
    "body, message", [({"model_name": "kling-v1"}, "image"), ({"image": "%%% not base64 %%%"}, "Base64")]
)
def test_validate_request_without_a_readable_image_exits_2(capsys, tmp_path, body, message):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body))
    code, _, err = run(capsys, "validate", str(path))
    assert code == 2 and message in err and all(line.startswith("error: ") for line in err.splitlines())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the DISPLAY check is for Linux desktops")
def test_app_without_a_screen_says_so_instead_of_aborting(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "kling_preview", "--sample"], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "no screen" in done.stderr and "Traceback" not in done.stderr
