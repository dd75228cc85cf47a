"""Sentiment service benchmark: emotion accuracy, head-pose sign, latency.

Prints one table per question, each with the alternative measured in the same run
on the same images: the bare fer emotion model on the same crops (no alignment,
no flip averaging), the five-point yaw estimate beside the face mesh, the Keras
copy of the emotion model beside its TFLite copy, and the fer package's own
pipeline (Haar cascade + its model) for latency when TensorFlow is installed.
Needs ../shared/data for the accuracy tables (photos are never copied into the
repo); the latency table falls back to a photo shipped with matplotlib.

    .venv/bin/python benchmarks/sentiment_benchmark.py [--runs 50]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import cv2
import matplotlib
import numpy as np
from attendance_ml.core.imaging import ImageLimits, decode_image
from attendance_ml.sentiment.analysis import SentimentModels
from attendance_ml.sentiment.emotion import EMOTIONS, EmotionModel, load_emotion_model
from attendance_ml.sentiment.settings import SentimentSettings
from attendance_ml.sentiment.signals import face_signals, five_point_yaw

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HOPPER = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
LIMITS = ImageLimits(max_pixels=100_000_000, max_bytes=50_000_000)
FER_FOLDERS = {
    "angry": "angry",
    "disgust": "disgusted",
    "fear": "fearful",
    "happy": "happy",
    "neutral": "neutral",
    "sad": "sad",
    "surprise": "surprised",
}
# deepface_dataset photos labelled by eye for this benchmark: a clear smile (teeth
# or a broad closed smile) versus a serious or speaking face. Faint smiles left out.
SMILING = [1, 3, 8, 9, 15, 16, 17, 21, 22, 23, 24, 25, 26, 28, 38, 39, 40, 41, 42]
SMILING += [43, 44, 46, 49, 50, 55, 58]
SERIOUS = [2, 4, 5, 6, 7, 10, 13, 14, 27, 29, 30, 31, 32, 33, 34, 35, 36, 45, 47]
SERIOUS += [51, 53, 57, 59, 61, 62, 67]
# Turned faces checked by eye: (photo under faces/, face index, sign of yaw).
# +1: the subject turned to their left (nose towards the image's right edge).
TURNED = [
    ("lfw_mini/images/Steven_Spielberg/Steven_Spielberg_0002.jpg", 0, +1),
    ("lfw_mini/images/John_Allen_Muhammad/John_Allen_Muhammad_0002.jpg", 1, -1),
    ("lfw_mini/images/Kim_Dae-jung/Kim_Dae-jung_0003.jpg", 0, +1),
    ("face_recognition_examples/examples/knn_examples/test/obama_and_biden.jpg", 2, -1),
    ("face_recognition_examples/examples/obama2.jpg", 0, -1),
    ("deepface_dataset/couple.jpg", 0, +1),
    ("deepface_dataset/couple.jpg", 1, +1),
    ("deepface_dataset/img34.jpg", 0, -1),
    ("deepface_dataset/img61.jpg", 0, -1),
    ("deepface_dataset/img11.jpg", 0, +1),
    ("deepface_dataset/img11_reflection.jpg", 0, -1),
]


def load(path: Path) -> np.ndarray:
    return decode_image(path.read_bytes(), LIMITS)


def timed(function: Callable[[], object], runs: int) -> str:
    """Wall-clock p50 and p95 and process CPU p50 per call, in ms, as table cells.

    CPU time (all threads of this process) shows what a call costs when the
    machine is shared: wall time then includes waiting for other processes.
    """
    function()
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return (
        f"{statistics.median(wall):7.1f} | {np.percentile(wall, 95):7.1f} "
        f"| {statistics.median(cpu):7.1f}"
    )


def fer_style_crop(grey: np.ndarray, box: tuple[float, ...]) -> np.ndarray:
    """The crop fer's detect_emotions takes for a given box: squared, 10 px wider
    on each side, padded with the mean of the bottom rows, resized to 64x64."""
    pad = 40
    mean = float(grey[-2:].mean())
    padded = cv2.copyMakeBorder(
        grey, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=mean
    )
    x, y = int(box[0]), int(box[1])
    w, h = int(box[2] - box[0]), int(box[3] - box[1])
    if h > w:
        x, w = x - (h - w) // 2, h
    else:
        y, h = y - (w - h) // 2, w
    x1, y1 = max(0, x - 10 + pad), max(0, y - 10 + pad)
    crop = padded[y1 : y + h + 10 + pad, x1 : x + w + 10 + pad]
    return cv2.resize(crop, (64, 64))[..., np.newaxis]


def bare_label(model: EmotionModel, crop: np.ndarray) -> str:
    return EMOTIONS[int(model.scores(crop[np.newaxis]).argmax())]


def service_label(models: SentimentModels, image: np.ndarray) -> str | None:
    readings = models.analyze(image)
    return readings[0].primary_emotion if readings else None


def fer_accuracy(models: SentimentModels) -> None:
    rows = [
        (FER_FOLDERS[path.parent.name], load(path))
        for path in sorted((DATA / "emotion_fer2013_sample").glob("*/*.jpg"))
    ]
    bare = service = missed = 0
    for label, image in rows:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        crop = cv2.resize(grey, (64, 64))[..., np.newaxis]
        bare += bare_label(models.emotion, crop) == label
        predicted = service_label(models, image)
        service += predicted == label
        missed += predicted is None
    total = len(rows)
    print(f"\n## 7-class accuracy, FER2013 sample ({total} crops of 48x48 grey)\n")
    print("| pipeline | correct | accuracy |\n|---|---|---|")
    print(f"| bare fer model on the whole crop | {bare}/{total} | {bare / total:.0%} |")
    print(
        f"| service: detect, align, flip-average | {service}/{total} "
        f"| {service / total:.0%} (no face found: {missed}) |"
    )


def happy_accuracy(models: SentimentModels) -> None:
    folder = DATA / "faces" / "deepface_dataset"
    rows = [(True, n) for n in SMILING] + [(False, n) for n in SERIOUS]
    bare_right = service_right = 0
    for smiling, number in rows:
        image = load(folder / f"img{number}.jpg")
        faces = models.detector.detect(image)
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        bare_right += (
            bare_label(models.emotion, fer_style_crop(grey, faces[0].box)) == "happy"
        ) == smiling
        service_right += (service_label(models, image) == "happy") == smiling
    total = len(rows)
    print(
        f"\n## Happy vs not, {len(SMILING)} smiling and {len(SERIOUS)} serious "
        "faces (deepface_dataset)\n"
    )
    print("| pipeline | correct | accuracy |\n|---|---|---|")
    print(
        f"| bare fer model, fer-style crop of the same box | {bare_right}/{total} "
        f"| {bare_right / total:.0%} |"
    )
    print(
        f"| service: aligned crop, flip-average | {service_right}/{total} "
        f"| {service_right / total:.0%} |"
    )


def head_pose_signs(models: SentimentModels) -> None:
    print(f"\n## Head-pose sign on {len(TURNED)} turned faces\n")
    print("| photo | face | expected | mesh yaw | five-point yaw |")
    print("|---|---|---|---|---|")
    mesh_right = five_right = 0
    for relative, index, sign in TURNED:
        image = load(DATA / "faces" / relative)
        face = models.detector.detect(image)[index]
        geometry = models.landmarker.analyze(image, face)
        mesh_yaw = geometry.yaw if geometry else float("nan")
        rough = five_point_yaw(face)
        mesh_right += bool(np.sign(mesh_yaw) == sign)
        five_right += bool(np.sign(rough) == sign)
        expected = "+ (their left)" if sign > 0 else "- (their right)"
        print(
            f"| {Path(relative).name} | {index} | {expected} | {mesh_yaw:+.1f} "
            f"| {rough:+.1f} |"
        )
    print(
        f"| **signs right** | | | {mesh_right}/{len(TURNED)} "
        f"| {five_right}/{len(TURNED)} |"
    )


def frames() -> tuple[np.ndarray, np.ndarray]:
    """640x480 frames with one face and with five faces."""
    hopper = load(HOPPER)
    one = np.full((480, 640, 3), 90, np.uint8)
    face = cv2.resize(hopper, (200, 234))
    one[120:354, 220:420] = face

    five = np.full((480, 640, 3), 90, np.uint8)
    sources = sorted((DATA / "faces" / "lfw_mini" / "images").glob("*/*_0001.jpg"))
    for slot in range(5):
        if len(sources) >= 5:
            tile = load(sources[slot])[40:210, 50:200]
        else:
            tile = (
                hopper[60:400, 100:420] if slot % 2 else hopper[60:400, 100:420, ::-1]
            )
        tile = cv2.resize(np.ascontiguousarray(tile), (120, 136))
        top, left = 60 + 160 * (slot // 3), 20 + 210 * (slot % 3)
        five[top : top + 136, left : left + 120] = tile
    return one, five


def latency(models: SentimentModels, runs: int) -> None:
    one, five = frames()
    counts = {
        name: len(models.analyze(frame)) for name, frame in (("1", one), ("5", five))
    }

    def pipeline(frame: np.ndarray) -> Callable[[], object]:
        def run() -> object:
            return [
                face_signals(r.face, r.geometry, r.scores, None)
                for r in models.analyze(frame)
            ]

        return run

    print(
        f"\n## Latency per 640x480 frame, ms ({runs} runs, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f})\n"
    )
    print("| pipeline | faces found | p50 | p95 | CPU p50 | target p50 |")
    print("|---|---|---|---|---|---|")
    print(f"| service, 1 face | {counts['1']} | {timed(pipeline(one), runs)} | 40 |")
    print(f"| service, 5 faces | {counts['5']} | {timed(pipeline(five), runs)} | 100 |")

    face = models.detector.detect(one)[0]
    parts = {
        "RetinaFace detector": lambda: models.detector.detect(one),
        "face mesh, one face": lambda: models.landmarker.analyze(one, face),
        "emotion, one face with flip": lambda: models.emotion_scores(one, [face]),
    }
    for name, call in parts.items():
        print(f"| part: {name} | 1 | {timed(call, runs)} | |")


def fer_package_latency(runs: int) -> None:
    """fer's own pipeline (Haar cascade + its model through TensorFlow Lite)."""
    one, five = frames()
    print(f"\n## fer package pipeline per 640x480 frame, ms ({runs} runs)\n")
    print("| pipeline | faces found | p50 | p95 | CPU p50 |\n|---|---|---|---|---|")
    if importlib.util.find_spec("tensorflow") is None:
        print("| fer package (Haar + model) | needs TensorFlow: not installed | | | |")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fer.fer import FER

        detector = FER()
        for name, frame in (("1", one), ("5", five)):
            bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
            found = len(detector.detect_emotions(bgr))
            samples = timed(lambda bgr=bgr: detector.detect_emotions(bgr), runs)
            print(
                f"| fer package (Haar + model), {name} face(s) | {found} | {samples} |"
            )


