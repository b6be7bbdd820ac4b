"""Tiny test images made on the fly: real pictures, hostile files, odd formats."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def picture(seed: int, size: tuple[int, int] = (96, 64)) -> Image.Image:
    """A random 'painting': broad blobs of colour plus finer strokes, so resizing keeps its look."""
    rng = np.random.default_rng(seed)
    broad = Image.fromarray(rng.integers(0, 256, size=(4, 6, 3), dtype=np.uint8), "RGB")
    fine = Image.fromarray(rng.integers(0, 256, size=(24, 36, 3), dtype=np.uint8), "RGB")
    a = np.asarray(broad.resize(size, Image.Resampling.BICUBIC), dtype=np.float32)
    b = np.asarray(fine.resize(size, Image.Resampling.BICUBIC), dtype=np.float32)
    return Image.fromarray(np.clip(0.6 * a + 0.4 * b, 0, 255).astype(np.uint8), "RGB")


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def jpeg(seed: int, size: tuple[int, int] = (96, 64), quality: int = 90) -> bytes:
    return encode(picture(seed, size), "JPEG", quality=quality)


def truncated_jpeg(seed: int) -> bytes:
    data = jpeg(seed, (256, 256))
    return data[: len(data) // 2]


def corrupt_jpeg(seed: int) -> bytes:
    data = bytearray(jpeg(seed, (128, 128)))
    for i in range(200, len(data) - 10, 7):
        data[i] = 0xFF
    return bytes(data)


def cmyk_jpeg(seed: int) -> bytes:
    return encode(picture(seed).convert("CMYK"), "JPEG", quality=90)


def png16(seed: int) -> bytes:
    arr = (np.asarray(picture(seed).convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    return encode(Image.frombytes("I;16", arr.shape[::-1], arr.astype("<u2").tobytes()), "PNG")


def animated_gif(seed: int, frames: int = 3) -> bytes:
    images = [picture(seed + i).convert("P") for i in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return buffer.getvalue()


def rgba_png(seed: int) -> bytes:
    image = picture(seed).convert("RGBA")
    image.putalpha(128)
    return encode(image, "PNG")


def rotated_jpeg(seed: int, orientation: int = 6, size: tuple[int, int] = (80, 40)) -> bytes:
    """A JPEG stored sideways with an EXIF orientation tag saying how to show it."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010E] = "A test caption"  # ImageDescription
    return encode(picture(seed, size), "JPEG", exif=exif.tobytes())


def bomb_png(width: int = 40_000, height: int = 40_000) -> bytes:
    """A tiny PNG whose header claims a huge size: a decompression bomb's calling card."""
    data = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def text_image(words: str = "HARBOUR BOATS EXHIBITION 1874", size: tuple[int, int] = (900, 200)) -> bytes:
    """Black words on white, large enough for Tesseract to read."""
    from PIL import ImageDraw, ImageFont

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    try:
        font: ImageFont.ImageFont | ImageFont.FreeTypeFont = ImageFont.load_default(size=56)
    except TypeError:  # pragma: no cover - older Pillow
        font = ImageFont.load_default()
    draw.text((20, 60), words, fill="black", font=font)
    return encode(image, "PNG")
