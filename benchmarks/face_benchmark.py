"""Face service benchmark: accuracy, open-set identification, latency, 1:N scaling.

Prints one table per question, with the ``face_recognition`` package (dlib HOG
detector + the same ResNet, the usual home-made pipeline) measured in the same run
on the same images. Needs ../shared/data (photos are never copied into the repo).

    .venv/bin/python benchmarks/face_benchmark.py [--runs 30]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from attendance_ml.core.errors import ServiceError
from attendance_ml.core.imaging import ImageLimits, decode_image
from attendance_ml.face.faces import (
    embed_subjects,
    enrolment_subject,
    verification_subject,
)
from attendance_ml.face.index import EmbeddingIndex
from attendance_ml.face.models import FaceModels
from attendance_ml.face.settings import FaceSettings
from PIL import Image

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LIMITS = ImageLimits(max_pixels=100_000_000, max_bytes=50_000_000)


def load(path: Path) -> np.ndarray:
    return decode_image(path.read_bytes(), LIMITS)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def timed(function: Callable[[], object], runs: int) -> list[float]:
    function()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    print(f"\n{title}")
    widths = [
        max(len(str(x)) for x in column) for column in zip(header, *rows, strict=False)
    ]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


class OurPipeline:
    name = "attendance-ml (RetinaFace + dlib ResNet)"

    def __init__(self, settings: FaceSettings) -> None:
        self.settings = settings
        self.models = FaceModels.load(settings)
        self.models.warm_up()

    def embed(self, image: np.ndarray) -> np.ndarray | None:
        try:
            subject = verification_subject(self.models, image, self.settings)
        except ServiceError:
            return None
        return embed_subjects(self.models, [subject])[0]

    def embed_largest(self, image: np.ndarray) -> np.ndarray | None:
        """The largest face, as for a 1:1 pair comparison (no dominance rule)."""
        faces = self.models.detector.detect(image)
        if not faces:
            return None
        chip = self.models.embedder.align(image, faces[0]).chip
        return self.models.embedder.embed([chip])[0]

    def enrol(self, image: np.ndarray) -> np.ndarray | None:
        try:
            subject = enrolment_subject(self.models, image, self.settings)
        except ServiceError:
            return None
        return embed_subjects(self.models, [subject])[0]


class FaceRecognitionPackage:
    name = "face_recognition 1.3.0 (HOG + dlib ResNet)"

    def __init__(self) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import face_recognition
        self.fr = face_recognition

    def embed(self, image: np.ndarray) -> np.ndarray | None:
        boxes = self.fr.face_locations(image)
        if not boxes:
            return None
        largest = max(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
        return np.asarray(self.fr.face_encodings(image, [largest])[0], np.float32)

    enrol = embed
    embed_largest = embed


def pair_accuracy(runs) -> list[list[object]]:
    """runs: (label, pipeline, threshold) triples."""
    root = DATA / "faces" / "lfw_mini"
    with open(root / "pairs.csv") as handle:
        pairs = [
            (root / a.removeprefix("mini/"), root / b.removeprefix("mini/"), s == "1")
            for a, b, s in list(csv.reader(handle))[1:]
        ]
    images = {p: load(p) for pair in pairs for p in pair[:2]}
    rows = []
    vectors_of = {}
    for label, pipeline, threshold in runs:
        if pipeline not in vectors_of:
            vectors_of[pipeline] = {
                path: pipeline.embed_largest(image) for path, image in images.items()
            }
        vectors = vectors_of[pipeline]
        same_ok = diff_ok = same_total = diff_total = failed = 0
        for a, b, same in pairs:
            if vectors[a] is None or vectors[b] is None:
                failed += 1
                accepted = False  # a face not found is a rejection
            else:
                accepted = float(np.linalg.norm(vectors[a] - vectors[b])) <= threshold
            if same:
                same_total += 1
                same_ok += accepted
            else:
                diff_total += 1
                diff_ok += not accepted
        accuracy = (same_ok + diff_ok) / len(pairs)
        rows.append(
            [
                label,
                threshold,
                f"{accuracy:.2%}",
                f"{(diff_total - diff_ok) / diff_total:.2%}",
                f"{(same_total - same_ok) / same_total:.2%}",
                failed,
            ]
        )
    return rows


# deepface's cluster 0 (img1.jpg) is Angelina Jolie, who is also in LFW mini: one
# identity, or the benchmark would count her as a stranger matching herself.
SAME_PEOPLE = {"0": "lfw:Angelina_Jolie"}


def identity_sets() -> dict[str, list[Path]]:
    """Identities with at least 3 photos: LFW mini and the deepface set."""
    people: dict[str, list[Path]] = {}
    for person in sorted((DATA / "faces" / "lfw_mini" / "images").iterdir()):
        people[f"lfw:{person.name}"] = sorted(person.glob("*.jpg"))
    deepface = DATA / "faces" / "deepface_dataset"
    with open(deepface / "identities_derived.csv") as handle:
        for row in csv.DictReader(handle):
            path = deepface / row["file"]
            if path.is_file() and "reflection" not in row["file"]:
                name = SAME_PEOPLE.get(
                    row["cluster_id"], f"deepface:{row['cluster_id']}"
                )
                people.setdefault(name, []).append(path)
    return {name: paths for name, paths in people.items() if len(paths) >= 3}


def open_set(runs) -> list[list[object]]:
    """runs: (label, pipeline, threshold) triples."""
    people = identity_sets()
    names = sorted(people)
    enrolled = set(names[::2])
    rows = []
    for label, pipeline, threshold in runs:
        index = EmbeddingIndex()
        for name in enrolled:
            for path in people[name][:2]:
                vector = pipeline.enrol(load(path))
                if vector is not None:
                    index.add(name, vector[None, :])
        correct = wrong = unknown_ok = false_accept = missed = no_face = 0
        for name in names:
            probes = people[name][2:] if name in enrolled else people[name]
            for path in probes:
                vector = pipeline.embed(load(path))
                if vector is None:
                    no_face += 1
                    continue
                match = index.search(vector)
                found = match.student_id if match.distance <= threshold else None
                if name in enrolled:
                    if found == name:
                        correct += 1
                    elif found is None:
                        missed += 1
                    else:
                        wrong += 1
                elif found is None:
                    unknown_ok += 1
                else:
                    false_accept += 1
        rows.append(
            [
                label,
                threshold,
                len(enrolled),
                len(names) - len(enrolled),
                correct,
                missed,
                wrong,
                unknown_ok,
                false_accept,
                no_face,
            ]
        )
    return rows


def latency(ours: OurPipeline, theirs: FaceRecognitionPackage, runs: int):
    photo = load(
        DATA / "faces" / "lfw_mini" / "images" / "Bill_Simon" / "Bill_Simon_0001.jpg"
    )
    frame = np.full((480, 640, 3), 120, dtype=np.uint8)
    face = np.asarray(Image.fromarray(photo).resize((320, 320)))
    frame[80:400, 160:480] = face

    index = EmbeddingIndex()
    index.add("someone", ours.embed(frame)[None, :])
    models, settings = ours.models, ours.settings
    subject = verification_subject(models, frame, settings)

    def our_verify():
        found = verification_subject(models, frame, settings)
        index.search(embed_subjects(models, [found])[0])

    def their_verify():
        index.search(theirs.embed(frame))

    fr = theirs.fr
    boxes = fr.face_locations(frame)
    measurements = [
        (
            "detect",
            lambda: models.detector.detect(frame),
            lambda: fr.face_locations(frame),
        ),
        (
            "align + embed",
            lambda: models.embedder.embed(
                [models.embedder.align(frame, subject.face).chip]
            ),
            lambda: fr.face_encodings(frame, boxes),
        ),
        ("verify (detect+embed+1:N)", our_verify, their_verify),
    ]
    rows = []
    for stage, mine, other in measurements:
        a, b = timed(mine, runs), timed(other, runs)
        rows.append(
            [
                stage,
                f"{statistics.median(a):.1f}",
                f"{percentile(a, 95):.1f}",
                f"{statistics.median(b):.1f}",
                f"{percentile(b, 95):.1f}",
                f"{statistics.median(b) / statistics.median(a):.1f}x",
            ]
        )
    return rows


def one_to_n(runs: int) -> list[list[object]]:
    rng = np.random.default_rng(0)
    rows = []
    for size in (10_000, 100_000):
        vectors = rng.normal(0, 0.1, (size, 128)).astype(np.float32)
        ids = [f"s{i // 5}" for i in range(size)]
        index = EmbeddingIndex()
        index.replace_all(ids, vectors)
        query = vectors[123] + rng.normal(0, 0.01, 128).astype(np.float32)
        samples = timed(lambda index=index, query=query: index.search(query), runs)
        rows.append(
            [
                f"{size:,}",
                f"{statistics.median(samples):.2f}",
                f"{percentile(samples, 95):.2f}",
            ]
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 2

    settings = FaceSettings.from_env({"ATTENDANCE_LOG_LEVEL": "WARNING"})
    ours, theirs = OurPipeline(settings), FaceRecognitionPackage()
    verify_at, identify_at = settings.verify_threshold, settings.identify_threshold

    print_table(
        "LFW pairs (200 same / 200 different), largest face of each photo",
        ["pipeline", "threshold", "accuracy", "FAR", "FRR", "no face"],
        pair_accuracy(
            [
                (f"{ours.name}, 1:1 default", ours, verify_at),
                (f"{ours.name}, 1:N default", ours, identify_at),
                (f"{theirs.name}, default tolerance", theirs, 0.6),
            ]
        ),
    )
    print_table(
        "Open-set identification (every other identity enrolled with 2 photos, "
        "all other photos probed; a stranger must come back unknown)",
        [
            "pipeline",
            "threshold",
            "enrolled ids",
            "stranger ids",
            "correct",
            "missed",
            "wrong id",
            "stranger unknown",
            "stranger accepted",
            "no face/refused",
        ],
        open_set(
            [
                (f"{ours.name}, 1:N default", ours, identify_at),
                (f"{theirs.name}, default tolerance", theirs, 0.6),
            ]
        ),
    )
    print_table(
        f"Latency on a 640x480 one-face frame, ms over {args.runs} runs (2 cores)",
        [
            "stage",
            "ours p50",
            "ours p95",
            "face_recognition p50",
            "face_recognition p95",
            "speed-up",
        ],
        latency(ours, theirs, args.runs),
    )
    print_table(
        "One 1:N query (128-d, exhaustive, in-memory matrix), ms",
        ["gallery faces", "p50", "p95"],
        one_to_n(max(args.runs, 50)),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
