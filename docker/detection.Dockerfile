# syntax=docker/dockerfile:1
# Object detection service: phones and ID cards (port 5002), on the shared runtime built from Dockerfile.base.
#
#   docker build -f docker/detection.Dockerfile --build-arg BASE_IMAGE=ghcr.io/attendance-ml/base:0.1.0 \
#     -t ghcr.io/attendance-ml/detection:0.1.0 .
ARG BASE_IMAGE=ghcr.io/attendance-ml/base:0.1.0
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="attendance-ml detection" \
      org.opencontainers.image.description="Object detection service: phones and ID cards" \
      org.opencontainers.image.licenses="Apache-2.0"
# Fails the build if the service cannot be imported from the installed package.
RUN python -c "import attendance_ml.detection.app"
EXPOSE 5002
# One gunicorn worker (models load after the fork), gthread threads; scale with pods.
CMD ["gunicorn", "-c", "python:attendance_ml.core.gunicorn_conf", "--bind", "0.0.0.0:5002", "attendance_ml.detection.app:create_app()"]
