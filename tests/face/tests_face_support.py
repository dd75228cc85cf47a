"""Small builders shared by the face tests."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image

# A real photo that ships inside an installed dependency (public domain, US Navy),
# so that face tests run even where ../shared/data is absent.
GRACE_HOPPER = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def face_environ(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "ATTENDANCE_DATA_DIR": str(data_dir),
        "ATTENDANCE_LOAD_IN_BACKGROUND": "false",
        "ATTENDANCE_LOG_LEVEL": "WARNING",
        **extra,
    }


def b64_file(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode()


def load_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def b64_array(array: np.ndarray, fmt: str = "JPEG") -> str:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def tiny_png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes that declare a gigantic PNG (a pixel bomb)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + idat