def runtimes(settings: SentimentSettings, runs: int) -> None:
    """The emotion model per crop: TFLite via LiteRT against Keras via TensorFlow."""
    crop = cv2.resize(cv2.cvtColor(load(HOPPER), cv2.COLOR_RGB2GRAY), (64, 64))
    batch = crop[np.newaxis, ..., np.newaxis]
    print(f"\n## Emotion model runtime, one 64x64 crop, ms ({runs} runs)\n")
    print(
        "| runtime | p50 | p95 | CPU p50 | agrees with TFLite |\n|---|---|---|---|---|"
    )
    cache = settings.core.data_dir / "models" / "sentiment"
    tflite = load_emotion_model(settings.emotion_model, cache, 1)
    print(
        "| TFLite via ai-edge-litert "
        f"| {timed(lambda: tflite.scores(batch), runs)} | - |"
    )
    if importlib.util.find_spec("tensorflow") is None:
        print("| Keras via TensorFlow | not installed | | | |")
        return
    from dataclasses import replace

    keras = load_emotion_model(
        replace(settings.emotion_model, format="keras"), cache, 1
    )
    difference = float(np.abs(keras.scores(batch) - tflite.scores(batch)).max())
    print(
        f"| Keras via TensorFlow | {timed(lambda: keras.scores(batch), runs)} "
        f"| max difference {difference:.3f} |"
    )


