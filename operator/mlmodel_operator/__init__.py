"""Kopf operator that rolls MLModel versions onto the attendance-ml services."""
