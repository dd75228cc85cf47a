"""Benchmark phone and ID-card detection on the shared photo set; prints tables.

    python benchmarks/detection_benchmark.py [--data ../shared/data] [--repeats 3]

Phones: image-level precision and recall on classroom_phone (sample_3 frames have
students using phones, sample_1 and sample_2 none), at several thresholds, for the
kept CenterNet and the evaluated NanoDet (when `make detection-models` has built it
into .venv-convert/out/). "on person" counts positive frames where a phone box lies
inside an annotated phone_use box (the labels box the person, not the phone), so it
shows whether a hit is on the right spot. ID cards: the built-in pipeline on
idcard_lanyard (positives) against card-free face photos (negatives), beside the
obvious alternative of reading text anywhere in the frame with OCR. Latency is per
640x480 frame (median and p95 over every frame, after one warm-up).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from attendance_ml.core.face_detection import RetinaFaceDetector
from attendance_ml.core.metrics import ModelInfo
from attendance_ml.detection.centernet import CenterNetDetector
from attendance_ml.detection.idcard import IdCardPipeline
from attendance_ml.detection.nanodet import NanoDetDetector
from attendance_ml.detection.ocr import TextReader
from attendance_ml.detection.settings import DEFAULT_MODELS_DIR, DetectionSettings
from attendance_ml.detection.tiling import TiledDetector

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = DetectionSettings.from_env({})
PHONE_THRESHOLDS = (0.1, 0.2, DEFAULTS.phone_min_confidence, 0.4)
OCR_SUBSET = 12  # frames per class for the slow whole-frame OCR alternative


def load_rgb(path: Path, max_side: int = 640) -> np.ndarray:
    image = cv2.imread(str(path))[..., ::-1]
    scale = min(1.0, max_side / max(image.shape[:2]))
    if scale < 1.0:
        image = cv2.resize(
            image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA
        )
    return np.ascontiguousarray(image)


def as_640x480(image: np.ndarray) -> np.ndarray:
    return cv2.resize(image, (640, 480), interpolation=cv2.INTER_AREA)


def latency_ms(
    run: Callable[[np.ndarray], object], frames: list[np.ndarray], repeats: int
):
    run(frames[0])
    times = []
    for _ in range(repeats):
        for frame in frames:
            started = time.perf_counter()
            run(frame)
            times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times)), float(np.percentile(times, 95))


def phone_use_boxes(label_file: Path, size: int) -> list[tuple[float, ...]]:
    """Axis-aligned boxes around the phone_use (class 4) oriented boxes, pixels."""
    boxes = []
    for line in label_file.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "4":
            points = np.array(parts[1:9], float).reshape(4, 2) * size
            boxes.append((*points.min(axis=0), *points.max(axis=0)))
    return boxes


def inside(box, area) -> bool:
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return area[0] <= centre_x <= area[2] and area[1] <= centre_y <= area[3]


def phone_table(data: Path, repeats: int) -> None:
    folder = data / "classroom_phone" / "test"
    paths = sorted((folder / "images").glob("*.jpg"))
    frames = [load_rgb(path) for path in paths]
    positive = ["sample_3_" in path.name for path in paths]
    areas = [
        phone_use_boxes(folder / "labels" / f"{path.stem}.txt", frame.shape[1])
        for path, frame in zip(paths, frames, strict=True)
    ]

    info = ModelInfo("phone_detector", "bench", "0")
    detectors = {
        "CenterNet (kept)": CenterNetDetector(
            DEFAULT_MODELS_DIR / "centernet-mobilenetv3.onnx", info
        )
    }
    detectors["CenterNet, 2x2 tiles (PHONE_TILES=2)"] = TiledDetector(
        detectors["CenterNet (kept)"], 2
    )
    nanodet = ROOT / ".venv-convert" / "out" / "nanodet-m.onnx"
    if nanodet.is_file():
        detectors["NanoDet-m"] = NanoDetDetector(nanodet, info)

    print(
        f"\nPhones: classroom_phone, {sum(positive)} frames with phones, "
        f"{len(paths) - sum(positive)} without (640x640 overhead frames)"
    )
    print(
        "| model | threshold | TP | FP | FN | precision | recall | on person "
        "| p50 ms | p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, detector in detectors.items():
        found = [
            detector.detect(frame, min(PHONE_THRESHOLDS), ["cell phone"])
            for frame in frames
        ]
        timing = latency_ms(
            lambda frame, d=detector: d.detect(
                frame, DEFAULTS.phone_min_confidence, ["cell phone"]
            ),
            [as_640x480(frame) for frame in frames],
            repeats,
        )
        for threshold in PHONE_THRESHOLDS:
            hits = [
                [item for item in items if item.confidence >= threshold]
                for items in found
            ]
            tp = sum(1 for h, p in zip(hits, positive, strict=True) if h and p)
            fp = sum(1 for h, p in zip(hits, positive, strict=True) if h and not p)
            fn = sum(1 for h, p in zip(hits, positive, strict=True) if not h and p)
            on_person = sum(
                1
                for h, p, boxes in zip(hits, positive, areas, strict=True)
                if p and any(inside(item.box, area) for item in h for area in boxes)
            )
            mark = " (default)" if threshold == DEFAULTS.phone_min_confidence else ""
            print(
                f"| {name} | {threshold}{mark} | {tp} | {fp} | {fn} | "
                f"{tp / max(tp + fp, 1):.2f} | {tp / max(tp + fn, 1):.2f} | "
                f"{on_person} | "
                f"{timing[0]:.0f} | {timing[1]:.0f} |"
            )


def card_box(image_path: Path) -> tuple[float, float, float, float]:
    """The YOLO label of a 640x640 lanyard frame as x1, y1, x2, y2 pixels."""
    label = image_path.parent.parent / "labels" / f"{image_path.stem}.txt"
    _, cx, cy, w, h = (float(v) * 640 for v in label.read_text().split()[:5])
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def card_sets(data: Path) -> tuple[list[Path], list[Path]]:
    positives = sorted((data / "idcard_lanyard").glob("*/images/*.jpg"))
    faces = data / "faces"
    negatives = sorted((faces / "deepface_dataset").glob("*.jpg"))
    negatives += sorted((faces / "face_recognition_examples").rglob("*.jpg"))
    return positives, negatives


def idcard_table(data: Path, repeats: int) -> None:
    positives, negatives = card_sets(data)
    frames = [load_rgb(path) for path in positives + negatives]
    truth = [True] * len(positives) + [False] * len(negatives)
    reader = TextReader()
    pipeline = IdCardPipeline(RetinaFaceDetector(), reader)
    threshold = DEFAULTS.idcard_min_confidence

    def ocr_anywhere(frame: np.ndarray) -> bool:
        return bool(reader.text_lines(frame))

    print(
        f"\nID cards: {len(positives)} lanyard photos (positives), "
        f"{len(negatives)} card-free face photos (negatives)"
    )
    print(
        "| method | frames | TP | FP | FN | TN | precision | recall | p50 ms | p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    found = [pipeline.detect(frame, threshold) for frame in frames]
    predicted = [bool(items) for items in found]
    on_card = sum(
        1
        for path, items in zip(positives, found[: len(positives)], strict=True)
        if any(inside(item.box, card_box(path)) for item in items)
    )
    timing = latency_ms(
        lambda f: pipeline.detect(f, threshold),
        [as_640x480(f) for f in frames],
        repeats,
    )
    print(_row(f"pipeline, threshold {threshold} (default)", truth, predicted, timing))
    print(
        f"(pipeline boxes centred on the labelled card: {on_card} of {len(positives)})"
    )

    subset = list(range(OCR_SUBSET)) + list(
        range(len(positives), len(positives) + OCR_SUBSET)
    )
    sub_frames = [frames[index] for index in subset]
    sub_truth = [truth[index] for index in subset]
    sub_predicted = [ocr_anywhere(frame) for frame in sub_frames]
    timing = latency_ms(ocr_anywhere, [as_640x480(f) for f in sub_frames], 1)
    print(
        _row(
            "alternative: any text in the frame (rapidocr)",
            sub_truth,
            sub_predicted,
            timing,
        )
    )
    sub_pipeline = [predicted[index] for index in subset]
    print(_row("pipeline on the same subset", sub_truth, sub_pipeline, None))


def _row(name, truth, predicted, timing) -> str:
    tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t and p)
    fp = sum(1 for t, p in zip(truth, predicted, strict=True) if p and not t)
    fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t and not p)
    tn = len(truth) - tp - fp - fn
    times = f"{timing[0]:.0f} | {timing[1]:.0f}" if timing else "- | -"
    return (
        f"| {name} | {len(truth)} | {tp} | {fp} | {fn} | {tn} | "
        f"{tp / max(tp + fp, 1):.2f} | {tp / max(tp + fn, 1):.2f} | {times} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--repeats", type=int, default=2, help="timed passes per set")
    parser.add_argument("--only", choices=("phone", "idcard"), help="one table only")
    args = parser.parse_args()
    if not args.data.is_dir():
        parser.error(f"no shared photo set at {args.data}")
    if args.only in (None, "phone"):
        phone_table(args.data, args.repeats)
    if args.only in (None, "idcard"):
        idcard_table(args.data, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
