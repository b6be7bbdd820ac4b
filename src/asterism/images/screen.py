"""Walk the container structure of untrusted image bytes before Pillow does, under hard caps.

Pillow reads container structure (PNG chunks, JPEG markers, GIF blocks, TIFF
IFDs, RLE-compressed BMP) in Python, one loop iteration per unit, and inflates
compressed PNG metadata. Measured with Pillow 13 on this project's machine: a
20 MB JPEG of empty APP segments kept ``Image.open`` busy for 15 s of CPU, a
20 MB PNG of empty chunks 10 s, a 2 MB PNG of compressed ICC chunks 5 s, a
21 KB RLE bitmap 12 s; and libjpeg spends ~50 ms per extra scan of a
49-megapixel progressive JPEG. Each walk here counts the units and refuses a
file over a budget no real picture needs (the longest walk, 500 000 GIF blocks,
costs 0.2 s), so Pillow only ever sees bounded work. The walks mirror Pillow's
own parsers (where Pillow would stop, they stop) and leave every other
judgement to Pillow.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from PIL.JpegImagePlugin import MARKER

MAX_FRAMES = 10_000  # animations and multi-page TIFFs; a real GIF rarely has 2 000
PNG_INFLATED = 8 * 1024 * 1024  # all compressed text and ICC chunks, inflated
GIF_UNITS = 500_000  # blocks and sub-blocks in all; a 20 MB GIF of full 255-byte blocks has 82 000
GIF_UNITS_BEFORE_FRAME = 65_536
JPEG_SEGMENTS = 1_024  # before the first scan; a camera JPEG has about 15
JPEG_STRAY = 65_536  # bytes between markers that Pillow steps over one at a time
JPEG_EXIF_SEGMENTS = 2  # Pillow concatenates them all into one EXIF block and parses it at open
JPEG_PHOTOSHOP_RESOURCES = 4_096  # 8BIM blocks in APP13, which Pillow walks one by one at open
JPEG_SCANS = 256
JPEG_SCAN_PIXELS = 800_000_000  # scans x pixels: libjpeg re-walks the picture per scan
IFD_ENTRIES = 4_096  # per TIFF/EXIF directory; real ones hold 10-100
TIFF_STRIPS = 32_768  # Pillow makes one Python tile per strip, ~9 us each
TIFF_VALUES = 1_000_000  # numbers in one directory (a 16-bit colour map has 196 608), unpacked when read
BMP_RLE_PIXELS = 2_000_000  # Pillow decodes RLE bitmaps in Python, ~0.25 us a pixel


class Refused(ValueError):
    """The container is over a budget; ``str(exc)`` says which one."""


@dataclass(frozen=True)
class Screened:
    kind: str  # Pillow's format name as sniffed from the magic bytes, "" when not one we walk
    frames: int | None  # counted by the walk (GIF, TIFF); None: Pillow knows from the header


def sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:2] == b"BM":
        return "BMP"
    return ""


def screen(data: bytes) -> Screened:
    """The sniffed format and frame count of ``data``, or ``Refused`` when a budget is exceeded."""
    kind = sniff(data)
    walk = {"PNG": _png, "JPEG": _jpeg, "GIF": _gif, "TIFF": _tiff, "BMP": _bmp}.get(kind)
    frames = walk(data) if walk else None
    return Screened(kind, frames)


class _Budget:
    def __init__(self, limit: int, what: str) -> None:
        self.left = limit
        self.limit = limit
        self.what = what

    def spend(self, units: int = 1) -> None:
        self.left -= units
        if self.left < 0:
            raise Refused(f"too many {self.what} (more than {self.limit}): refused as a hostile file")


def _u(data: bytes, at: int, size: int, order: str) -> int:
    return int.from_bytes(data[at : at + size], "little" if order == "<" else "big")


# ---------------------------------------------------------------- PNG


def _png(data: bytes) -> None:
    # The chunks Pillow reads when opening and loading the first frame: up to the first IDAT, then on to
    # IEND or, in an animation, to the next frame's fcTL.
    chunks = _Budget(1_024 + len(data) // 1_024, "PNG chunks")
    inflated = _Budget(PNG_INFLATED, "bytes of compressed PNG text and ICC data once inflated")
    animated = seen_idat = False
    pos = 8
    while pos + 8 <= len(data):
        chunks.spend()
        length = _u(data, pos, 4, ">")
        kind = data[pos + 4 : pos + 8]
        if kind in (b"zTXt", b"iTXt", b"iCCP"):
            body = data[pos + 8 : pos + 8 + length]
            inflated.spend(_inflated_size(kind, body, inflated.left + 1))
        elif kind == b"acTL":
            animated = 1 < _u(data, pos + 8, 4, ">") <= 0x80000000
        elif kind == b"IDAT":
            seen_idat = True
        elif kind == b"IEND" or (kind == b"fcTL" and animated and seen_idat):
            break
        pos += 12 + length


def _inflated_size(kind: bytes, body: bytes, limit: int) -> int:
    """How many bytes Pillow would inflate from this chunk, counting no further than ``limit``."""
    key_end = body.find(b"\x00")
    if key_end < 0:
        return 0
    if kind == b"iTXt":  # key \0 compressed? method language \0 translated-key \0 text
        if body[key_end + 1 : key_end + 3] != b"\x01\x00":
            return 0
        parts = body[key_end + 3 :].split(b"\x00", 2)
        if len(parts) < 3:
            return 0
        payload = parts[2]
    else:  # zTXt and iCCP: key \0 method data
        payload = body[key_end + 2 :]
    try:
        return len(zlib.decompressobj().decompress(payload, max(limit, 1)))
    except zlib.error:
        return 0


# ---------------------------------------------------------------- JPEG


def _jpeg(data: bytes) -> None:
    segments = _Budget(JPEG_SEGMENTS, "JPEG segments before the image data")
    stray = _Budget(JPEG_STRAY, "stray bytes between JPEG markers")
    exif = _Budget(JPEG_EXIF_SEGMENTS, "EXIF segments in one JPEG")
    photoshop = _Budget(JPEG_PHOTOSHOP_RESOURCES, "Photoshop resources in one JPEG")
    pixels = 0
    pos = 2
    while pos + 1 < len(data):
        if data[pos] != 0xFF:  # Pillow skips junk one byte at a time
            nxt = data.find(b"\xff", pos)
            stray.spend((nxt if nxt >= 0 else len(data)) - pos)
            if nxt < 0:
                break
            pos = nxt
            continue
        code = 0xFF00 | data[pos + 1]
        if code == 0xFFFF:  # fill byte
            stray.spend()
            pos += 1
        elif code == 0xFF00:
            stray.spend(2)
            pos += 2
        elif code == 0xFFDA or code not in MARKER:  # start of scan (libjpeg's from here), or Pillow refuses
            break
        else:
            segments.spend()
            if MARKER[code][2] is None:  # no length: Pillow reads on after the marker
                pos += 2
                continue
            length = _u(data, pos + 2, 2, ">")
            if code == 0xFFE1 and data[pos + 4 : pos + 10] == b"Exif\x00\x00":
                exif.spend()
            elif code == 0xFFED and data[pos + 4 : pos + 18] == b"Photoshop 3.0\x00":
                photoshop.spend(data.count(b"8BIM", pos + 4, pos + 2 + length))
            if 0xFFC0 <= code <= 0xFFCF and code not in (0xFFC4, 0xFFC8, 0xFFCC):
                pixels = _u(data, pos + 5, 2, ">") * _u(data, pos + 7, 2, ">")
            pos += 2 + max(length, 2)
    # Entropy-coded data never holds FF DA (a scan) or FF D9 (end of image), so counting the
    # scans of the first picture (the one decoded; an MPO holds more) is exact.
    end = data.find(b"\xff\xd9", pos)
    scans = data.count(b"\xff\xda", pos, end if end >= 0 else len(data))
    limit = min(JPEG_SCANS, max(16, JPEG_SCAN_PIXELS // max(pixels, 1)))
    if scans > limit:
        raise Refused(f"JPEG has {scans} scans (at most {limit} for its size): refused as a hostile file")


# ---------------------------------------------------------------- GIF


def _gif(data: bytes) -> int:
    # Pillow walks the blocks before the first frame when it opens the file; we walk on to count frames.
    units = _Budget(GIF_UNITS, "GIF blocks")
    before_first = _Budget(GIF_UNITS_BEFORE_FRAME, "GIF blocks before the first frame")
    frames = _Budget(MAX_FRAMES, "GIF frames")
    budgets: tuple[_Budget, ...] = (units, before_first)
    flags = data[10] if len(data) > 10 else 0
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos < len(data) and data[pos] != 0x3B:  # trailer
        for budget in budgets:
            budget.spend()
        if data[pos] == 0x21:  # extension: label, then sub-blocks
            pos = _sub_blocks(data, pos + 2, budgets)
        elif data[pos] == 0x2C:  # image descriptor, local palette, LZW code size, sub-blocks
            frames.spend()
            budgets = (units,)  # Pillow stops here on opening; the C decoder reads the image data
            flags = data[pos + 9] if pos + 9 < len(data) else 0
            pos += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1
            pos = _sub_blocks(data, pos, budgets)
        else:  # Pillow steps over anything else one byte at a time
            pos += 1
    return max(MAX_FRAMES - frames.left, 1)


def _sub_blocks(data: bytes, pos: int, budgets: tuple[_Budget, ...]) -> int:
    while pos < len(data):
        for budget in budgets:
            budget.spend()
        size = data[pos]
        pos += 1 + size
        if size == 0:
            break
    return pos


# ---------------------------------------------------------------- TIFF and EXIF

_TYPE_SIZES = {
    1: 1,
    2: 1,
    3: 2,
    4: 4,
    5: 8,
    6: 1,
    7: 1,
    8: 2,
    9: 4,
    10: 8,
    11: 4,
    12: 8,
    13: 4,
    16: 8,
    17: 8,
    18: 8,
}
_NUMERIC = {3, 4, 5, 8, 9, 10, 11, 12, 13, 16, 17, 18}
_STRIPS = {273, 279, 324, 325}  # StripOffsets, StripByteCounts, TileOffsets, TileByteCounts
_SUB_IFDS = {34665, 34853, 40965}  # Exif, GPS, Interoperability


def _tiff(data: bytes) -> int:
    order = "<" if data[:2] == b"II" else ">"
    big = _u(data, 2, 2, order) == 43
    offset = _u(data, 8, 8, order) if big else _u(data, 4, 4, order)
    seen: set[int] = set()
    while offset and offset not in seen and offset < len(data):  # Pillow ends a looping chain too
        seen.add(offset)
        if len(seen) > MAX_FRAMES:
            raise Refused(f"TIFF has more than {MAX_FRAMES} pages: refused as a hostile file")
        offset = check_ifd(data, offset, order, big, deep=len(seen) == 1)
    return max(len(seen), 1)


def check_ifd(data: bytes, offset: int, order: str, big: bool = False, *, deep: bool = True) -> int:
    """Refuse an IFD with too many entries or (``deep``) oversized arrays; returns the next IFD's offset.

    ``deep`` also checks the entries, and the Exif/GPS sub-directories they
    point to: what Pillow reads when it opens the first page or its EXIF.
    """
    count_size, entry_size, value_size = (8, 20, 8) if big else (2, 12, 4)
    count = _u(data, offset, count_size, order)
    if count > IFD_ENTRIES:
        raise Refused(
            f"TIFF/EXIF directory has {count} entries (at most {IFD_ENTRIES}): refused as a hostile file"
        )
    start = offset + count_size
    if deep:
        for sub in _check_entries(data, start, count, order, big):
            if 0 < sub < len(data) and sub != offset:
                _check_entries(data, sub + count_size, _u(data, sub, count_size, order), order, big)
    end = start + count * entry_size
    return _u(data, end, value_size, order) if end + value_size <= len(data) else 0


def _check_entries(data: bytes, start: int, count: int, order: str, big: bool) -> list[int]:
    """Refuse oversized arrays among ``count`` entries; returns the sub-directories they point to."""
    if count > IFD_ENTRIES:
        raise Refused(
            f"TIFF/EXIF directory has {count} entries (at most {IFD_ENTRIES}): refused as a hostile file"
        )
    entry_size, value_size = (20, 8) if big else (12, 4)
    subs = []
    numbers = _Budget(TIFF_VALUES, "numbers in one TIFF/EXIF directory")
    for i in range(min(count, (len(data) - start) // entry_size)):
        at = start + i * entry_size
        tag, kind = _u(data, at, 2, order), _u(data, at + 2, 2, order)
        values = _u(data, at + 4, value_size, order)
        if tag in _STRIPS and values > TIFF_STRIPS:
            raise Refused(
                f"TIFF has {values} strips or tiles (at most {TIFF_STRIPS}): refused as a hostile file"
            )
        if kind in _NUMERIC:
            numbers.spend(values)
        if tag in _SUB_IFDS and values == 1 and _TYPE_SIZES.get(kind, 0) in (4, 8):
            subs.append(_u(data, at + 4 + value_size, _TYPE_SIZES[kind], order))
    return subs


def check_exif(block: bytes) -> None:
    """Refuse an EXIF block whose directories are over budget (the block is a small TIFF)."""
    if block.startswith(b"Exif\x00\x00"):
        block = block[6:]
    if block[:4] not in (b"II*\x00", b"MM\x00*"):
        return
    order = "<" if block[:2] == b"II" else ">"
    first = _u(block, 4, 4, order)
    if 0 < first < len(block):
        check_ifd(block, first, order)


# ---------------------------------------------------------------- BMP


def _bmp(data: bytes) -> None:
    header = _u(data, 14, 4, "<")
    if header < 40 or len(data) < 34:
        return
    compression = _u(data, 30, 4, "<")
    if compression in (1, 2):  # RLE8, RLE4
        width = abs(int.from_bytes(data[18:22], "little", signed=True))
        height = abs(int.from_bytes(data[22:26], "little", signed=True))
        if width * height > BMP_RLE_PIXELS:
            raise Refused(
                f"RLE-compressed BMP of {width}x{height} pixels is over the limit of {BMP_RLE_PIXELS}"
                " pixels (it is decoded in Python)"
            )
