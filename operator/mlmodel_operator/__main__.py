"""``python -m mlmodel_operator``: run the operator standalone (no peering).

Watches ``MLMODEL_OPERATOR_NAMESPACE``, or every namespace when it is empty, and
serves its liveness at ``GET :8080/healthz``.
"""

from __future__ import annotations

import logging

import kopf
import structlog

from mlmodel_operator.config import OperatorConfig
from mlmodel_operator.registry import build_registry, build_services


class PollingIsNotAnError(logging.Filter):
    """Log kopf's "failed temporarily" at INFO: it is how a rollout waits.

    The reconcile handler raises kopf.TemporaryError to look again after a delay;
    kopf logs each one at ERROR, which would flood the error logs during every
    rollout. Real failures are logged and posted as Warning events anyway.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.levelno == logging.ERROR
            and "failed temporarily" in record.getMessage()
        ):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def configure_logging(level: str) -> None:
    """JSON lines for kopf's logs and ours alike."""
    kopf.configure(log_format=kopf.LogFormat.JSON)
    logging.getLogger().setLevel(level)
    for handler in logging.getLogger().handlers:
        handler.addFilter(PollingIsNotAnError())
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelName(level)
        ),
    )


def main() -> None:
    config = OperatorConfig.from_env()
    configure_logging(config.log_level)
    services = build_services(config)
    namespaces = [config.namespace] if config.namespace else []
    kopf.run(
        registry=build_registry(config, services),
        standalone=True,
        clusterwide=not namespaces,
        namespaces=namespaces,
        liveness_endpoint=f"http://0.0.0.0:{config.health_port}/healthz",
        memo=kopf.Memo(services=services),
    )


if __name__ == "__main__":
    main()
