"""Check that every committed model file matches models/manifest.json.

    python models/check_manifest.py [--update] [--single-opencv]

With ``--update`` it first records the digest and size of every committed file (what
``make detection-models`` does after a rebuild: the conversion is not byte-for-byte
reproducible, because tf2onnx names nodes per run, but rebuilt files give identical
outputs). With ``--single-opencv`` it also checks that exactly one OpenCV
distribution is installed (ultralytics, mediapipe and fer each pull their own, which
replace cv2).
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


def update_digests() -> None:
    path = MODELS / "manifest.json"
    manifest = json.loads(path.read_text())
    for entry in manifest["models"]:
        model = MODELS / entry["file"]
        if entry["committed"] and model.is_file():
            entry["sha256"] = hashlib.sha256(model.read_bytes()).hexdigest()
            entry["bytes"] = model.stat().st_size
    path.write_text(json.dumps(manifest, indent=2) + "\n")


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
    if "--update" in argv:
        update_digests()
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
