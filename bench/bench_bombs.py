"""Hostile-input benchmark: every bomb of issue 9 run through the real CLI, with its peak memory and time.

Each case is a fresh `python -m kling_preview` child; its peak resident memory comes from os.wait4's rusage
(its own, not the sum of earlier children) and its time from the wall clock. A `--version` run is the
baseline in the same process: the ratio column says how much more than a bare start a refusal costs.
The bar is: every bomb refused (exit 1 or 2, one line, no traceback) under 500 MB and in under 5 s.

Run: python bench/bench_bombs.py
"""

from __future__ import annotations

import base64
import bz2
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kling_preview.core.images import decode_image, encode_png
from kling_preview.core.project import Project
from kling_preview.core.projectfile import save_project

MAX_MB, MAX_SECONDS = 500, 5.0
BZIP2_INFLATED = 256 * 2**20  # building a 5 GB stream takes minutes; it is refused the same way, unread
DEFLATE_INFLATED = 2**30


def _still(width: int, height: int) -> bytes:
    rng = np.random.default_rng(0)
    return encode_png(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _project(folder: Path, width: int = 320, height: int = 240) -> Path:
    path = folder / f"good-{width}x{height}.klproj"
    project = Project(decode_image(_still(width, height), "still.png"))
    region = project.add_region()
    project.paint(region.label, [(width // 3, height // 2)], min(width, height) // 5)
    region.trajectory = [(width / 3, height / 2), (width / 2, height / 2)]
    save_project(project, path)
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _patch(data: bytes, name: bytes, *, flags: int = 0, method: int | None = None, size: int | None = None) -> bytes:
    """Edit one member's local and central zip headers: flag bits, method, claimed uncompressed size."""
    out = bytearray(data)
    headers = ((b"PK\x03\x04", 6, 8, 22, 30), (b"PK\x01\x02", 8, 10, 24, 46))
    for signature, flag_at, method_at, size_at, name_at in headers:
        i = out.find(signature)
        while i >= 0:
            if out[i + name_at : i + name_at + len(name)] == name:
                struct.pack_into("<H", out, i + flag_at, struct.unpack_from("<H", out, i + flag_at)[0] | flags)
                if method is not None:
                    struct.pack_into("<H", out, i + method_at, method)
                if size is not None:
                    struct.pack_into("<I", out, i + size_at, size)
            i = out.find(signature, i + 4)
    return bytes(out)


def _raw_member_zip(path: Path, members: dict[str, bytes], raw: tuple[str, bytes, int, int, int]) -> None:
    """A zip whose member `raw` = (name, compressed bytes, method, claimed size, crc) is written as given."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    name, payload, method, claimed, crc = raw
    data = path.read_bytes()
    central = data.index(b"PK\x01\x02")
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(payload), claimed, len(name), 0)
    entry = struct.pack(
        "<4s6H3I5H2I",
        b"PK\x01\x02",
        20,
        20,
        0,
        method,
        0,
        0x21,
        crc,
        len(payload),
        claimed,
        len(name),
        0,
        0,
        0,
        0,
        0,
        central,
    )
    body = data[:central] + local + name.encode() + payload
    directory = data[central : data.index(b"PK\x05\x06")] + entry + name.encode()
    count = len(members) + 1
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(body), 0)
    path.write_bytes(body + directory + end)


def _compressed(compressor: Callable[[], object], total: int) -> bytes:
    c = compressor()
    chunk, parts = bytes(64 * 2**20), []
    for _ in range(total // len(chunk)):
        parts.append(c.compress(chunk))  # type: ignore[attr-defined]
    parts.append(c.flush())  # type: ignore[attr-defined]
    return b"".join(parts)


def build(folder: Path) -> list[tuple[str, list[str], int]]:
    """Every bomb as (name, CLI arguments, expected exit code)."""
    good = _project(folder)
    members = _members(good)
    cases: list[tuple[str, list[str], int]] = []

    bomb = folder / "bzip2-bomb.klproj"
    _raw_member_zip(
        bomb,
        {k: v for k, v in members.items() if not k.startswith("image.")},
        ("image.png", _compressed(lambda: bz2.BZ2Compressor(9), BZIP2_INFLATED), zipfile.ZIP_BZIP2, 1000, 0),
    )
    cases.append(("bzip2 member claiming 1000 B (.klproj)", ["validate", str(bomb)], 2))

    lying = folder / "deflate-lying.klproj"
    _raw_member_zip(
        lying,
        {k: v for k, v in members.items() if not k.startswith("image.")},
        ("image.png", _compressed(lambda: zlib.compressobj(9, zlib.DEFLATED, -15), DEFLATE_INFLATED), 8, 1000, 0),
    )
    cases.append(("deflate member: 1 GB claiming 1000 B", ["validate", str(lying)], 2))

    raw = good.read_bytes()
    for name, data in (
        ("encrypted member", _patch(raw, b"project.json", flags=0x1)),
        ("Deflate64 member", _patch(raw, b"project.json", method=9)),
        ("invalid UTF-8 member name", _patch(raw, b"masks/static.png", flags=0x800).replace(b"c.png", b"\xff.png")),
        ("truncated zip", raw[: len(raw) // 2]),
        ("garbage after a zip signature", b"PK\x05\x06" + os.urandom(4000)),
    ):
        path = folder / (name.replace(" ", "-") + ".klproj")
        path.write_bytes(data)
        cases.append((name, ["validate", str(path)], 2))

    huge = folder / "huge.png"
    with open(huge, "wb") as fh:
        fh.truncate(6 * 2**30)
    cases.append(("6 GB sparse file named .png", ["export", str(huge), "-o", str(folder / "out")], 2))
    if hasattr(os, "mkfifo"):
        for name in ("pipe.png", "pipe.klproj"):
            os.mkfifo(folder / name)
            cases.append((f"FIFO named {name}", ["validate", str(folder / name)], 2))

    image = base64.b64encode(_still(320, 320)).decode()
    mask = base64.b64encode(encode_png(np.full((320, 320), 255, np.uint8))).decode()
    request = folder / "request-3000-masks.json"
    entry = {"mask": mask, "trajectories": [{"x": 10, "y": 10}, {"x": 20, "y": 20}]}
    request.write_text(json.dumps({"image": image, "dynamic_masks": [entry] * 3000}))
    cases.append(("request.json with 3000 masks (validate)", ["validate", str(request)], 1))
    cases.append(("request.json with 3000 masks (import)", ["import", str(request), "-o", str(folder / "r.klproj")], 1))

    gif = str(folder / "x.gif")
    for option, value in (("--seconds", "1e308"), ("--fps", "1e38"), ("--width", "16384")):
        cases.append((f"render {option} {value}", ["render", str(good), "-o", gif, option, value], 2))
    for key in ("fps", "seconds"):
        doc = json.loads(members["project.json"])
        doc["clip"][key] = 1e9
        path = folder / f"clip-{key}.klproj"
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in {**members, "project.json": json.dumps(doc).encode()}.items():
                zf.writestr(name, data)
        cases.append((f".klproj with clip {key} 1e9 (render)", ["render", str(path), "-o", gif], 1))
    tall = _project(folder, 40, 400)
    cases.append(("render --width 8192 of a 1:10 image", ["render", str(tall), "-o", gif, "--width", "8192"], 1))
    return cases


#: The CLI in a child that reports its own peak memory at exit. VmHWM belongs to the child's own address
#: space; rusage's ru_maxrss would also count the parent's size at fork, which the child inherits.
CHILD = """
import atexit, os, sys
def peak():
    try:
        with open("/proc/self/status") as fh:
            kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM"))
    except OSError:
        import resource
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    os.write(int(os.environ["BENCH_PEAK_FD"]), str(kb).encode())
atexit.register(peak)
from kling_preview.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run(argv: list[str]) -> tuple[int, float, float, str]:
    """Exit code, peak RSS in MB, seconds, and stderr of one CLI run in a fresh child."""
    read, write = os.pipe()
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        pass_fds=(write,),
        env={**os.environ, "BENCH_PEAK_FD": str(write)},
    )
    os.close(write)
    try:
        _, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        _, err = child.communicate()
    seconds = time.monotonic() - started
    with os.fdopen(read, "rb") as fh:
        reported = fh.read()
    peak_mb = int(reported) / 1024 if reported else float("nan")
    return child.returncode, peak_mb, seconds, err.decode(errors="replace")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-bombs-") as tmp:
        print("building the bombs ...", flush=True)
        cases = build(Path(tmp))
        _, base_mb, base_s, _ = run(["--version"])
        print(f"baseline (--version): {base_mb:.0f} MB, {base_s:.2f} s")
        print(f"{'case':46} {'exit':>4} {'peak MB':>8} {'seconds':>8} {'x base':>7}  first line")
        ok = True
        for name, argv, code in cases:
            got, mb, seconds, err = run(argv)
            lines = [line for line in err.splitlines() if line.strip()]
            good = got == code and mb < MAX_MB and seconds < MAX_SECONDS and "Traceback" not in err
            ok &= good
            first = lines[-1][:70] if lines else ""
            flag = "" if good else "  <-- FAIL"
            print(f"{name:46} {got:>4} {mb:>8.0f} {seconds:>8.2f} {seconds / base_s:>7.1f}  {first}{flag}")
        print(
            f"all refused under {MAX_MB} MB and {MAX_SECONDS:g} s with the expected exit code: {'yes' if ok else 'NO'}"
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