def _sentiment_variables() -> dict[str, str]:
    """The caller's ATTENDANCE_SENTIMENT_* settings (e.g. DETECTOR_THREADS)."""
    return {
        k: v for k, v in os.environ.items() if k.startswith("ATTENDANCE_SENTIMENT_")
    }


SECTIONS = ("latency", "accuracy", "runtime", "fer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per row")
    parser.add_argument(
        "--only", choices=SECTIONS, action="append", help="run only these tables"
    )
    args = parser.parse_args()
    sections = args.only or SECTIONS

    settings = SentimentSettings.from_env(
        {"ATTENDANCE_LOG_LEVEL": "WARNING"} | _sentiment_variables()
    )
    models = SentimentModels.load(settings)
    models.warm_up()
    print("# Sentiment service benchmark")
    # Latency first, before anything imports TensorFlow into the process.
    if "latency" in sections:
        latency(models, args.runs)
    if "accuracy" in sections and DATA.is_dir():
        fer_accuracy(models)
        happy_accuracy(models)
        head_pose_signs(models)
    elif "accuracy" in sections:
        print(f"\n(accuracy tables skipped: {DATA} not found)")
    if "runtime" in sections:
        runtimes(settings, args.runs)
    if "fer" in sections:
        fer_package_latency(args.runs)


if __name__ == "__main__":
    main()
