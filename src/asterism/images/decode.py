"""Decode untrusted image bytes safely into an RGB picture.

Images come from museums' servers, wiki uploads and people's phones, so this
is the place that says no: empty files, non-images, truncated data,
decompression bombs and oversized files are rejected with a reason a person can
read. What is accepted is normalised once (EXIF orientation applied, CMYK,
16-bit, palette and alpha images turned into 8-bit RGB, first frame of an
animation) so that every later stage sees the same kind of picture.

Every hostile file ends in ``ImageRejected`` in bounded time: the container
screen (``screen.py``) refuses structures that would make Pillow loop in Python
before Pillow sees them, Pillow may only try the formats we accept, frames are
counted by that screen (Pillow's ``n_frames`` walks a whole GIF or TIFF), and
any exception Pillow raises becomes a rejection.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from asterism.images.metadata import exif_readable, read_metadata
from asterism.images.screen import MAX_FRAMES, Refused, screen, sniff

FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),  # multi-picture JPEG from cameras: a JPEG with extras
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "TIFF": ("image/tiff", "tif"),
    "GIF": ("image/gif", "gif"),
    "BMP": ("image/bmp", "bmp"),
}


MAX_SIDE = 65_535  # JPEG's own limit; longer sides are strips no picture needs


class ImageRejected(ValueError):
    """The bytes are not an image we can use; ``str(exc)`` says why."""


@dataclass
class DecodedImage:
    image: Image.Image  # RGB, orientation applied, possibly reduced by JPEG draft
    width: int  # of the original, after orientation
    height: int
    mime: str
    ext: str
    frames: int
    metadata: dict[str, str]


def decode_image(
    data: bytes,
    *,
    max_pixels: int,
    max_bytes: int,
    draft_size: int | None = None,
    allowed_formats: frozenset[str] | None = None,
    max_decoded_pixels: int | None = None,
) -> DecodedImage:
    """Decode ``data`` or raise ``ImageRejected``.

    ``draft_size`` lets JPEG decoding skip detail we will never use (Pillow's
    DCT scaling): derivatives and hashes need at most that many pixels a side.
    ``max_decoded_pixels`` bounds the pixels actually decoded, which is what costs
    time and memory: a 49 MP JPEG drafted to a quarter of its side decodes 3 MP
    (0.2 s), while PNG, WebP and TIFF have no reduced decode and cost all of
    theirs (a 49 MP WebP: 1.4 s of CPU and ~200 MB). ``max_pixels`` still bounds
    what the header may declare.
    """
    if not data:
        raise ImageRejected("empty file (0 bytes)")
    if len(data) > max_bytes:
        raise ImageRejected(f"file is {len(data)} bytes, over the {max_bytes}-byte limit")
    allowed = (allowed_formats or frozenset(FORMATS)) & frozenset(FORMATS)
    # Pillow's JPEG plugin opens MPOs (JPEG with extras); the format check after opening tells them apart.
    plugins = (allowed - {"MPO"}) | ({"JPEG"} if "MPO" in allowed else set())
    kind = sniff(data)
    if kind and kind not in plugins:
        raise ImageRejected(f"unsupported image format {kind}")
    try:
        screened = screen(data)
    except Refused as exc:
        raise ImageRejected(str(exc)) from None
    except Exception as exc:  # fail closed: an unbounded Pillow parse is what the screen prevents
        raise ImageRejected(f"unreadable image structure: {_reason(exc)}") from None
    im = _open(data, plugins)

    fmt = im.format or ""
    if fmt not in allowed:
        raise ImageRejected(f"unsupported image format {fmt or 'unknown'}")
    width, height = im.size
    if width <= 0 or height <= 0:
        raise ImageRejected(f"image has no pixels ({width}x{height})")
    if max(width, height) > MAX_SIDE:  # Pillow's per-row work: 1x49M pixels cost 3.3 s, 7000x7000 0.4 s
        raise ImageRejected(f"image is {width}x{height}, over the {MAX_SIDE}-pixel limit for a side")
    if width * height > max_pixels:
        raise ImageRejected(
            f"image is {width}x{height} = {width * height} pixels, over the {max_pixels}-pixel limit"
        )
    mime, ext = FORMATS[fmt]
    frames = _frames(im, screened.frames)
    metadata = read_metadata(im)
    orientation = _orientation(im)

    try:
        if draft_size and fmt in ("JPEG", "MPO"):
            im.draft("RGB", (draft_size, draft_size))
    except Exception as exc:
        raise ImageRejected(f"corrupt or truncated image: {_reason(exc)}") from None
    decoded_pixels = im.size[0] * im.size[1]
    if max_decoded_pixels is not None and decoded_pixels > max_decoded_pixels:
        raise ImageRejected(
            f"image is {width}x{height} = {width * height} pixels, over the {max_decoded_pixels}-pixel "
            f"limit for a {fmt} picture (only JPEGs are decoded at a reduced size, up to {max_pixels})"
        )
    try:
        im.load()
        rgb = to_rgb(im)
        if orientation in _TRANSPOSE:
            rgb = rgb.transpose(_TRANSPOSE[orientation])
    except Exception as exc:  # Pillow's decoders raise many types on bad data; all mean the same here
        raise ImageRejected(f"corrupt or truncated image: {_reason(exc)}") from None
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return DecodedImage(rgb, width, height, mime, ext, frames, metadata)


def _open(data: bytes, plugins: frozenset[str]) -> Image.Image:
    """``Image.open`` trying only ``plugins``, every failure turned into ``ImageRejected``."""
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that; the caller's own pixel limit refuses
    # those. Turning the warning into an error here would need ``warnings.catch_warnings``, which
    # swaps process-wide filters and is not safe with uploads decoding in several threads.
    try:
        return Image.open(io.BytesIO(data), formats=sorted(plugins))
    except UnidentifiedImageError:
        raise ImageRejected("not an image (unrecognised format)") from None
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"decompression bomb refused: {exc}") from None
    except Exception as exc:
        raise ImageRejected(f"unreadable image header: {_reason(exc)}") from None


def _frames(im: Image.Image, counted: int | None) -> int:
    """Frames as the screen counted them, else as the header declares (PNG, WebP, MPO): never walked."""
    if counted is None:
        try:
            declared = getattr(im, "n_frames", 1) if im.format in ("PNG", "WEBP", "MPO") else 1
            counted = max(int(declared or 1), 1)
        except Exception:  # a broken header's frame count is not worth a rejection
            counted = 1
    if counted > MAX_FRAMES:
        raise ImageRejected(f"animation has {counted} frames, over the {MAX_FRAMES}-frame limit")
    return counted


def _reason(exc: BaseException) -> str:
    text = str(exc)[:200]
    return text if text else type(exc).__name__


# EXIF orientation tag -> the transpose that shows the picture upright (as ImageOps.exif_transpose).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1)) if exif_readable(im) else 1
    except Exception:  # a broken or oversized EXIF block only loses the orientation
        return 1


def to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB: alpha over white, 16-bit and float rescaled."""
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im, dtype=np.float32)
        top = 65535.0 if mode.startswith("I;16") else float(arr.max() or 1.0)
        low = 0.0 if mode.startswith("I;16") else float(min(arr.min(), 0.0))
        scaled = np.clip((arr - low) / max(top - low, 1e-6) * 255.0, 0, 255).astype(np.uint8)
        out = Image.fromarray(scaled, mode="L").convert("RGB")
    elif mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        out = Image.alpha_composite(background, rgba).convert("RGB")
    elif mode == "RGB":
        out = im
    else:  # CMYK, YCbCr, L, 1, P, LAB, HSV ...
        out = im.convert("RGB")
    return out
