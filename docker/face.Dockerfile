# syntax=docker/dockerfile:1
# Face recognition service: register, verify, analyze, liveness (port 5001), on the shared runtime built from Dockerfile.base.
#
#   docker build -f docker/face.Dockerfile --build-arg BASE_IMAGE=ghcr.io/attendance-ml/base:0.1.0 \
#     -t ghcr.io/attendance-ml/face:0.1.0 .
ARG BASE_IMAGE=ghcr.io/attendance-ml/base:0.1.0
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="attendance-ml face" \
      org.opencontainers.image.description="Face recognition service: register, verify, analyze, liveness" \
      org.opencontainers.image.licenses="Apache-2.0"
# Fails the build if the service cannot be imported from the installed package.
RUN python -c "import attendance_ml.face.app"
EXPOSE 5001
# One gunicorn worker (models load after the fork), gthread threads; scale with pods.
CMD ["gunicorn", "-c", "python:attendance_ml.core.gunicorn_conf", "--bind", "0.0.0.0:5001", "attendance_ml.face.app:create_app()"]
