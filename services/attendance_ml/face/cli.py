"""Command line: register and verify photos against the local gallery.

    attendance-face register STUDENT_ID photo.jpg [photo2.jpg ...] [--force]
    attendance-face verify photo.jpg [--student STUDENT_ID]
    attendance-face list
    attendance-face delete STUDENT_ID

Uses the same settings (ATTENDANCE_DATA_DIR, ATTENDANCE_FACE_*) and the same
SQLite gallery as the service; stop the service first or point both at one file
(SQLite's WAL allows both, but the running service will not see CLI enrolments
until it restarts). Prints JSON; exits 0 on success, 1 on a refusal, 2 on misuse.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from attendance_ml.core.errors import ServiceError
from attendance_ml.core.imaging import decode_image
from attendance_ml.core.logs import configure_logging
from attendance_ml.face.app import open_gallery
from attendance_ml.face.gallery.base import validate_student_id
from attendance_ml.face.models import FaceModels
from attendance_ml.face.recognition import FaceRecognizer
from attendance_ml.face.settings import FaceSettings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="attendance-face", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    register = commands.add_parser("register", help="enrol photos of one student")
    register.add_argument("student_id")
    register.add_argument("photos", nargs="+", type=Path)
    register.add_argument("--force", action="store_true")

    verify = commands.add_parser("verify", help="identify (or verify) one photo")
    verify.add_argument("photo", type=Path)
    verify.add_argument("--student", dest="student_id")

    commands.add_parser("list", help="list enrolled students")
    delete = commands.add_parser("delete", help="erase a student")
    delete.add_argument("student_id")
    return parser


def run(args: argparse.Namespace, settings: FaceSettings) -> dict:
    gallery = open_gallery(settings)
    recognizer = FaceRecognizer(gallery, settings)
    recognizer.load_index()
    limits = settings.core.image_limits
    try:
        if args.command == "list":
            records, total = gallery.list_students(limit=10_000, offset=0)
            return {"total": total, "students": [r.as_dict() for r in records]}
        if args.command == "delete":
            removed = recognizer.delete(validate_student_id(args.student_id))
            return {"studentId": args.student_id, "embeddingsRemoved": removed}

        models = FaceModels.load(settings)
        if args.command == "register":
            images = [decode_image(path.read_bytes(), limits) for path in args.photos]
            record, _ = recognizer.register(
                models, validate_student_id(args.student_id), images, force=args.force
            )
            return record.as_dict()

        image = decode_image(args.photo.read_bytes(), limits)
        student_id = validate_student_id(args.student_id) if args.student_id else None
        result = recognizer.verify(models, image, student_id)
        return {
            "verified": result.verified,
            "studentId": result.student_id,
            "reason": result.reason,
            "distance": result.distance,
            "threshold": result.threshold,
            "margin": result.margin,
            "review": result.review,
        }
    finally:
        gallery.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = FaceSettings.from_env()
    configure_logging("WARNING", settings.core.log_json)
    try:
        result = run(args, settings)
    except ServiceError as error:
        print(json.dumps(error.to_body()), file=sys.stderr)
        return 1
    except OSError as error:
        print(json.dumps({"success": False, "message": str(error), "code": "io_error"}))
        return 2
    print(json.dumps({"success": result.get("verified", True), **result}, indent=2))
    return 0 if result.get("verified", True) else 1


if __name__ == "__main__":
    sys.exit(main())
