"""Fixtures shared by every test area."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared photo set (../shared/data); data tests skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared photo set not found at {SHARED_DATA}")
    return SHARED_DATA
