"""Fixtures for the sentiment service: one real app with its real models."""

from __future__ import annotations

import numpy as np
import pytest
from attendance_ml.sentiment.app import create_app
from sentiment_support import GRACE_HOPPER, load_rgb, sentiment_environ


@pytest.fixture(scope="module")
def sentiment_app(tmp_path_factory):
    app = create_app(sentiment_environ(tmp_path_factory.mktemp("sentiment-data")))
    app.config["TESTING"] = True
    return app


@pytest.fixture()
def client(sentiment_app):
    return sentiment_app.test_client()


@pytest.fixture(scope="session")
def hopper() -> np.ndarray:
    return load_rgb(GRACE_HOPPER)
