"""Durable storage of enrolled students and their face embeddings."""

from attendance_ml.face.gallery.base import FaceGallery, StudentRecord

__all__ = ["FaceGallery", "StudentRecord"]
