# syntax=docker/dockerfile:1
# The MLModel operator (kopf, standalone): python -m mlmodel_operator, health on
# :8080/healthz. Small: it needs none of the models.
#
#   docker build -f docker/operator.Dockerfile -t ghcr.io/attendance-ml/operator:0.1.0 .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/opt/operator \
    HOME=/tmp
COPY docker/operator-requirements.txt /tmp/requirements-operator.txt
RUN pip install -r /tmp/requirements-operator.txt \
    && rm /tmp/requirements-operator.txt \
    && groupadd --system --gid 10001 mlmodel \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /tmp --shell /usr/sbin/nologin mlmodel
COPY operator/mlmodel_operator/ /opt/operator/mlmodel_operator/
WORKDIR /opt/operator
RUN python -c "import mlmodel_operator"
USER 10001:10001
EXPOSE 8080
CMD ["python", "-m", "mlmodel_operator"]
