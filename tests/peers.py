"""The peers' own parsing logic, reimplemented from their published code, to run on our files.

Each function cites the code it follows. They are written from reading that code, not copied, and
kept as literal as possible about what the peer accepts and what it does with the values.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np

ATI_FRAMES = 121


class WeightsOnlyUnpickler(pickle.Unpickler):
    """torch.load(weights_only=True) (torch/_weights_only_unpickler.py): of the globals, only an
    allow-list loads; `_codecs.encode` is on it so protocol-2 pickles of bytes load."""

    def find_class(self, module, name):
        if (module, name) == ("_codecs", "encode"):
            import codecs

            return codecs.encode
        raise pickle.UnpicklingError(f"weights-only load refuses {module}.{name}")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("no storages expected in a bytes payload")


def torch_load(data: bytes) -> object:
    """torch.load on a zip file (torch/serialization.py, caffe2/serialize/inline_container.cc):
    the archive folder is the first record's prefix; `data.pkl` and `version` must be in it; records
    are read from their local headers (so the data offsets must be what the headers say)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        prefix = names[0].split("/", 1)[0]
        assert f"{prefix}/data.pkl" in names
        version = archive.read(f"{prefix}/version") if f"{prefix}/version" in names else None
        assert version is not None and int(version.decode().strip()) >= 1
        pickled = archive.read(f"{prefix}/data.pkl")
    return WeightsOnlyUnpickler(io.BytesIO(pickled)).load()


def ati_get_tracks_inference(data: bytes, height: int, width: int, quant_multi: int = 8) -> np.ndarray:
    """bytedance/ATI wan/utils/motion.py: get_tracks_inference -> unzip_to_array -> process_tracks.

    torch.load the file, np.load the bytes and take "array"; divide by quant_multi; (N, 121, ...) is
    permuted to (121, N, ...); positions are centred on the frame and divided by half the short edge;
    visibility becomes -1/1; the 121 samples (24 fps) are cut to 81 (16 fps): frame 0, then every
    third of the 240 doubled samples starting at 1. Returns (81, N, 4) = t, x, y, visible.
    """
    payload = torch_load(data)
    assert isinstance(payload, bytes)
    with np.load(io.BytesIO(payload)) as npz:
        tracks_np = npz["array"]
    tracks = tracks_np.astype(np.float32) / quant_multi
    if tracks.shape[1] == ATI_FRAMES:
        tracks = np.transpose(tracks, (1, 0, 2, 3))
    xy, visibles = tracks[..., :2], tracks[..., 2:3]
    short_edge = min(width, height)
    xy = (xy - np.array([width, height], np.float32) / 2) / short_edge * 2
    visibles = visibles * 2 - 1
    trange = np.broadcast_to(np.linspace(-1, 1, xy.shape[0]).reshape(-1, 1, 1, 1), visibles.shape)
    out = np.concatenate([trange, xy, visibles], axis=-1).reshape(ATI_FRAMES, -1, 4)
    rest = np.repeat(out[1:], 2, axis=0)[1::3]
    return np.concatenate([out[:1], rest], axis=0)


def kjnodes_parse_json_tracks(tracks: str | list[str]) -> list:
    """kijai/ComfyUI-KJNodes nodes/curve_nodes.py: parse_json_tracks (quotes replaced, one track wrapped)."""
    tracks_data: list = []
    try:
        if isinstance(tracks, str):
            tracks_data.extend(json.loads(tracks.replace("'", '"')))
        else:
            for track_str in tracks:
                tracks_data.append(json.loads(track_str.replace("'", '"')))
        if tracks_data and isinstance(tracks_data[0], dict) and "x" in tracks_data[0]:
            tracks_data = [tracks_data]
    except json.JSONDecodeError:
        tracks_data = []
    return tracks_data


def kjnodes_cut_and_drag_positions(coordinates: str, cut_width: int, cut_height: int) -> list[list[tuple[int, int]]]:
    """CutAndDragOnPath.cutanddrag: batch = len(track 1); for each frame i, every track's point i is
    where the cut's top-left goes, the point being the cut's centre (int(x - w/2), int(y - h/2))."""
    coords_list = kjnodes_parse_json_tracks(coordinates)
    batch_size = len(coords_list[0])
    frames = []
    for i in range(batch_size):
        frames.append([(int(c[i]["x"] - cut_width / 2), int(c[i]["y"] - cut_height / 2)) for c in coords_list])
    return frames


def kjnodes_single_track(coordinates: str) -> list[tuple[float, float]]:
    """CreateShapeMaskOnPath / InterpolateCoords / PlotCoordinates: json.loads(text.replace("'", '"')),
    then coord['x'], coord['y'] of each item: one flat track."""
    parsed = json.loads(coordinates.replace("'", '"'))
    return [(coord["x"], coord["y"]) for coord in parsed]


def spline_editor_parse(points_store: str) -> list[dict]:
    """web/js/editors/spline_editor_canvas.js parseSplineData: a list whose first item has `points` is
    taken as the splines; anything else becomes one spline of those points."""
    parsed = json.loads(points_store)
    if isinstance(parsed, list) and parsed and "points" in parsed[0]:
        return parsed
    return [{"points": parsed, "color": "#1f77b4", "name": "Spline 1"}]


#: The fields of PiAPI's Kling task as PiAPI's own motion-brush tool sends them
#: (apinetwork/kling-api-video-motion-brush-tool, app.py, send_to_api): top level, then `input`.
PIAPI_TASK_FIELDS = {"model", "task_type", "input"}
PIAPI_INPUT_FIELDS = {
    "prompt",
    "negative_prompt",
    "cfg_scale",
    "duration",
    "image_url",
    "image_tail_url",
    "mode",
    "version",
}


def piapi_check_task(body: dict) -> None:
    """The shape of the task PiAPI's tool POSTs (send_to_api), field by field: model "kling", task_type
    "video_generation"; input with string prompts, a numeric cfg_scale, an integer duration, image_url,
    mode "std"/"pro", version a string such as "1.0"; motion_brush {mask_url, static_masks [{points: []}],
    dynamic_masks [{points [{x, y}]}]}, the points integer pixels as generate_mask_and_path collects them
    from the image (x, y) it scans, so top-left origin and inside the image's bounds is checked by the caller."""
    assert set(body) == PIAPI_TASK_FIELDS, set(body) ^ PIAPI_TASK_FIELDS
    assert body["model"] == "kling" and body["task_type"] == "video_generation"
    task = body["input"]
    assert set(task) - {"motion_brush"} <= PIAPI_INPUT_FIELDS, set(task) - PIAPI_INPUT_FIELDS
    assert isinstance(task["prompt"], str) and isinstance(task["negative_prompt"], str)
    assert isinstance(task["cfg_scale"], (int, float)) and not isinstance(task["cfg_scale"], bool)
    assert isinstance(task["duration"], int) and not isinstance(task["duration"], bool)
    assert isinstance(task["image_url"], str) and task["image_url"]
    assert task["mode"] in ("std", "pro")
    assert isinstance(task["version"], str) and task["version"].replace(".", "").isdigit()
    brush = task.get("motion_brush")
    if brush is None:
        return
    assert set(brush) == {"mask_url", "static_masks", "dynamic_masks"}
    assert isinstance(brush["mask_url"], str) and brush["mask_url"]
    assert brush["static_masks"] == [{"points": []}]
    for entry in brush["dynamic_masks"]:
        assert set(entry) == {"points"}
        for point in entry["points"]:
            assert set(point) == {"x", "y"}
            assert all(isinstance(v, int) and not isinstance(v, bool) for v in point.values())
