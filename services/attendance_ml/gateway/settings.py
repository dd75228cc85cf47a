"""Gateway settings, read from ``ATTENDANCE_GATEWAY_*`` variables when the app is built.

Every duration is in seconds. Rate limits use flask-limiter's notation, for example
``120/minute`` or ``10 per second``; several limits are separated by ``;``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from attendance_ml.core.settings import EnvReader, SettingError

SERVICES = ("face", "detection", "sentiment")
DEFAULT_URLS = {
    "face": "http://127.0.0.1:5001",
    "detection": "http://127.0.0.1:5002",
    "sentiment": "http://127.0.0.1:5003",
}
# Longer read timeouts for routes that do more work than one frame.
DEFAULT_ROUTE_TIMEOUTS = {
    "face/register": 30.0,
    "face/liveness/challenge": 30.0,
}


@dataclass(frozen=True)
class AuthSettings:
    """Who may call the gateway.

    enabled: when false every request is anonymous and allowed (local quick start).
    jwt_secret: HS256 shared secret; jwt_public_key: RS256 public key (PEM).
    api_keys: key -> roles; enrol_role: the role that register and delete need.
    roles_claim: the JWT claim holding roles, a list or a space-separated string.
    """

    enabled: bool = False
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    roles_claim: str = "roles"
    api_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    enrol_role: str = "enrol"
    leeway_seconds: float = 30.0


@dataclass(frozen=True)
class RateLimitSettings:
    """Per-client, per-route limits; storage_uri ``memory://`` or ``redis://host:port``."""

    enabled: bool = True
    storage_uri: str = "memory://"
    default: str = "120/minute"
    analyze: str = "60/minute"
    enrol: str = "30/minute"


@dataclass(frozen=True)
class GatewaySettings:
    """Upstream URLs, timeouts, security and limits of the gateway.

    connect_timeout: seconds to open a connection to a service.
    timeout: default seconds to wait for a service's answer.
    route_timeouts: path prefix after ``/api/`` (e.g. ``face/register``) -> seconds.
    part_timeouts: seconds for each part of ``/api/analyze/all``.
    health_timeout: seconds to wait for each service's ``/health``.
    analyze_max_in_flight: analyze/all requests fanned out at once by this gateway
    (0 = no cap); the others wait up to analyze_queue_seconds, then get 503 ``busy``.
    """

    urls: dict[str, str]
    connect_timeout: float = 2.0
    timeout: float = 15.0
    route_timeouts: dict[str, float] = field(default_factory=dict)
    part_timeouts: dict[str, float] = field(default_factory=dict)
    health_timeout: float = 2.0
    analyze_liveness: bool = True
    analyze_max_in_flight: int = 0
    analyze_queue_seconds: float = 30.0
    cors_origins: tuple[str, ...] = ()
    auth: AuthSettings = field(default_factory=AuthSettings)
    limits: RateLimitSettings = field(default_factory=RateLimitSettings)

    @classmethod
    def from_env(cls, env: EnvReader) -> GatewaySettings:
        urls = {
            name: env.get(f"{name.upper()}_URL", DEFAULT_URLS[name]).rstrip("/")
            for name in SERVICES
        }
        timeout = _positive(env, "TIMEOUT_SECONDS", 15.0)
        route_timeouts = dict(DEFAULT_ROUTE_TIMEOUTS)
        route_timeouts.update(_seconds_map(env, "ROUTE_TIMEOUTS"))
        part_timeouts = {
            part: _positive(env, f"ANALYZE_{part.upper()}_TIMEOUT_SECONDS", 10.0)
            for part in ("face", "liveness", "idcard", "phone", "sentiment")
        }
        return cls(
            urls=urls,
            connect_timeout=_positive(env, "CONNECT_TIMEOUT_SECONDS", 2.0),
            timeout=timeout,
            route_timeouts=route_timeouts,
            part_timeouts=part_timeouts,
            health_timeout=_positive(env, "HEALTH_TIMEOUT_SECONDS", 2.0),
            analyze_liveness=env.flag("ANALYZE_LIVENESS", True),
            analyze_max_in_flight=max(0, env.get("ANALYZE_MAX_IN_FLIGHT", 0)),
            analyze_queue_seconds=_positive(env, "ANALYZE_QUEUE_SECONDS", 30.0),
            cors_origins=env.csv("CORS_ORIGINS", ()),
            auth=_auth_settings(env),
            limits=RateLimitSettings(
                enabled=env.flag("RATE_LIMIT_ENABLED", True),
                storage_uri=env.get("RATE_LIMIT_STORAGE_URI", "memory://"),
                default=env.get("RATE_LIMIT_DEFAULT", "120/minute"),
                analyze=env.get("RATE_LIMIT_ANALYZE", "60/minute"),
                enrol=env.get("RATE_LIMIT_ENROL", "30/minute"),
            ),
        )

    def timeout_for(self, api_path: str) -> float:
        """Read timeout for a path after ``/api/``: the longest matching prefix wins."""
        best, best_length = self.timeout, -1
        for prefix, seconds in self.route_timeouts.items():
            matches = api_path == prefix or api_path.startswith(prefix + "/")
            if matches and len(prefix) > best_length:
                best, best_length = seconds, len(prefix)
        return best


