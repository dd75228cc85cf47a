# syntax=docker/dockerfile:1
# API gateway: routing, /api/analyze/all, authentication, rate limits (port 8080), on the shared runtime built from Dockerfile.base.
#
#   docker build -f docker/gateway.Dockerfile --build-arg BASE_IMAGE=ghcr.io/attendance-ml/base:0.1.0 \
#     -t ghcr.io/attendance-ml/gateway:0.1.0 .
ARG BASE_IMAGE=ghcr.io/attendance-ml/base:0.1.0
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="attendance-ml gateway" \
      org.opencontainers.image.description="API gateway: routing, /api/analyze/all, authentication, rate limits" \
      org.opencontainers.image.licenses="Apache-2.0"
# Fails the build if the service cannot be imported from the installed package.
RUN python -c "import attendance_ml.gateway.app"
EXPOSE 8080
# One gunicorn worker (models load after the fork), gthread threads; scale with pods.
CMD ["gunicorn", "-c", "python:attendance_ml.core.gunicorn_conf", "--bind", "0.0.0.0:8080", "attendance_ml.gateway.app:create_app()"]
