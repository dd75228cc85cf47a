"""Small builders shared by the sentiment tests."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image

# A real photo inside an installed dependency (public domain, US Navy), so that the
# face tests run even where ../shared/data is absent.
GRACE_HOPPER = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def sentiment_environ(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "ATTENDANCE_DATA_DIR": str(data_dir),
        "ATTENDANCE_LOAD_IN_BACKGROUND": "false",
        "ATTENDANCE_LOG_LEVEL": "WARNING",
        **extra,
    }


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def png_b64(array: np.ndarray) -> str:
    """Base64 of a lossless PNG of an RGB or grey uint8 array."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def file_data_url(path: Path) -> str:
    """A data: URL of a JPEG file, as browsers send it."""
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode()
