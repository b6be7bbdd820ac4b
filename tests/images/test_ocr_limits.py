"""OCR is bounded: Tesseract reads a copy at most 2000 px a side, and a timeout means "no text".

Unbounded, a crafted 2000x1500 dot pattern kept Tesseract busy for 20 s, and a
50-megapixel picture would be written to a temporary PNG in full by pytesseract.
"""

from __future__ import annotations

import logging
import os
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from asterism.images.ocr import MAX_SIDE, MIN_SIDE, ocr_input, read_text, tesseract_available

pytestmark = pytest.mark.skipif(not tesseract_available(), reason="tesseract-ocr is not installed")
pytest.importorskip("pytesseract")  # imported here: its first import costs ~0.7 s of CPU, once


@pytest.mark.parametrize(
    ("size", "expected"),
    [((8000, 6000), (MAX_SIDE, 1500)), ((300, 200), (MIN_SIDE, 667)), ((1500, 90), (1500, 90))],
    ids=["shrunk", "enlarged", "kept"],
)
def test_tesseract_gets_a_grey_copy_with_a_bounded_long_side(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    grey = ocr_input(Image.new("RGB", size, "white"))
    assert grey.mode == "L"
    assert grey.size == expected


def dots(size: tuple[int, int] = (2000, 1500)) -> Image.Image:
    """A dot lattice Tesseract spends ~20 s on (measured), looking for text that is not there."""
    grid = np.indices(size[::-1]).sum(axis=0) % 4 == 0
    return Image.fromarray((grid * 255).astype(np.uint8))


def test_a_timeout_is_no_text_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="asterism.images.ocr"):
        assert read_text(dots(), timeout=0.5) == ""
    assert time.perf_counter() - started < 5.0, "Tesseract must be stopped at the timeout"
    assert any("OCR gave up" in record.getMessage() for record in caplog.records)


def test_a_50_megapixel_picture_is_read_at_bounded_cost() -> None:
    size = (8000, 6000)
    image = Image.new("RGB", size, (236, 228, 210))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size[0] // 16)
    draw.text((size[0] // 40, size[1] // 20), "HARBOUR BOATS EXHIBITION", fill="black", font=font)
    before, cpu = os.times(), time.process_time()
    words = read_text(image).split()
    after = os.times()
    own = time.process_time() - cpu
    tesseract = after.children_user + after.children_system - before.children_user - before.children_system
    assert {"HARBOUR", "BOATS", "EXHIBITION"} <= set(words)
    # Measured: 0.1 s here + 0.3 s in Tesseract; unscaled, 0.5 s + 1.9 s.
    assert own + tesseract < 1.0, f"{own:.2f} s here + {tesseract:.2f} s in Tesseract"
