"""Optional authentication: JWT bearer tokens (HS256 or RS256) and API keys.

With authentication off every caller is anonymous and holds every role. With it on,
a request carries ``Authorization: Bearer <jwt>`` or ``X-API-Key: <key>``; tokens
must be signed with the configured secret (HS256) or key pair (RS256) and carry an
``exp`` claim. Roles come from the token's roles claim or the key's configuration;
registering and deleting students needs the enrolment role.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import jwt
import structlog
from flask import Request

from attendance_ml.gateway.errors import Forbidden, Unauthorized
from attendance_ml.gateway.settings import AuthSettings

log = structlog.get_logger("attendance_ml.gateway.auth")
API_KEY_HEADER = "X-API-Key"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a subject (never a secret), its roles and how it proved it."""

    subject: str
    roles: frozenset[str]
    method: str  # "anonymous", "jwt" or "api_key"
    all_roles: bool = False

    def has_role(self, role: str) -> bool:
        return self.all_roles or role in self.roles


ANONYMOUS = Principal("anonymous", frozenset(), "anonymous", all_roles=True)


class Authenticator:
    """Checks the credentials of one request against the gateway's settings."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._keys = [
            (key.encode(), frozenset(roles)) for key, roles in settings.api_keys.items()
        ]

    def authenticate(self, request: Request) -> Principal:
        """The caller, or Unauthorized when credentials are missing or invalid."""
        if not self.settings.enabled:
            return ANONYMOUS

        api_key = request.headers.get(API_KEY_HEADER)
        if api_key:
            return self._from_api_key(api_key)

        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return self._from_jwt(token.strip())
        raise Unauthorized()

    def require_role(self, principal: Principal, role: str) -> None:
        if not principal.has_role(role):
            log.info("access_denied", subject=principal.subject, role=role)
            raise Forbidden(f"This operation needs the '{role}' role.")

    def _from_api_key(self, presented: str) -> Principal:
        candidate = presented.strip().encode()
        for key, roles in self._keys:
            if hmac.compare_digest(candidate, key):
                digest = hashlib.sha256(key).hexdigest()[:12]
                return Principal(f"apikey:{digest}", roles, "api_key")
        log.info("authentication_failed", method="api_key")
        raise Unauthorized("The API key is not valid.")

    def _from_jwt(self, token: str) -> Principal:
        settings = self.settings
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as error:
            raise Unauthorized("The bearer token is malformed.") from error

        if algorithm == "HS256" and settings.jwt_secret:
            key = settings.jwt_secret
        elif algorithm == "RS256" and settings.jwt_public_key:
            key = settings.jwt_public_key
        else:
            log.info("authentication_failed", method="jwt", reason="algorithm")
            raise Unauthorized("The bearer token's algorithm is not accepted.")

        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                leeway=settings.leeway_seconds,
                options={
                    "require": ["exp"],
                    "verify_aud": settings.jwt_audience is not None,
                },
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthorized("The bearer token has expired.") from error
        except jwt.PyJWTError as error:
            log.info("authentication_failed", method="jwt", reason=type(error).__name__)
            raise Unauthorized("The bearer token is not valid.") from error

        return Principal(
            str(claims.get("sub", "unknown")), _roles(claims, settings), "jwt"
        )


def _roles(claims: dict, settings: AuthSettings) -> frozenset[str]:
    value = claims.get(settings.roles_claim, ())
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple):
        return frozenset(str(role) for role in value)
    return frozenset()
