"""Turn a slot's model URI into a checked local file.

``file:///path`` is used in place; ``https://`` and ``http://`` are downloaded once
into the data directory (named by their SHA-256, so a rollout of a new file never
reuses an old one); the digest is checked whenever one is given.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests
import structlog

from attendance_ml.detection.onnx_runtime import sha256_of
from attendance_ml.detection.settings import ModelSpec

log = structlog.get_logger("attendance_ml.detection.models")
DOWNLOAD_TIMEOUT_SECONDS = 60


class ModelSourceError(RuntimeError):
    """The model file cannot be had or is not the one the rollout named."""


def local_model_file(spec: ModelSpec, download_dir: Path) -> Path:
    """The checked local file for a non-builtin spec."""
    parsed = urlparse(spec.uri)
    if parsed.scheme == "file":
        path = Path(unquote(parsed.path))
        if not path.is_file():
            raise ModelSourceError(f"{spec.slot}: no model file at {path}")
    elif parsed.scheme in ("http", "https"):
        path = _download(spec, download_dir)
    else:
        raise ModelSourceError(
            f"{spec.slot}: unsupported model URI scheme {parsed.scheme!r}"
        )

    if spec.sha256:
        digest = sha256_of(path)
        if digest != spec.sha256:
            raise ModelSourceError(
                f"{spec.slot}: SHA-256 of {path.name} is {digest}, "
                f"expected {spec.sha256}"
            )
    return path


def _download(spec: ModelSpec, download_dir: Path) -> Path:
    suffix = Path(urlparse(spec.uri).path).suffix or ".bin"
    if spec.sha256:
        cached = download_dir / f"{spec.sha256}{suffix}"
        if cached.is_file():
            return cached

    download_dir.mkdir(parents=True, exist_ok=True)
    log.info("model_download_started", slot=spec.slot, uri=spec.uri)
    try:
        with requests.get(
            spec.uri, stream=True, timeout=DOWNLOAD_TIMEOUT_SECONDS
        ) as reply:
            reply.raise_for_status()
            with tempfile.NamedTemporaryFile(dir=download_dir, delete=False) as handle:
                for chunk in reply.iter_content(1 << 20):
                    handle.write(chunk)
    except requests.RequestException as error:
        raise ModelSourceError(f"{spec.slot}: download failed: {error}") from error

    partial = Path(handle.name)
    target = download_dir / f"{sha256_of(partial)}{suffix}"
    partial.replace(target)
    return target
