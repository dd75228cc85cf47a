"""Shared service core: image intake, errors, logging, metrics, health, app wiring."""