def _auth_settings(env: EnvReader) -> AuthSettings:
    enabled = env.flag("AUTH_ENABLED", False)
    public_key = env.raw("JWT_PUBLIC_KEY")
    key_file = env.raw("JWT_PUBLIC_KEY_FILE")
    if public_key is None and key_file is not None:
        public_key = _read_file(key_file, "JWT_PUBLIC_KEY_FILE")
    api_keys = _api_keys(env.raw("API_KEYS") or "")
    keys_file = env.raw("API_KEYS_FILE")
    if keys_file is not None:
        api_keys.update(_api_keys(_read_file(keys_file, "API_KEYS_FILE")))

    settings = AuthSettings(
        enabled=enabled,
        jwt_secret=env.raw("JWT_SECRET"),
        jwt_public_key=public_key.replace("\\n", "\n") if public_key else None,
        jwt_audience=env.raw("JWT_AUDIENCE"),
        jwt_issuer=env.raw("JWT_ISSUER"),
        roles_claim=env.get("JWT_ROLES_CLAIM", "roles"),
        api_keys=api_keys,
        enrol_role=env.get("ENROL_ROLE", "enrol"),
        leeway_seconds=env.get("JWT_LEEWAY_SECONDS", 30.0),
    )
    if enabled and not (settings.jwt_secret or settings.jwt_public_key or api_keys):
        raise SettingError(
            "ATTENDANCE_GATEWAY_AUTH_ENABLED is on but no JWT_SECRET, "
            "JWT_PUBLIC_KEY or API_KEYS is set: nobody could call the gateway"
        )
    return settings


def _api_keys(text: str) -> dict[str, tuple[str, ...]]:
    """Parse ``key[:role+role],key2`` (commas or new lines between keys)."""
    keys: dict[str, tuple[str, ...]] = {}
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        key, _, roles = item.partition(":")
        if len(key) < 16:
            raise SettingError("every API key must be at least 16 characters long")
        keys[key] = tuple(role for role in roles.split("+") if role)
    return keys


def _seconds_map(env: EnvReader, name: str) -> dict[str, float]:
    result: dict[str, float] = {}
    for prefix, seconds in (
        item.split("=", 1) for item in env.csv(name, ()) if "=" in item
    ):
        try:
            value = float(seconds)
        except ValueError as error:
            raise SettingError(
                f"{name}: {prefix}={seconds!r} is not seconds"
            ) from error
        if value <= 0:
            raise SettingError(f"{name}: {prefix} must be positive")
        result[prefix.strip().strip("/")] = value
    return result


def _positive(env: EnvReader, name: str, default: float) -> float:
    value = env.get(name, default, float)
    if value <= 0:
        raise SettingError(f"ATTENDANCE_GATEWAY_{name} must be positive")
    return value


def _read_file(path: str, name: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as error:
        raise SettingError(f"{name}={path!r} cannot be read: {error}") from error
