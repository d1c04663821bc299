"""`kling-preview tracks`, `export --target` and `validate --allow-model` from the command line."""

from __future__ import annotations

import json

from peers import ati_get_tracks_inference, kjnodes_parse_json_tracks, piapi_check_task

from kling_preview.cli import main
from kling_preview.core.projectfile import load_project, save_project
from kling_preview.resources import sample_project_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_tracks_writes_ati_pth_and_kjnodes_by_extension(capsys, tmp_path):
    sample = load_project(sample_project_path())
    width, height = sample.size
    code, out, _ = run(capsys, "tracks", "--sample", "-o", str(tmp_path / "t.pth"))
    assert code == 0 and "wrote" in out
    ati = ati_get_tracks_inference((tmp_path / "t.pth").read_bytes(), height, width)
    assert ati.shape == (81, len(sample.regions), 4)
    code, _, _ = run(capsys, "tracks", "--sample", "-o", str(tmp_path / "t.json"), "--points", "33")
    tracks = kjnodes_parse_json_tracks((tmp_path / "t.json").read_text("utf-8"))
    assert code == 0 and [len(t) for t in tracks] == [33] * len(sample.regions)
    code, _, _ = run(capsys, "tracks", "--sample", "-o", str(tmp_path / "s.txt"), "--format", "kjnodes-spline")
    assert code == 0 and json.loads((tmp_path / "s.txt").read_text("utf-8"))[0]["name"] == "Spline 1"


def test_tracks_usage_errors(capsys, tmp_path):
    code, _, err = run(capsys, "tracks", "--sample", "-o", str(tmp_path / "t.dat"))
    assert code == 2 and "add --format" in err
    code, _, err = run(capsys, "tracks", "--sample", "-o", str(tmp_path / "t.pth"), "--points", "50")
    assert code == 1 and "exactly 121" in err
    assert not (tmp_path / "t.pth").exists()


def test_tracks_import_applies_a_pth_to_the_regions(capsys, tmp_path):
    run(capsys, "tracks", "--sample", "-o", str(tmp_path / "t.pth"), "--frames", "60")
    project = load_project(sample_project_path())
    for region in project.regions:
        region.trajectory = [(1.0, 1.0), (2.0, 2.0)]
    save_project(project, tmp_path / "p.klproj")
    code, out, err = run(
        capsys,
        "tracks",
        str(tmp_path / "p.klproj"),
        "--import",
        str(tmp_path / "t.pth"),
        "-o",
        str(tmp_path / "o.klproj"),
    )
    assert code == 0, err
    original = load_project(sample_project_path())
    imported = load_project(tmp_path / "o.klproj")
    for before, after in zip(original.regions, imported.regions):
        assert len(after.trajectory) == 77  # 121 samples resampled to Kling's limit
        assert abs(after.trajectory[0][0] - before.trajectory[0][0]) < 0.01
        assert abs(after.trajectory[-1][1] - before.trajectory[-1][1]) < 0.01
    code, _, err = run(
        capsys, "tracks", "--sample", "--import", str(tmp_path / "nope.json"), "-o", str(tmp_path / "x.klproj")
    )
    assert code == 2 and "nope.json" in err and len(err.strip().splitlines()) == 1


def test_export_target_piapi(capsys, tmp_path):
    sample = load_project(sample_project_path())
    out = tmp_path / "piapi"
    code, _, err = run(capsys, "export", "--sample", "-o", str(out), "--target", "piapi")
    assert code == 0, err
    body = json.loads((out / "request.json").read_text("utf-8"))
    piapi_check_task(body)
    brush = body["input"]["motion_brush"]
    assert brush["mask_url"].startswith("data:image/png;base64,") and (out / "motion_brush_mask.png").is_file()
    first = sample.regions[0].trajectory[0]
    assert brush["dynamic_masks"][0]["points"][0] == {"x": round(first[0]), "y": round(first[1])}  # top-left
    assert len(brush["dynamic_masks"]) == len(sample.regions)
    assert (out / "endpoint.txt").read_text().startswith("POST https://api.piapi.ai/api/v1/task")
    code, _, err = run(capsys, "validate", str(out))
    assert code == 2 and "PiAPI request" in err
    code, _, err = run(capsys, "export", "--sample", "-o", str(tmp_path / "x"), "--target", "piapi-v2")
    assert code == 2 and "piapi-v2" in err


def test_export_target_fal_and_validate_allow_model(capsys, tmp_path):
    code, _, err = run(capsys, "export", "--sample", "-o", str(tmp_path / "fal"), "--target", "fal")
    assert code == 0, err
    body = json.loads((tmp_path / "fal" / "request.json").read_text("utf-8"))
    assert body["image_url"].startswith("data:image/") and "model_name" not in body and "mode" not in body
    code, _, err = run(capsys, "validate", str(tmp_path / "fal"))
    assert code == 2 and "a fal, AIMLAPI or PiAPI request" in err
    project = load_project(sample_project_path())
    project.kling.model_name = "kling-v9"
    save_project(project, tmp_path / "v9.klproj")
    code, _, err = run(capsys, "validate", str(tmp_path / "v9.klproj"))
    assert code == 1 and "error:" in err
    code, out, err = run(capsys, "validate", str(tmp_path / "v9.klproj"), "--allow-model")
    assert code == 0 and "warning:" in err and "kling-v9" in err
    project.kling.model_name = "kling-v2-master"
    save_project(project, tmp_path / "v2.klproj")
    code, _, _ = run(capsys, "validate", str(tmp_path / "v2.klproj"), "--allow-model")
    assert code == 1
