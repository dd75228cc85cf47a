"""Face service settings, from ``ATTENDANCE_FACE_*`` (then ``ATTENDANCE_*``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from attendance_ml.core.model_loader import ModelSource
from attendance_ml.core.settings import CoreSettings, EnvReader, SettingError

SERVICE = "face"


@dataclass(frozen=True)
class FaceSettings:
    """Tunable behaviour of the face service.

    verify_threshold: largest Euclidean distance between dlib descriptors accepted
        as the claimed student in a 1:1 verification (dlib's documented 0.6); also
        the duplicate-enrolment limit (a face that would verify as another student
        is refused unless forced).
    identify_threshold: the same for open-set 1:N identification. Stricter, because
        the chance that some enrolled look-alike falls under the threshold grows with
        the gallery; lower rejects more look-alikes (and more genuine matches).
    review_margin: a match whose runner-up student is less than this much farther
        away is flagged for review.
    min_face_size: shorter side of the face box, in pixels of the upright image,
        below which a face is not used for verification.
    min_enrol_face_size: the same for enrolment photos, which must be better;
        smaller faces in an enrolment photo (people behind) are ignored.
    min_sharpness: variance of the Laplacian of the aligned 150x150 grey face below
        which the face is too blurry to enrol.
    dominance_ratio: with several faces in a verify frame, the largest must have at
        least this many times the area of the next, else the frame is refused.
    """

    core: CoreSettings
    database_path: Path
    database_url: str | None
    verify_threshold: float
    identify_threshold: float
    review_margin: float
    min_face_size: int
    min_enrol_face_size: int
    min_sharpness: float
    dominance_ratio: float
    max_images_per_request: int
    detector_max_side: int
    detector_score_threshold: float
    challenge_ttl_seconds: int
    challenge_actions: int
    detector_source: ModelSource
    embedder_source: ModelSource
    model_cache_dir: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FaceSettings:
        env = EnvReader(SERVICE, environ)
        core = CoreSettings.from_env(SERVICE, env)
        settings = cls(
            core=core,
            database_path=Path(
                env.get(
                    "DATABASE_PATH", str(core.data_dir / "face" / "gallery.sqlite3")
                )
            ).expanduser(),
            database_url=env.raw("DATABASE_URL"),
            verify_threshold=env.get("VERIFY_THRESHOLD", 0.6),
            identify_threshold=env.get("IDENTIFY_THRESHOLD", 0.5),
            review_margin=env.get("REVIEW_MARGIN", 0.06),
            min_face_size=env.get("MIN_FACE_SIZE", 40),
            min_enrol_face_size=env.get("MIN_ENROL_FACE_SIZE", 64),
            min_sharpness=env.get("MIN_SHARPNESS", 8.0),
            dominance_ratio=env.get("DOMINANCE_RATIO", 2.0),
            max_images_per_request=env.get("MAX_IMAGES_PER_REQUEST", 10),
            detector_max_side=env.get("DETECTOR_MAX_SIDE", 640),
            detector_score_threshold=env.get("DETECTOR_SCORE_THRESHOLD", 0.8),
            challenge_ttl_seconds=env.get("CHALLENGE_TTL_SECONDS", 120),
            challenge_actions=env.get("CHALLENGE_ACTIONS", 2),
            detector_source=ModelSource.from_env(
                env, "face_detector", default_version="packaged", default_format="onnx"
            ),
            embedder_source=ModelSource.from_env(
                env, "face_embedder", default_version="packaged", default_format="onnx"
            ),
            model_cache_dir=core.data_dir / "models",
        )
        for name in ("verify_threshold", "identify_threshold"):
            if not 0.0 < getattr(settings, name) < 2.0:
                raise SettingError(f"ATTENDANCE_FACE_{name.upper()} must be in (0, 2)")
        if settings.max_images_per_request < 1:
            raise SettingError("ATTENDANCE_FACE_MAX_IMAGES_PER_REQUEST must be >= 1")
        return settings
