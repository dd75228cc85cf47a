"""Liveness benchmark: the passive flag on real photos, the active challenge on
frame sequences synthesised from real photos. Prints tables; needs ../shared/data.

Synthesised sequences: for each identity with a frontal photo and a turned photo
(|yaw| > 18 degrees by the mesh), "turn left then right" is frontal, turned, frontal,
the turned photo mirrored, frontal. Attacks built from the same photos: a still
photo repeated, the two turns in the wrong order, and another person's face spliced
in. Blinks are not synthesised (no closed-eye photos in the set).

    .venv/bin/python benchmarks/liveness_benchmark.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from attendance_ml.core.errors import ServiceError
from attendance_ml.core.imaging import ImageLimits, decode_image
from attendance_ml.face.challenge import FrameReading, judge
from attendance_ml.face.faces import embed_subjects, verification_subject
from attendance_ml.face.models import FaceModels
from attendance_ml.face.passive_liveness import passive_liveness
from attendance_ml.face.settings import FaceSettings

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
LIMITS = ImageLimits(max_pixels=100_000_000, max_bytes=50_000_000)


def load(path: Path) -> np.ndarray:
    return decode_image(path.read_bytes(), LIMITS)


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    print(f"\n{title}")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


class Reader:
    """Turns frames into the readings the challenge judge sees."""

    def __init__(self) -> None:
        self.settings = FaceSettings.from_env({"ATTENDANCE_LOG_LEVEL": "WARNING"})
        self.models = FaceModels.load(self.settings)

    def reading(self, image: np.ndarray) -> tuple[FrameReading, np.ndarray | None]:
        try:
            subject = verification_subject(self.models, image, self.settings)
        except ServiceError:
            return FrameReading(has_face=False), None
        vector = embed_subjects(self.models, [subject])[0]
        geometry = self.models.landmarker.analyze(image, subject.face)
        if geometry is None:
            return FrameReading(has_face=True), vector
        return FrameReading(True, True, geometry.yaw, geometry.eye_openness), vector

    def sequence(self, frames: list[np.ndarray]) -> list[FrameReading]:
        readings, first = [], None
        for frame in frames:
            reading, vector = self.reading(frame)
            if vector is not None:
                first = vector if first is None else first
                same = np.linalg.norm(vector - first) <= self.settings.verify_threshold
                reading = FrameReading(True, same, reading.yaw, reading.eye_openness)
            readings.append(reading)
        return readings


def passive_rows(reader: Reader) -> list[list[object]]:
    samples = sorted((DATA / "liveness_samples").glob("*.jpg"))
    live_sets = sorted((DATA / "faces" / "face_recognition_examples").rglob("*.jpg"))
    live_sets += sorted((DATA / "faces" / "deepface_dataset").glob("img*.jpg"))
    groups = {
        "attacks (liveness_samples F*)": [
            p for p in samples if p.name.startswith("image_F")
        ],
        "live (liveness_samples T*)": [
            p for p in samples if p.name.startswith("image_T")
        ],
        "live (face photo sets)": live_sets,
    }
    rows = []
    for label, paths in groups.items():
        flagged = uncertain = no_face = 0
        for path in paths:
            image = load(path)
            try:
                subject = verification_subject(reader.models, image, reader.settings)
            except ServiceError:
                no_face += 1
                continue
            if passive_liveness(image, subject.face).decision == "spoof":
                flagged += 1
            else:
                uncertain += 1
        rows.append([label, len(paths), flagged, uncertain, no_face])
    return rows


def turned_pairs(reader: Reader) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(identity, frontal photo, photo turned to the subject's left) per identity."""
    people: dict[str, list[Path]] = {}
    for person in sorted((DATA / "faces" / "lfw_mini" / "images").iterdir()):
        people[person.name] = sorted(person.glob("*.jpg"))
    pairs = []
    for name, paths in people.items():
        frontal = turned = None
        for path in paths:
            image = load(path)
            reading, _ = reader.reading(image)
            if reading.yaw is None:
                continue
            if abs(reading.yaw) < 8 and frontal is None:
                frontal = image
            elif abs(reading.yaw) > 22 and turned is None:
                turned = (
                    image if reading.yaw > 0 else np.ascontiguousarray(image[:, ::-1])
                )
        if frontal is not None and turned is not None:
            pairs.append((name, frontal, turned))
    return pairs


def active_rows(reader: Reader) -> list[list[object]]:
    pairs = turned_pairs(reader)
    actions = ("turn_left", "turn_right")
    cases = {
        "genuine, asked order": [],
        "still photo": [],
        "wrong order": [],
        "another person spliced in": [],
    }
    for position, (_, frontal, left) in enumerate(pairs):
        right = np.ascontiguousarray(left[:, ::-1])
        other = pairs[(position + 1) % len(pairs)][2]
        cases["genuine, asked order"].append([frontal, left, frontal, right, frontal])
        cases["still photo"].append([frontal] * 5)
        cases["wrong order"].append([frontal, right, frontal, left, frontal])
        cases["another person spliced in"].append(
            [frontal, other, frontal, right, frontal]
        )

    rows = []
    for label, sequences in cases.items():
        results = [
            judge(actions, reader.sequence(frames)).result for frames in sequences
        ]
        rows.append(
            [
                label,
                len(results),
                results.count("pass"),
                results.count("fail"),
                results.count("uncertain"),
            ]
        )
    return rows


def main() -> int:
    if not DATA.is_dir():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 2
    reader = Reader()
    print_table(
        "Passive flag (bracketing edges): photos flagged as spoof",
        ["photos", "count", "spoof", "uncertain", "no face/refused"],
        passive_rows(reader),
    )
    print_table(
        "Active challenge 'turn_left, turn_right' on sequences synthesised from LFW "
        "photos (mirroring makes the other direction)",
        ["sequence", "count", "pass", "fail", "uncertain"],
        active_rows(reader),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
