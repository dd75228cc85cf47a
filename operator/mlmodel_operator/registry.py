"""Builds the operator: every handler in one registry, and the memo they share."""

from __future__ import annotations

import kopf

from mlmodel_operator import health, mlmodel, startup
from mlmodel_operator.config import OperatorConfig
from mlmodel_operator.kube import KubeClient
from mlmodel_operator.pods import PodAddress, PodProbe, pod_base_url
from mlmodel_operator.steps import Services


def build_services(
    config: OperatorConfig, address: PodAddress = pod_base_url
) -> Services:
    return Services(
        kube=KubeClient(),
        probe=PodProbe(config.pod_timeout_seconds, address),
        config=config,
    )


def build_registry(
    config: OperatorConfig, services: Services, login: startup.Login | None = None
) -> kopf.OperatorRegistry:
    """A fresh registry with the MLModel, start-up and health handlers."""
    registry = kopf.OperatorRegistry()
    startup.register(registry, services, login)
    health.register(registry, services)
    mlmodel.register(registry, config)
    return registry
