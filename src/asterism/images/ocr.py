"""Text in the picture (a title on a poster, a signature, a label) via Tesseract.

Most paintings hold no text, and Tesseract happily "reads" brushwork as
gibberish, so we keep only words it is confident about and only when there are
at least two of them: the result is either real text or nothing.

Tesseract's time grows with the pixels it is given and with how busy the
picture is, and pytesseract also writes the image to a temporary PNG in our
process. So the picture is scaled to between ``MIN_SIDE`` and ``max_side``
pixels on its long side (1000-2000 by default: print stays legible, a
50-megapixel upload costs no more than a phone photo), and Tesseract is killed
after ``timeout`` seconds. A timeout means "no text", logged, not an error:
OCR is a bonus.
"""

from __future__ import annotations

import logging
import os
import re
import shutil

from PIL import Image

log = logging.getLogger(__name__)

_WORD = re.compile(r"^[^\W\d_]{3,}$|^\d{4}$")
MIN_SIDE = 1000  # Tesseract reads small print better at ~300 dpi scale
MAX_SIDE = 2000
TIMEOUT = 5.0  # seconds: a 2000-pixel picture takes Tesseract 0.3-2 s, a crafted one 20 s


class OcrUnavailable(RuntimeError):
    """Tesseract is not installed; ``make setup`` installs the Debian package."""


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def ocr_input(image: Image.Image, max_side: int = MAX_SIDE) -> Image.Image:
    """The greyscale picture Tesseract is given: long side scaled into ``[MIN_SIDE, max_side]``."""
    side = max(image.size)
    target = min(max(side, MIN_SIDE), max(max_side, 1))
    if side > target:  # shrink before converting: cheaper on a big upload
        image = image.resize(_scaled(image.size, target / side), Image.Resampling.BILINEAR, reducing_gap=1.0)
    grey = image.convert("L")
    if side < target:
        grey = grey.resize(_scaled(grey.size, target / side))
    return grey


def _scaled(size: tuple[int, int], factor: float) -> tuple[int, int]:
    return max(1, round(size[0] * factor)), max(1, round(size[1] * factor))


def read_text(
    image: Image.Image,
    *,
    min_confidence: float = 70.0,
    languages: str = "eng",
    timeout: float = TIMEOUT,
    max_side: int = MAX_SIDE,
) -> str:
    """Confident words of ``image`` in reading order, or "" when it holds no real text (or OCR timed out)."""
    text = read_or_timeout(
        image, min_confidence=min_confidence, languages=languages, timeout=timeout, max_side=max_side
    )
    return text or ""


def read_or_timeout(
    image: Image.Image,
    *,
    min_confidence: float = 70.0,
    languages: str = "eng",
    timeout: float = TIMEOUT,
    max_side: int = MAX_SIDE,
) -> str | None:
    """``read_text``, but None when Tesseract was stopped after ``timeout`` seconds."""
    if not tesseract_available():
        raise OcrUnavailable("tesseract is not on PATH (apt-get install tesseract-ocr)")
    import pytesseract

    # One thread per Tesseract call: the pipeline already runs one call per worker.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    grey = ocr_input(image, max_side)
    try:
        data = pytesseract.image_to_data(
            grey, lang=languages, config="--psm 3", output_type=pytesseract.Output.DICT, timeout=timeout
        )
    except RuntimeError as exc:  # pytesseract kills Tesseract and raises this on timeout
        if "timeout" not in str(exc).lower():
            raise
        log.warning("OCR gave up after %.1f s on a %dx%d picture: treated as no text", timeout, *grey.size)
        return None
    words: list[str] = []
    for word, conf in zip(data["text"], data["conf"], strict=False):
        word = word.strip().strip(".,;:!?\"'()[]")
        try:
            confidence = float(conf)
        except (TypeError, ValueError):
            continue
        if confidence >= min_confidence and _WORD.match(word):
            words.append(word)
    return " ".join(words) if len(words) >= 2 else ""
