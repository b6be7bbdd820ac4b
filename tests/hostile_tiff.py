"""Hostile TIFF/EXIF directories, GIF and WebP animations, built from a seeded ``random.Random``.

A TIFF file and an EXIF block (JPEG APP1, PNG eXIf, JPEG MPF) share one structure: directories of
12-byte entries linked by offsets. ``Writer`` lays directories out and then links them, so the
links can be what an attacker picks: chains of thousands, loops back to any earlier directory,
offsets past the end or odd, counts that declare more entries than follow, values of 4 billion
items stored at offsets that do not exist. Used by ``hostile.py``; every choice comes from the
caller's ``rng`` so a seed rebuilds the same bytes. The small helpers every hostile module shares
(``span``, ``pick``, ``base``) are here too, at the bottom of the import chain.
"""

from __future__ import annotations

import bisect
import math
import random
import struct
from functools import lru_cache

from PIL import Image

import imagegen

INTERESTING = (0, 1, 2, 255, 256, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)
POINTER = None  # an entry whose value is a directory offset, filled in by ``Writer.link``
Entry = tuple[int, int, int, int | bytes | None]


def span(rng: random.Random, low: int, high: int) -> int:
    """An integer from ``low`` to ``high``, log-uniform: small values as often as huge ones."""
    return min(high, max(low, round(math.exp(rng.uniform(math.log(low), math.log(high))))))


@lru_cache(maxsize=128)
def base(fmt: str, variant: int = 0) -> bytes:
    """A small real picture in ``fmt`` (eight variants of content and size per format)."""
    size = ((96, 64), (33, 17), (160, 120), (1, 1), (64, 64), (17, 240), (48, 32), (120, 90))[variant % 8]
    image = imagegen.picture(variant, size)
    if fmt == "GIF":
        return imagegen.encode(image.convert("P"), "GIF")
    params: dict[str, object] = {"JPEG": {"quality": 85}, "WEBP": {"quality": 70}}.get(fmt, {})
    return imagegen.encode(image, fmt, **params)


def pick(rng: random.Random, sane: int, odds: float = 0.15) -> int:
    """``sane`` mostly; an interesting integer (zero, a boundary, 4 billion) with probability ``odds``."""
    return rng.choice(INTERESTING) if rng.random() < odds else sane


