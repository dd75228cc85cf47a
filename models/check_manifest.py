"""Check that every committed model file matches models/manifest.json.

    python models/check_manifest.py [--single-opencv]

With ``--single-opencv`` it also checks that exactly one OpenCV distribution is
installed (ultralytics, mediapipe and fer each pull their own, which replace cv2).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import sys
from pathlib import Path

MODELS = Path(__file__).resolve().parent
OPENCV = {
    "opencv-python",
    "opencv-python-headless",
    "opencv-contrib-python",
    "opencv-contrib-python-headless",
}


def check_files() -> list[str]:
    problems = []
    manifest = json.loads((MODELS / "manifest.json").read_text())
    for entry in manifest["models"]:
        if not entry["committed"]:
            continue
        path = MODELS / entry["file"]
        if not path.is_file():
            problems.append(f"{path} is missing")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry["sha256"]:
            problems.append(f"{path}: sha256 {digest} != manifest {entry['sha256']}")
    return problems


def check_single_opencv() -> list[str]:
    names = {
        (dist.metadata["Name"] or "").lower()
        for dist in importlib.metadata.distributions()
    }
    found = sorted(names & OPENCV)
    if found != ["opencv-python-headless"]:
        return [f"expected only opencv-python-headless, found {found}"]
    return []


def main(argv: list[str]) -> int:
    problems = check_files()
    if "--single-opencv" in argv:
        problems += check_single_opencv()
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print("models and manifest agree")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
