"""Settings read from prefixed environment variables when an app is built.

Shared settings use the ``ATTENDANCE_`` prefix; each service reads its own under
``ATTENDANCE_<SERVICE>_`` (for example ``ATTENDANCE_FACE_MATCH_THRESHOLD``). A
service-level variable overrides the shared one of the same name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from attendance_ml.core.imaging import ImageLimits

SHARED_PREFIX = "ATTENDANCE_"
T = TypeVar("T")


class SettingError(ValueError):
    """An environment variable holds a value that cannot be used."""


class EnvReader:
    """Reads typed values for one service, falling back to the shared prefix."""

    def __init__(self, service: str, environ: Mapping[str, str] | None = None) -> None:
        self.service_prefix = f"{SHARED_PREFIX}{service.upper()}_"
        self.environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        for key in (self.service_prefix + name, SHARED_PREFIX + name):
            value = self.environ.get(key)
            if value is not None and value.strip() != "":
                return value.strip()
        return None

    def get(self, name: str, default: T, cast: Callable[[str], T] | None = None) -> T:
        value = self.raw(name)
        if value is None:
            return default
        convert = cast or type(default)
        try:
            return convert(value)
        except (TypeError, ValueError) as error:
            raise SettingError(
                f"{self.service_prefix}{name}={value!r}: {error}"
            ) from error

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingError(f"{self.service_prefix}{name}={value!r} is not a boolean")

    def csv(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            return default
        return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class CoreSettings:
    """What every service needs before its own settings.

    data_dir: where durable state (gallery, review images) lives.
    load_in_background: load models on a thread so liveness answers while loading.
    """

    service: str
    image_limits: ImageLimits
    data_dir: Path
    log_level: str
    log_json: bool
    load_in_background: bool

    @classmethod
    def from_env(cls, service: str, env: EnvReader) -> CoreSettings:
        limits = ImageLimits(
            max_bytes=env.get("MAX_IMAGE_BYTES", 10 * 1024 * 1024),
            max_pixels=env.get("MAX_IMAGE_PIXELS", 40_000_000),
        )
        if limits.max_bytes <= 0 or limits.max_pixels <= 0:
            raise SettingError("image limits must be positive")
        return cls(
            service=service,
            image_limits=limits,
            data_dir=Path(env.get("DATA_DIR", "data")).expanduser(),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            log_json=env.get("LOG_FORMAT", "json").lower() == "json",
            load_in_background=env.flag("LOAD_IN_BACKGROUND", True),
        )
