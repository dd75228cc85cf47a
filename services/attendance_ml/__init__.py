"""Machine-learning services for a smart attendance system."""

__version__ = "0.1.0"
