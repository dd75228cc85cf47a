"""Operator start-up: settings, the API login shared with our client, shutdown."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import kopf

from mlmodel_operator.steps import Services

Login = Callable[[], kopf.ConnectionInfo]


def register(
    registry: kopf.OperatorRegistry, services: Services, login: Login | None = None
) -> None:
    """Attach start-up, login and cleanup handlers.

    login: returns the API endpoint and credentials; by default the pod's service
    account, or the local kubeconfig outside a cluster.
    """

    @kopf.on.startup(id="configure", registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        # No scanning: the watched namespaces are taken as given (no RBAC to list
        # namespaces or CRDs); Helm installs the CRD before the operator starts.
        settings.scanning.disabled = True
        settings.posting.level = logging.WARNING  # kopf's own logs as Events
        settings.watching.server_timeout = 300
        settings.networking.request_timeout = 30

    @kopf.on.login(id="login", registry=registry)
    def authenticate(**kwargs: Any) -> kopf.ConnectionInfo | None:
        if login is not None:
            info = login()
        else:
            info = kopf.login_with_service_account(
                **kwargs
            ) or kopf.login_with_kubeconfig(**kwargs)
        if info is not None:
            services.kube.use(info)
        return info

    @kopf.on.cleanup(id="close-api-client", registry=registry)
    async def close(**_: Any) -> None:
        await services.kube.close()
