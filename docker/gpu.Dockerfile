# syntax=docker/dockerfile:1
# GPU variant of a model service (face, detection or sentiment): the service image
# with onnxruntime-gpu in place of onnxruntime. Its cuda and cudnn extras bring the
# CUDA 13 and cuDNN 9 libraries as wheels; the driver comes from the node through
# the NVIDIA container toolkit. ONNX models (RetinaFace, CenterNet) then run on the
# GPU; dlib and the TFLite emotion model stay on the CPU.
#
#   docker build -f docker/gpu.Dockerfile \
#     --build-arg SERVICE_IMAGE=ghcr.io/attendance-ml/face:0.1.0 \
#     -t ghcr.io/attendance-ml/face:0.1.0-gpu .
ARG SERVICE_IMAGE=ghcr.io/attendance-ml/face:0.1.0
FROM ${SERVICE_IMAGE}
USER 0
# onnxruntime-gpu 1.31.1 is the newest GPU build on PyPI (the CPU pin is 1.32.0);
# the session API the services use is the same. MIT.
RUN pip uninstall -y onnxruntime \
    && pip install --no-cache-dir "onnxruntime-gpu[cuda,cudnn]==1.31.1" \
    && python -c "import onnxruntime; assert 'CUDAExecutionProvider' in onnxruntime.get_available_providers()"
ENV ATTENDANCE_ONNX_PROVIDERS=CUDAExecutionProvider,CPUExecutionProvider \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
USER 10001:10001