class Writer:
    """TIFF-structured bytes: directories written in order, their offsets patched by ``link``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.order = rng.choice("<>")
        self.buf = bytearray((b"II" if self.order == "<" else b"MM") + self.pack("HI", 42, 8))
        self.ifds: list[int] = []
        self.slots: list[int] = []  # where a directory offset goes: sub-directory pointers, next links

    def pack(self, fmt: str, *values: int) -> bytes:
        return struct.pack(self.order + fmt, *values)

    def blob(self, data: bytes) -> int:
        at = len(self.buf)
        self.buf += data + b"\x00" * (len(data) & 1)
        return at

    def ifd(self, entries: list[Entry], *, declared: int | None = None) -> int:
        rows: list[tuple[int, int, int, bytes | None]] = []
        for tag, kind, count, value in entries:
            if value is None:
                raw = None
            elif isinstance(value, bytes):
                raw = value.ljust(4, b"\x00") if len(value) <= 4 else self.pack("I", self.blob(value))
            elif kind == 3 and count <= 2:
                raw = self.pack("HH", value & 0xFFFF, 0)
            else:
                raw = self.pack("I", value & 0xFFFFFFFF)
            rows.append((tag, kind, count, raw))
        if self.rng.random() < 0.9:
            rows.sort(key=lambda row: row[0])
        at = len(self.buf)
        self.buf += self.pack("H", len(rows) if declared is None else declared & 0xFFFF)
        for tag, kind, count, raw in rows:
            self.buf += self.pack("HHI", tag & 0xFFFF, kind & 0xFFFF, count & 0xFFFFFFFF)
            if raw is None:
                self.slots.append(len(self.buf))
            self.buf += raw or b"\x00" * 4
        self.slots.append(len(self.buf))
        self.buf += b"\x00" * 4
        self.ifds.append(at)
        return at

    def link(self) -> bytes:
        """Point the header at the first directory and every slot at the next one, or at a lie."""
        rng = self.rng
        struct.pack_into(self.order + "I", self.buf, 4, self.ifds[0] if self.ifds else 8)
        for slot in self.slots:
            later = bisect.bisect_right(self.ifds, slot)  # directories are written in order
            roll = rng.random()
            if roll < 0.75:
                target = self.ifds[later] if later < len(self.ifds) else 0
            elif roll < 0.88:
                target = rng.choice(self.ifds)  # a loop
            elif roll < 0.95:
                target = len(self.buf) + rng.randrange(1, 1 << 20)  # past the end
            else:
                target = rng.choice(INTERESTING) | rng.randrange(2)  # anywhere, maybe odd
            struct.pack_into(self.order + "I", self.buf, slot, target & 0xFFFFFFFF)
        return bytes(self.buf)


def lying_entries(rng: random.Random, count: int) -> list[Entry]:
    """Entries of random tags and types, some with counts of billions at offsets that do not exist."""
    entries: list[Entry] = []
    for _ in range(count):
        kind = rng.choice((1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 16, 0, 13, 99))
        size = rng.choice((0, 1, 4, 40, 5000, 0xFFFFFFFF)) if rng.random() < 0.2 else span(rng, 1, 64)
        value: int | bytes = rng.randrange(1 << 32) if size > 4096 else rng.randbytes(min(size, 4096))
        entries.append((rng.randrange(65536), kind, size, value))
    return entries


def image_entries(rng: random.Random, w: Writer, width: int, height: int, odds: float = 0.15) -> list[Entry]:
    """A baseline image directory whose every field may lie (sizes, samples, strips, compression)."""
    samples = pick(rng, rng.choice((1, 3, 4)), odds)
    strips = span(rng, 1, 100_000) if rng.random() < odds else 1
    data = w.blob(rng.randbytes(span(rng, 1, 4096)))
    offsets = data if strips == 1 else w.pack(f"{strips}I", *[data] * strips)
    counts = pick(rng, 64, odds) if strips == 1 else w.pack(f"{strips}I", *[64] * strips)
    bits = pick(rng, 8, odds)
    entries: list[Entry] = [
        (256, 4, 1, width), (257, 4, 1, height),
        (258, 3, min(samples, 64), bits if samples <= 2 else w.pack(f"{min(samples, 64)}H", *[bits & 0xFFFF] * min(samples, 64))),
        (259, 3, 1, pick(rng, rng.choice((1, 5, 7, 8, 32773, 2, 3, 4, 34712)), odds)),
        (262, 3, 1, pick(rng, rng.choice((0, 1, 2, 3, 5, 6, 8, 32844)), odds)),
        (273, 4, strips, offsets), (277, 3, 1, samples), (278, 4, 1, pick(rng, height, odds)),
        (279, 4, strips, counts), (284, 3, 1, pick(rng, 1, odds)),
    ]  # fmt: skip
    if rng.random() < odds:  # tiles, colour map, predictor, sample format, extra samples
        entries += [(322, 4, 1, pick(rng, 16, 0.5)), (323, 4, 1, pick(rng, 16, 0.5))]
        entries += [(320, 3, pick(rng, 768, 0.5), rng.randbytes(1536)), (317, 3, 1, rng.randrange(5))]
        entries += [(339, 3, 1, rng.randrange(8)), (338, 3, 1, rng.randrange(4))]
    if rng.random() < odds:  # metadata: XMP, ICC, a long description, IPTC
        entries += [(700, 1, 4000, b"<dc:title>" * 400), (34675, 7, 900, rng.randbytes(900))]
        entries += [(270, 2, 70_000, b"A" * 70_000), (33723, 4, 0x40000000, 64)]
    if rng.random() < odds:  # sub-directories: SubIFDs and the Exif directory
        entries += [(330, 4, 1, POINTER), (34665, 4, 1, POINTER)]
    if rng.random() < odds:
        entries += lying_entries(rng, span(rng, 1, 200))
    return entries


def tiff_file(rng: random.Random, *, width: int, height: int) -> bytes:
    """One baseline directory declaring ``width`` x ``height`` (and little else odd)."""
    w = Writer(rng)
    w.ifd(image_entries(rng, w, width, height, odds=0.02))
    return w.link()


def tiff_ifds(rng: random.Random) -> bytes:
    """Chains of up to 20,000 directories: loops, lying counts, offsets past the end, huge sizes."""
    w = Writer(rng)
    size = (pick(rng, span(rng, 1, 300)), pick(rng, span(rng, 1, 300)))
    w.ifd(image_entries(rng, w, *size), declared=pick(rng, 0, 0.1) or None)
    for _ in range(span(rng, 1, 20_000) - 1):
        if rng.random() < 0.98 or len(w.buf) > 8_000_000:
            w.ifd([(256, 4, 1, pick(rng, 4)), (257, 4, 1, pick(rng, 4))])
        else:
            w.ifd(image_entries(rng, w, pick(rng, 4), pick(rng, 4)))
    data = w.link()
    if rng.random() < 0.05:  # a BigTIFF header on a classic body
        data = data[:2] + (b"+\x00" if data[:2] == b"II" else b"\x00+") + data[4:]
    return data


def exif_blob(rng: random.Random, *, mpf: bool = False) -> bytes:
    """An EXIF (or MPF) block: IFD0 with sub-directories nested up to 500 deep, thumbnails that lie."""
    w = Writer(rng)
    if mpf:
        entries = rng.randrange(1, 64)
        table = b"".join(
            w.pack(
                "IIIHH", rng.randrange(1 << 32), pick(rng, 9, 0.5), pick(rng, 8, 0.5), rng.randrange(65536), 0
            )
            for _ in range(entries)
        )  # attributes, size, offset, dependent images
        w.ifd(
            [
                (0xB000, 7, 4, b"0100"),
                (0xB001, 4, 1, pick(rng, entries, 0.5)),
                (0xB002, 7, 16 * entries, table),
            ]
        )
        return w.link()[:65_000]
    top: list[Entry] = [(274, 3, 1, pick(rng, rng.randrange(1, 9), 0.3)), (271, 2, 12, b"hostile cam\x00")]
    top += [(282, 5, 1, w.pack("II", 72, pick(rng, 1, 0.3))), (34665, 4, 1, POINTER), (34853, 4, 1, POINTER)]
    top += lying_entries(rng, span(rng, 1, 40)) if rng.random() < 0.3 else []
    w.ifd(top, declared=pick(rng, len(top), 0.1))
    for _ in range(span(rng, 1, 500)):
        sub: list[Entry] = [
            (37510, 7, span(rng, 1, 2000), b"UNICODE\x00" + rng.randbytes(64)),
            (40965, 4, 1, POINTER),
        ]
        sub += [(37500, 7, pick(rng, 64, 0.3), rng.randbytes(64))]
        w.ifd(sub)
        if len(w.buf) > 50_000:
            break
    w.ifd([(513, 4, 1, pick(rng, 8, 0.5)), (514, 4, 1, pick(rng, 64, 0.5)), (259, 3, 1, 6)])
    return w.link()[:65_000]


def orientation_exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def tiff_pages(rng: random.Random) -> bytes:
    """A real multi-page TIFF (2-60 pages of odd sizes and compressions), sometimes bit-flipped."""
    pages = [
        imagegen.picture(rng.randrange(1000), (span(rng, 1, 64), span(rng, 1, 64)))
        for _ in range(span(rng, 2, 60))
    ]
    compression = rng.choice(("raw", "tiff_lzw", "tiff_deflate", "packbits", "jpeg"))
    data = bytearray(
        imagegen.encode(pages[0], "TIFF", save_all=True, append_images=pages[1:], compression=compression)
    )
    for _ in range(rng.choice((0, 0, 1, 4, 16))):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


@lru_cache(maxsize=16)
def animated_gif(frames: int) -> bytes:
    return imagegen.animated_gif(frames, frames=frames)


def gif(rng: random.Random) -> bytes:
    """An animated GIF whose screen, frames or blocks lie (uploads refuse GIF: fast 415s)."""
    data = bytearray(animated_gif(rng.choice((2, 5, 30))))
    op = rng.randrange(4)
    if op == 0:
        struct.pack_into("<HH", data, 6, pick(rng, 1, 0.9) & 0xFFFF, pick(rng, 1, 0.9) & 0xFFFF)
    elif op == 1:
        descriptor = (
            b",\x00\x00\x00\x00"
            + struct.pack("<HH", pick(rng, 1) & 0xFFFF, pick(rng, 1) & 0xFFFF)
            + b"\x00\x02\x02D\x01\x00"
        )
        data[-1:] = descriptor * span(rng, 1, 100_000) + b";"
    elif op == 2:
        at = data.index(b",")
        data[at:at] = rng.choice((b"!\xfe\x00", b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")) * span(
            rng, 1, 200_000
        )
    else:
        data[data.index(b",") + 10] = rng.choice((0, 1, 12, 255))
    return bytes(data)


@lru_cache(maxsize=4)
def animated_webp(frames: int) -> bytes:
    images = [imagegen.picture(i, (16, 12)) for i in range(frames)]
    return imagegen.encode(
        images[0], "WEBP", save_all=True, append_images=images[1:], lossless=frames % 2 == 0
    )


def riff(chunks: list[bytes], size: int | None = None) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if size is None else size) + body


def webp_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)


def webp_split(data: bytes) -> list[bytes]:
    chunks, at = [], 12
    while at + 8 <= len(data):
        size = struct.unpack("<I", data[at + 4 : at + 8])[0]
        chunks.append(data[at : at + 8 + size + (size & 1)])
        at += 8 + size + (size & 1)
    return chunks


def webp_canvas(rng: random.Random, width: int, height: int) -> bytes:
    """A still VP8 picture inside a VP8X header that declares a ``width`` x ``height`` canvas."""
    still = webp_split(imagegen.encode(imagegen.picture(rng.randrange(99), (16, 12)), "WEBP"))
    vp8x = webp_chunk(b"VP8X", b"\x00\x00\x00\x00" + ((width - 1) & 0xFFFFFF).to_bytes(3, "little")
                      + ((height - 1) & 0xFFFFFF).to_bytes(3, "little"))  # fmt: skip
    return riff([vp8x, *still])


def webp(rng: random.Random) -> bytes:
    """An animated WebP with up to 20,000 frames, huge canvas or frames, metadata chunks, lying sizes."""
    chunks = webp_split(animated_webp(rng.choice((2, 3))))
    vp8x, rest = bytearray(chunks[0]), chunks[1:]
    frames = [c for c in rest if c[:4] == b"ANMF"]
    others = [c for c in rest if c[:4] != b"ANMF"]
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(5)
        if op == 0 and frames:
            frames = frames * span(rng, 1, 8_000_000 // sum(map(len, frames)))
        elif op == 1:
            vp8x[12:18] = rng.randbytes(6)  # canvas width-1, height-1 (24 bits each)
        elif op == 2 and frames:
            frame = bytearray(frames[0])
            frame[8:20] = rng.randbytes(12)  # x, y, width-1, height-1
            frames = [bytes(frame), *frames[1:]]
        elif op == 3:
            vp8x[8] |= 0x2C  # ICC, EXIF and XMP flags
            others += [
                webp_chunk(b"EXIF", exif_blob(rng)),
                webp_chunk(b"XMP ", b"<dc:title>" * span(rng, 1, 50_000)),
            ]
            others += [webp_chunk(b"ICCP", rng.randbytes(span(rng, 1, 5000)))]
        else:
            others.insert(
                0,
                rng.choice((b"ANIM", b"ALPH", b"VP8 ", b"junk")) + struct.pack("<I", rng.choice(INTERESTING)),
            )
    data = riff([bytes(vp8x), *others, *frames], size=pick(rng, 0, 0.1) or None)
    return data[: rng.randrange(12, len(data))] if rng.random() < 0.1 else data
