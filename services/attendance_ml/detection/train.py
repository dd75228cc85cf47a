"""Fine-tune or train a YOLO detector on a user's YOLO-format data set.

    python -m attendance_ml.detection.train --data cards/data.yaml \\
        --model yolo11n.yaml --epochs 100 --imgsz 640 --out runs/idcard

``--data`` is an ultralytics data file (``path``, ``train``, ``val``, ``names``)
over images with one ``class cx cy w h`` line per box, normalised 0-1. ``--model``
is a ``yolo*.yaml`` architecture (trained from scratch, no download) or a ``.pt``
the user already has (fine-tuned). The best weights are written to
``OUT/weights/best.pt``; the command prints their SHA-256 and the environment
variables that roll them into a detection slot. Needs the optional ultralytics extra.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from attendance_ml.detection.onnx_runtime import sha256_of
from attendance_ml.detection.ultralytics_backend import (
    UltralyticsUnavailable,
    import_yolo,
)


def train(
    data: Path,
    model: str,
    out: Path,
    epochs: int,
    imgsz: int,
    batch: int = 16,
    seed: int = 0,
) -> Path:
    """Train on CPU and return the path of the best weights."""
    yolo = import_yolo()
    detector = yolo(model, task="detect")
    detector.train(
        data=str(data),
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        device="cpu",
        workers=0,
        seed=seed,
        deterministic=True,
        amp=False,
        plots=False,
        verbose=False,
        project=str(out.parent.resolve()),
        name=out.name,
        exist_ok=True,
    )
    best = out / "weights" / "best.pt"
    if not best.is_file():
        raise FileNotFoundError(f"training wrote no {best}")
    return best


def rollout_lines(weights: Path, slot: str, imgsz: int) -> list[str]:
    """The variables that make the detection service load these weights."""
    prefix = f"ATTENDANCE_DETECTION_MODEL_{slot.upper()}_"
    return [
        f"{prefix}URI={weights.resolve().as_uri()}",
        f"{prefix}SHA256={sha256_of(weights)}",
        f"{prefix}FORMAT=ultralytics",
        f'{prefix}SETTINGS={{"imgsz": {imgsz}}}',
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="data.yaml")
    parser.add_argument("--model", default="yolo11n.yaml", help="yaml or .pt")
    parser.add_argument("--out", type=Path, default=Path("runs/detection"))
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--imgsz", type=int, default=640, help="square side, pixels")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument(
        "--slot",
        default="idcard_detector",
        choices=("phone_detector", "idcard_detector"),
    )
    args = parser.parse_args(argv)
    if not args.data.is_file():
        parser.error(f"no data file at {args.data}")

    try:
        best = train(
            args.data, args.model, args.out, args.epochs, args.imgsz, args.batch
        )
    except UltralyticsUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"weights: {best}")
    for line in rollout_lines(best, args.slot, args.imgsz):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
