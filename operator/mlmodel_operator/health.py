"""The operator's own health: what ``GET :8080/healthz`` reports.

kopf serves the liveness endpoint and answers 200 while every probe returns;
a probe that raises makes it answer 500, and the kubelet restarts the pod.
"""

from __future__ import annotations

from typing import Any

import kopf

from mlmodel_operator.steps import Services


def register(registry: kopf.OperatorRegistry, services: Services) -> None:
    @kopf.on.probe(id="apiCredentials", registry=registry)
    def api_credentials(**_: Any) -> bool:
        """True once the login handler gave our API client its credentials."""
        if not services.kube.logged_in:
            raise kopf.PermanentError("not logged in to the API server")
        return True
