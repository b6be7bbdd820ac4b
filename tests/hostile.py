"""Hostile uploads generated from one integer seed: structure-aware, reproducible, cheap to make.

The fuzz campaign (``bench/fuzz.py``) sends tens of thousands of these to a running server and
``tests/api/test_campaigns.py`` a few hundred in process. Both must rebuild the *same* bytes
from the same seed, so that a failure found by either can be replayed from the seed alone: every
choice here comes from one ``random.Random(seed)`` and nothing else (no clock, no ``hash()``).

Each family starts from a real picture Pillow wrote, so the file passes format sniffing and
reaches the parser it aims at, and then lies in the structure an attacker controls: PNG chunks
(compressed iTXt/zTXt/iCCP text, eXIf, lengths, CRCs, APNG frames), JPEG segments and scans
(``hostile_jpeg``), TIFF and EXIF directories, GIF and WebP animations (``hostile_tiff``); the
rest are truncations, bit flips and splices of valid images, declared sizes, garbage, bodies
near the 20 MB limit, and valid pictures in odd modes. ``tests/images/hostilegen.py`` holds the
hand-built worst case of each parser bound; these modules are its randomised siblings.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable
from functools import lru_cache

from PIL import Image

import hostile_jpeg as hj
import hostile_tiff as ht
from hostile_tiff import INTERESTING as INTERESTING_32
from hostile_tiff import base, span

import imagegen

MB = 1_000_000


@lru_cache(maxsize=64)
def deflated(pattern: int, size: int) -> bytes:
    """``size`` bytes of text that compress to almost nothing (XMP bait, nesting, plain, binary)."""
    unit = (b"<dc:title>", b"<rdf:li><x>", b"a", b"\x00\xff")[pattern % 4]
    return zlib.compress((unit * (size // len(unit) + 1))[:size], 9)


def inflating(rng: random.Random) -> bytes:
    """Compressed text from 1 KB to 16 MB once inflated (sizes in powers of 4 so they cache)."""
    return deflated(rng.randrange(4), 1024 * 4 ** rng.randrange(8))


# ---------------------------------------------------------------- PNG


def png_split(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, at = [], 8
    while at + 8 <= len(data):
        length = struct.unpack(">I", data[at : at + 4])[0]
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


def png_chunk(kind: bytes, body: bytes, rng: random.Random | None = None) -> bytes:
    """A PNG chunk; given ``rng``, sometimes with a wrong CRC or a length that lies."""
    length, crc = len(body), zlib.crc32(kind + body) & 0xFFFFFFFF
    if rng is not None and rng.random() < 0.08:
        crc ^= 1 << rng.randrange(32)
    if rng is not None and rng.random() < 0.04:
        length = rng.choice((*INTERESTING_32, length + 1, max(0, length - 1), length * 16))
    return struct.pack(">I", length) + kind + body + struct.pack(">I", crc)


def png_join(chunks: list[bytes]) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def png_text_chunk(rng: random.Random) -> bytes:
    key = rng.choice(
        (b"XML:com.adobe.xmp", b"Comment", b"Raw profile type exif", b"", b"k" * 90, b"\xff\xfe")
    )
    kind = rng.choice((b"tEXt", b"zTXt", b"iTXt", b"iCCP"))
    if kind == b"tEXt":
        return png_chunk(kind, key + b"\x00" + b"<x>" * span(rng, 1, 30_000), rng)
    body = inflating(rng) if rng.random() < 0.9 else rng.randbytes(span(rng, 1, 4000))
    method = b"\x00" if rng.random() < 0.9 else bytes([rng.randrange(256)])
    if kind == b"iTXt":
        flag = rng.choice((b"\x01", b"\x00", b"\x07"))
        return png_chunk(kind, key + b"\x00" + flag + method + b"en\x00" + b"t\x00" + body, rng)
    return png_chunk(kind, key + b"\x00" + method + body, rng)


def png_text(rng: random.Random) -> bytes:
    """Compressed text/ICC chunks that inflate to megabytes, many of them, before or after IDAT."""
    chunks = [png_chunk(k, b) for k, b in png_split(base("PNG", rng.randrange(8)))]
    extra = [png_text_chunk(rng) for _ in range(rng.randrange(1, 4))] * span(rng, 1, 300)
    at = rng.randrange(1, len(chunks))
    return png_join(chunks[:at] + extra + chunks[at:])


def png_exif(rng: random.Random) -> bytes:
    chunks = [png_chunk(k, b) for k, b in png_split(base("PNG", rng.randrange(8)))]
    prefix = b"Exif\x00\x00" if rng.random() < 0.2 else b""
    extra = [png_chunk(b"eXIf", prefix + ht.exif_blob(rng), rng) for _ in range(span(rng, 1, 4))]
    at = rng.randrange(1, len(chunks))
    return png_join(chunks[:at] + extra + chunks[at:])


def png_structure(rng: random.Random) -> bytes:
    """Chunk-level lies: header fields, split or missing IDAT, floods, APNG frames, unknown chunks."""
    parts = png_split(base("PNG", rng.randrange(8)))
    ihdr, rest = parts[0][1], parts[1:]
    for _ in range(rng.randrange(1, 5)):
        op = rng.randrange(9)
        if op == 0:  # header fields: size, depth, colour type, compression, filter, interlace
            fields = list(struct.unpack(">IIBBBBB", ihdr))
            i = rng.randrange(7)
            fields[i] = rng.choice(INTERESTING_32) if i < 2 else rng.randrange(256)
            ihdr = struct.pack(">IIBBBBB", *fields)
        elif op == 1:  # IDAT cut into many tiny chunks
            data = b"".join(b for k, b in rest if k == b"IDAT")
            step = span(rng, 1, 64)
            idats = [(b"IDAT", data[i : i + step]) for i in range(0, len(data), step)]
            rest = idats + [(k, b) for k, b in rest if k != b"IDAT"]
        elif op == 2:  # a flood of empty or tiny chunks
            rest = [(rng.choice((b"abCd", b"tIME", b"pHYs", b"sPLT")), b"")] * span(rng, 10, 200_000) + rest
        elif op == 3:  # APNG control chunks with big numbers
            rest = [(b"acTL", struct.pack(">II", rng.choice(INTERESTING_32), rng.randrange(5))), *rest]
            fctl = struct.pack(">I", 0) + struct.pack(
                ">IIII", *(rng.choice(INTERESTING_32) for _ in range(4))
            )
            rest = rest + [(b"fcTL", fctl + rng.randbytes(6))] * span(rng, 1, 5000)
        elif op == 4:  # palette and transparency of odd sizes
            rest = [
                (b"PLTE", rng.randbytes(3 * span(rng, 1, 400))),
                (b"tRNS", rng.randbytes(span(rng, 1, 600))),
            ]
            rest += parts[1:]
        elif op == 5:  # an unknown critical chunk, or a duplicated header
            rest.insert(rng.randrange(len(rest) + 1), rng.choice(((b"ABCD", b"x"), (b"IHDR", ihdr))))
        elif op == 6:  # no IEND, or junk after it
            rest = [c for c in rest if c[0] != b"IEND"] + ([(b"IEND", b"")] if rng.random() < 0.5 else [])
            rest.append((b"IDAT", rng.randbytes(span(rng, 1, 5000))))
        elif op == 7:  # IDAT that is not zlib, or zlib of far more rows than the header says
            raw = (
                zlib.compress(b"\x00" * span(rng, 1, 8 * MB), 9) if rng.random() < 0.5 else rng.randbytes(99)
            )
            rest = [(b"IDAT", raw) if k == b"IDAT" else (k, b) for k, b in rest]
        else:  # many ICC profiles that each inflate to a megabyte
            rest = [(b"iCCP", b"icc\x00\x00" + deflated(3, MB))] * span(rng, 1, 3000) + rest
    return png_join([png_chunk(b"IHDR", ihdr, rng)] + [png_chunk(k, b, rng) for k, b in rest])


# ---------------------------------------------------------------- any format


def valid(rng: random.Random) -> bytes:
    """A real picture in an odd but legal form: it must be answered (200), not refused."""
    picture = imagegen.picture(rng.randrange(1000), (span(rng, 1, 400), span(rng, 1, 400)))
    mode = rng.choice(("RGB", "L", "LA", "RGBA", "P", "1", "CMYK", "I;16"))
    if mode == "I;16":
        return imagegen.png16(rng.randrange(1000))
    if mode == "CMYK":
        return imagegen.encode(picture.convert("CMYK"), rng.choice(("JPEG", "TIFF")))
    image = picture.convert(mode)
    fmt = rng.choice(("PNG", "TIFF", "WEBP") if mode in ("LA", "RGBA", "P", "1") else ("JPEG", "PNG", "WEBP"))
    if fmt == "WEBP" and mode in ("P", "1"):
        image = image.convert("RGB")
    extra: dict[str, object] = {}
    if fmt == "JPEG":
        extra = {"progressive": rng.random() < 0.5, "exif": ht.orientation_exif(rng.randrange(1, 9))}
    elif fmt == "PNG":
        extra = {"optimize": rng.random() < 0.3}
    elif fmt == "TIFF":
        extra = {"compression": rng.choice(("raw", "tiff_lzw", "tiff_deflate", "packbits"))}
    return imagegen.encode(image, fmt, **extra)


def any_image(rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return base(rng.choice(("JPEG", "PNG", "TIFF", "WEBP", "GIF")), rng.randrange(8))
    return FAMILIES[rng.choice(STRUCTURED)](rng)


def truncated(rng: random.Random) -> bytes:
    data = any_image(rng)
    return data[: rng.randrange(len(data))]


def mutated(rng: random.Random) -> bytes:
    """Bit flips, interesting integers, deleted/duplicated/inserted ranges in a valid small image."""
    data = bytearray(base(rng.choice(("JPEG", "PNG", "TIFF", "WEBP", "GIF")), rng.randrange(8)))
    for _ in range(span(rng, 1, 64)):
        at = rng.randrange(len(data))
        op = rng.randrange(6)
        if op == 0:
            data[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[at] = rng.choice((0, 0xFF, 0x7F, 0x80, 1))
        elif op == 2 and at + 4 <= len(data):
            struct.pack_into(rng.choice((">I", "<I")), data, at, rng.choice(INTERESTING_32))
        elif op == 3:
            del data[at : at + span(rng, 1, 256)]
        elif op == 4:
            data[at:at] = data[at : at + span(rng, 1, 256)] * span(rng, 1, 64)
        else:
            data[at:at] = rng.randbytes(span(rng, 1, 64))
        if not data:
            data = bytearray(b"\xff\xd8\xff")
    return bytes(data)


def spliced(rng: random.Random) -> bytes:
    """The head of one image glued to the tail of another (same or different format)."""
    first, second = any_image(rng), any_image(rng)
    return first[: rng.randrange(1, len(first) + 1)] + second[rng.randrange(len(second)) :]


def declared(rng: random.Random) -> bytes:
    """A tiny file whose header declares a huge (or zero) picture."""
    width, height = rng.choice(INTERESTING_32), rng.choice(INTERESTING_32)
    fmt = rng.randrange(5)
    if fmt == 0:
        return imagegen.bomb_png(width, height)
    if fmt == 1:
        data = bytearray(base("JPEG", rng.randrange(8)))
        struct.pack_into(">HH", data, data.index(b"\xff\xc0") + 5, height & 0xFFFF, width & 0xFFFF)
        return bytes(data)
    if fmt == 2:
        return ht.tiff_file(rng, width=width, height=height)
    if fmt == 3:
        return ht.webp_canvas(rng, width & 0xFFFFFF, height & 0xFFFFFF)
    data = bytearray(base("GIF", rng.randrange(8)))
    struct.pack_into("<HH", data, 6, width & 0xFFFF, height & 0xFFFF)
    return bytes(data)


def garbage(rng: random.Random) -> bytes:
    """Not an image: nothing, random bytes, a magic number alone, text that claims to be a picture."""
    return rng.choice(
        (
            b"",
            rng.randbytes(span(rng, 1, 200_000)),
            rng.choice(
                (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP")
            ),
            b'<svg xmlns="http://www.w3.org/2000/svg" width="99999" height="99999"/>',
            b"%PDF-1.4\n" + rng.randbytes(span(rng, 1, 5000)),
            b"BM" + rng.randbytes(span(rng, 1, 5000)),
        )
    )


@lru_cache(maxsize=4)
def oversized(size: int) -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + random.Random(
        size
    ).randbytes(size)


@lru_cache(maxsize=4)
def flat_png(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (side, side), side % 251).save(buffer, "PNG")
    return buffer.getvalue()


@lru_cache(maxsize=2)
def detailed(fmt: str) -> bytes:
    """7000 x 7000 with detail everywhere (49 MP, under the 50 MP limit): the dearest legal upload."""
    image = imagegen.picture(9, (700, 700)).resize((7000, 7000), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((7000, 7000), 48).convert("RGB")
    options: dict[str, object] = {"quality": 60, "method": 0} if fmt == "WEBP" else {"quality": 85}
    return imagegen.encode(Image.blend(image, grain, 0.15), fmt, **options)


def big(rng: random.Random) -> bytes:
    """Near or over the 20 MB upload limit, or a flat picture of many pixels (up to 64 MP: over 50)."""
    if rng.random() < 0.5:
        return oversized(rng.choice((19 * 1024 * 1024, 21 * 1024 * 1024)))
    return flat_png(rng.choice((2000, 4000, 7000, 8000)))


def huge(rng: random.Random) -> bytes:
    """The dearest upload the limits allow: 49 MP of detail, as a 4 MB WebP or an 11 MB JPEG.

    Sixteen random bytes after the end (ignored by both decoders) make each one new to the answer
    cache, which would otherwise answer every repeat of the two pictures at once.
    """
    return detailed(rng.choice(("WEBP", "JPEG"))) + rng.randbytes(16)


FAMILIES: dict[str, Callable[[random.Random], bytes]] = {
    "valid": valid,
    "png-text": png_text,
    "png-exif": png_exif,
    "png-structure": png_structure,
    "jpeg-segments": hj.jpeg_segments,
    "jpeg-markers": hj.jpeg_markers,
    "jpeg-scans": hj.jpeg_scans,
    "tiff-ifds": ht.tiff_ifds,
    "tiff-pages": ht.tiff_pages,
    "gif": ht.gif,
    "webp": ht.webp,
    "truncated": truncated,
    "mutated": mutated,
    "spliced": spliced,
    "declared": declared,
    "garbage": garbage,
    "big": big,
    "huge": huge,
}
SLOW_TO_MAKE = frozenset({"huge"})  # seconds to generate once: the bench's, not the unit tests' (cached)
STRUCTURED = ("png-text", "png-exif", "png-structure", "jpeg-segments", "jpeg-markers", "tiff-ifds", "webp")
WEIGHTS = {"valid": 8, "jpeg-segments": 12, "jpeg-markers": 10, "mutated": 12, "png-structure": 10}
WEIGHTS |= {"tiff-ifds": 10, "png-text": 8, "truncated": 8, "png-exif": 5, "jpeg-scans": 4, "webp": 6}
WEIGHTS |= {"declared": 6, "tiff-pages": 4, "gif": 4, "spliced": 4, "garbage": 4, "big": 1, "huge": 1}


def upload(seed: int, family: str | None = None) -> tuple[str, bytes]:
    """The hostile file for ``seed`` (of ``family``, or one drawn by weight) and its family's name."""
    rng = random.Random(seed)
    names = list(FAMILIES)
    chosen = family or rng.choices(names, weights=[WEIGHTS[n] for n in names])[0]
    return chosen, FAMILIES[chosen](rng)
