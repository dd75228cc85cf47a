"""Sentiment service: emotions, engagement and attention per face (port 5003)."""
