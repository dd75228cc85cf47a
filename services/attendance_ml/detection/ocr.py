"""Printed-text reading with rapidocr (PP-OCR small det/rec ONNX models it ships)."""

from __future__ import annotations

import importlib.metadata
import logging
import threading

import cv2
import numpy as np

# A line counts as card print when the recogniser is this sure of it (0-1) and it
# holds at least this many letters or digits.
MIN_LINE_SCORE = 0.8
MIN_LINE_CHARACTERS = 2


class TextReader:
    """Counts confident text lines in an RGB crop; one call at a time.

    Loading takes a few seconds; a crop of a few hundred pixels takes about a
    second on two cores, so callers run it on candidate regions only.
    """

    def __init__(self, max_side: int = 480) -> None:
        from rapidocr import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        self.max_side = max_side
        self.version = importlib.metadata.version("rapidocr")
        self._engine = RapidOCR()
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        self._lock = threading.Lock()

    def text_lines(self, crop: np.ndarray) -> list[str]:
        """Confident lines of text in an RGB uint8 crop, top to bottom."""
        scale = min(1.0, self.max_side / max(crop.shape[:2]))
        if scale < 1.0:
            crop = cv2.resize(
                crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA
            )
        bgr = np.ascontiguousarray(crop[..., ::-1])
        with self._lock:
            result = self._engine(bgr, use_cls=False)
        texts = result.txts or ()
        scores = result.scores or ()
        return [
            text
            for text, score in zip(texts, scores, strict=False)
            if score >= MIN_LINE_SCORE
            and sum(char.isalnum() for char in text) >= MIN_LINE_CHARACTERS
        ]
