"""Uploaded pictures: read with a size cap, never written to disk unless asked, faces blurred first.

By default an upload lives only in memory for the length of its request.
With ``api.store_uploads`` on, it is kept under ``<home>/uploads`` (content
addressed), but only after every face OpenCV's bundled Haar cascade finds
has been blurred beyond recognition: people photograph art in museums, and
the visitors in those photographs did not agree to be stored.
The form itself is read into memory under its limits by ``api/bodies.py``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from fastapi import HTTPException
from PIL import Image

from asterism.config import Settings
from asterism.images.decode import ImageRejected, decode_image


def face_boxes(rgb: npt.NDArray[np.uint8]) -> list[tuple[int, int, int, int]]:
    """Faces as (x, y, w, h), from the frontal-face Haar cascade shipped with opencv-python-headless."""
    import cv2

    opencv: Any = cv2  # the bundled stubs omit CascadeClassifier and cv2.data
    cascade = opencv.CascadeClassifier(
        str(Path(opencv.data.haarcascades) / "haarcascade_frontalface_default.xml")
    )
    grey = cv2.equalizeHist(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    side = max(24, min(grey.shape) // 20)
    found = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
    return [tuple(int(v) for v in box) for box in found]  # type: ignore[misc]


def blur_faces(rgb: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], int]:
    """A copy with each detected face (plus a margin) pixelated then blurred; and how many faces."""
    import cv2

    out = rgb.copy()
    boxes = face_boxes(rgb)
    height, width = rgb.shape[:2]
    for x, y, w, h in boxes:
        x0, y0 = max(0, x - w // 5), max(0, y - h // 5)
        x1, y1 = min(width, x + w + w // 5), min(height, y + h + h // 5)
        region = out[y0:y1, x0:x1]
        small = cv2.resize(
            region,
            (max(1, region.shape[1] // 16), max(1, region.shape[0] // 16)),
            interpolation=cv2.INTER_AREA,
        )
        coarse = cv2.resize(small, (region.shape[1], region.shape[0]), interpolation=cv2.INTER_NEAREST)
        out[y0:y1, x0:x1] = cv2.GaussianBlur(coarse, (0, 0), sigmaX=max(2.0, w / 12))
    return out, len(boxes)


def keep_upload(settings: Settings, data: bytes) -> Path:
    """Store an upload with faces blurred (JPEG, EXIF dropped); returns its path under the home."""
    try:
        decoded = decode_image(
            data,
            max_pixels=settings.api.upload_max_pixels,
            max_bytes=settings.api.upload_max_bytes,
            max_decoded_pixels=settings.api.upload_max_decoded_pixels,
        )
    except ImageRejected as exc:  # already decoded once by the caller; kept for direct use
        raise HTTPException(400, f"bad image: {exc}") from None
    rgb = np.asarray(decoded.image, dtype=np.uint8)
    blurred, _ = blur_faces(rgb)
    folder = settings.paths.uploads
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()}.jpg"
    temporary = path.with_suffix(".tmp")
    Image.fromarray(blurred).save(temporary, "JPEG", quality=88)
    temporary.replace(path)
    return path
