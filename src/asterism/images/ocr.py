"""Text in the picture (a title on a poster, a signature, a label) via Tesseract.

Most paintings hold no text, and Tesseract happily "reads" brushwork as
gibberish, so we keep only words it is confident about and only when there are
at least two of them: the result is either real text or nothing.
"""

from __future__ import annotations

import os
import re
import shutil

from PIL import Image

_WORD = re.compile(r"^[^\W\d_]{3,}$|^\d{4}$")


class OcrUnavailable(RuntimeError):
    """Tesseract is not installed; ``make setup`` installs the Debian package."""


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def read_text(image: Image.Image, *, min_confidence: float = 70.0, languages: str = "eng") -> str:
    """Confident words of ``image`` in reading order, or "" when it holds no real text."""
    if not tesseract_available():
        raise OcrUnavailable("tesseract is not on PATH (apt-get install tesseract-ocr)")
    import pytesseract

    # One thread per Tesseract call: the pipeline already runs one call per worker.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    grey = image.convert("L")
    if max(grey.size) < 1000:  # Tesseract reads small print better at ~300 dpi scale
        factor = 1000 / max(grey.size)
        grey = grey.resize((round(grey.width * factor), round(grey.height * factor)))
    data = pytesseract.image_to_data(
        grey, lang=languages, config="--psm 3", output_type=pytesseract.Output.DICT
    )
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
