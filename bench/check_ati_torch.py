"""Check ATI .pth files against the real torch (not a project dependency): `pip install torch`, then run.

Prints whether torch.load (weights-only, its default) returns the NPZ bytes, and whether the file is
byte for byte what torch.save writes for the same bytes (the serialization id aside, which torch
draws at random). Exit 0 when both hold.
"""

from __future__ import annotations

import io
import sys
import zipfile
import zlib

import numpy as np

from kling_preview.core.spec.ati import ati_file_bytes, torch_save_bytes


def main() -> int:
    import torch

    tracks = [[(10.0, 20.0), (110.5, 20.0), (110.5, 220.25)], [(300.0, 40.0), (260.0, 90.0)]]
    ours = ati_file_bytes(tracks)
    loaded = torch.load(io.BytesIO(ours))
    with np.load(io.BytesIO(loaded)) as npz:
        shape = npz["array"].shape
    print(f"torch {torch.__version__}: torch.load gives {type(loaded).__name__}, array {shape}")
    buffer = io.BytesIO()
    torch.save(loaded, buffer)
    theirs = buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(theirs)) as z:
        serial = z.read("archive/.data/serialization_id")
    same_layout = theirs == _with_serial(loaded, serial)
    print(f"same bytes as torch.save (serialization id aside): {same_layout}")
    return 0 if isinstance(loaded, bytes) and shape == (2, 121, 1, 3) and same_layout else 1


def _with_serial(payload: bytes, serial: bytes) -> bytes:
    """Our writer's output for `payload`, with torch's random serialization id put in place of ours."""
    ours = torch_save_bytes(payload)
    with zipfile.ZipFile(io.BytesIO(ours)) as z:
        mine = z.read("archive/.data/serialization_id")
    return ours.replace(mine, serial).replace(
        zlib.crc32(mine).to_bytes(4, "little"), zlib.crc32(serial).to_bytes(4, "little")
    )


if __name__ == "__main__":
    sys.exit(main())
