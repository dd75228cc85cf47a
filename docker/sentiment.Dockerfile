# syntax=docker/dockerfile:1
# Sentiment service: emotions, engagement and attention per face (port 5003), on the shared runtime built from Dockerfile.base.
#
#   docker build -f docker/sentiment.Dockerfile --build-arg BASE_IMAGE=ghcr.io/attendance-ml/base:0.1.0 \
#     -t ghcr.io/attendance-ml/sentiment:0.1.0 .
ARG BASE_IMAGE=ghcr.io/attendance-ml/base:0.1.0
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="attendance-ml sentiment" \
      org.opencontainers.image.description="Sentiment service: emotions, engagement and attention per face" \
      org.opencontainers.image.licenses="Apache-2.0"
# Fails the build if the service cannot be imported from the installed package.
RUN python -c "import attendance_ml.sentiment.app"
EXPOSE 5003
# One gunicorn worker (models load after the fork), gthread threads; scale with pods.
CMD ["gunicorn", "-c", "python:attendance_ml.core.gunicorn_conf", "--bind", "0.0.0.0:5003", "attendance_ml.sentiment.app:create_app()"]
