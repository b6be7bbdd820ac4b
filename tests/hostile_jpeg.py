"""Hostile JPEGs from a seeded ``random.Random``: APPn segments, tampered markers, repeated scans.

What an attacker controls in a JPEG before libjpeg sees the image data: APPn segments (EXIF and
MPF directories from ``hostile_tiff``, XMP nested thousands deep or with entity expansion,
extended XMP, ICC profiles whose chunk numbers and sizes lie, Photoshop resources, JFXX
thumbnails), up to 2,000 of them with lengths that lie; the frame header (sizes, precision,
components, sampling, frame type); stray markers, fill and junk bytes, restart markers; and
progressive scans repeated hundreds of times. Used by ``hostile.py``.
"""

from __future__ import annotations

import random
import struct
from functools import lru_cache

import hostile_tiff as ht
from hostile_tiff import INTERESTING as INTERESTING_32
from hostile_tiff import base, span

import imagegen

MB = 1_000_000
INTERESTING_16 = (0, 1, 2, 255, 256, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF)


def segment(marker: int, payload: bytes, rng: random.Random | None = None) -> bytes:
    payload = payload[:65_533]
    length = len(payload) + 2
    if rng is not None and rng.random() < 0.04:
        length = rng.choice((0, 1, 2, length + 1, length + 1000, 0xFFFF))
    return struct.pack(">HH", marker, length) + payload


def xml(rng: random.Random) -> bytes:
    """XMP-like text: deep nesting, open tags, entity expansion, huge attributes."""
    depth = span(rng, 1, 6000)
    return rng.choice(
        (
            b"<x:xmpmeta>" + b"<rdf:Bag>" * depth + b"<rdf:li>t</rdf:li>" + b"</rdf:Bag>" * depth,
            b"<dc:title>" * depth,
            b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><x>' + b"&c;" * depth + b"</x>",
            b'<rdf:Description dc:title="' + b"\xe2\x80\xae" * depth + b'"/>',
        )
    )


def app_payload(rng: random.Random) -> tuple[int, bytes]:
    """One APPn/COM segment an attacker fills: EXIF, XMP, extended XMP, ICC, MPF, Photoshop, JFXX."""
    kind = rng.randrange(8)
    if kind == 0:
        return 0xFFE1, b"Exif\x00\x00" + ht.exif_blob(rng)
    if kind == 1:
        return 0xFFE1, b"http://ns.adobe.com/xap/1.0/\x00" + xml(rng)
    if kind == 2:
        head = b"http://ns.adobe.com/xmp/extension/\x00" + b"0" * 32
        return 0xFFE1, head + struct.pack(
            ">II", rng.choice(INTERESTING_32), rng.choice(INTERESTING_32)
        ) + xml(rng)
    if kind == 3:
        seq, count = rng.randrange(256), rng.randrange(256)
        profile = struct.pack(">I", rng.choice(INTERESTING_32)) + rng.randbytes(124)
        profile += struct.pack(">I", rng.choice(INTERESTING_32)) + rng.randbytes(span(rng, 1, 60_000))
        return 0xFFE2, b"ICC_PROFILE\x00" + bytes([seq, count]) + profile
    if kind == 4:
        return 0xFFE2, b"MPF\x00" + ht.exif_blob(rng, mpf=True)
    if kind == 5:
        resource = b"8BIM" + struct.pack(">HBBI", rng.choice((0x0404, 0x040C, 0x0409)), 0, 0, 0)
        lie = b"8BIM" + struct.pack(">HBBI", 0x0404, 0, 0, rng.choice(INTERESTING_32))
        return 0xFFED, b"Photoshop 3.0\x00" + resource * span(rng, 1, 5000) + lie
    if kind == 6:
        thumb = struct.pack(">BB", rng.randrange(256), rng.randrange(256))
        return 0xFFE0, b"JFXX\x00\x13" + thumb + rng.randbytes(span(rng, 1, 60_000))
    return rng.choice((0xFFFE, 0xFFE3, 0xFFEE, 0xFFEF)), rng.randbytes(span(rng, 1, 65_000))


def jpeg_segments(rng: random.Random) -> bytes:
    """APPn segments after SOI: huge, many (up to 2,000), nested, lying about their length."""
    picture = base("JPEG", rng.randrange(8))
    kinds = [app_payload(rng) for _ in range(rng.randrange(1, 4))]
    count = span(rng, 1, 2000)
    segments = [segment(*kinds[i % len(kinds)], rng if i < 8 else None) for i in range(count)]
    while sum(map(len, segments)) > 8 * MB:
        segments = segments[: len(segments) // 2]
    data = picture[:2] + b"".join(segments) + picture[2:]
    return data[: rng.randrange(2, len(data))] if rng.random() < 0.1 else data


def jpeg_markers(rng: random.Random) -> bytes:
    """Markers tampered with: SOF sizes and components, odd SOF types, stray markers and bytes."""
    data = bytearray(base("JPEG", rng.randrange(8)))
    for _ in range(rng.randrange(1, 5)):
        sof = max(0, data.find(b"\xff\xc0"))  # moved by earlier insertions, or changed into another SOF
        sos = max(3, data.find(b"\xff\xda"))
        op = rng.randrange(7)
        if op == 0:  # height, width
            struct.pack_into(
                ">HH",
                data,
                min(sof + 5, len(data) - 4),
                rng.choice(INTERESTING_16),
                rng.choice(INTERESTING_16),
            )
        elif op == 1:  # precision, components, sampling factors, table numbers
            data[min(sof + rng.choice((4, 9, 11, 12, 14)), len(data) - 1)] = rng.choice(
                (0, 1, 3, 12, 15, 16, 0x44, 0xFF)
            )
        elif op == 2:  # another frame type: extended, progressive, lossless, arithmetic, hierarchical
            data[min(sof + 1, len(data) - 1)] = rng.choice(
                (0xC1, 0xC2, 0xC3, 0xC5, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCF)
            )
        elif op == 3:  # a random marker with a random body somewhere before the scan
            at = rng.randrange(2, sos)
            data[at:at] = bytes([0xFF, rng.randrange(0xC0, 0xFF)]) + rng.randbytes(span(rng, 1, 300))
        elif op == 4:  # fill bytes or stray bytes between markers
            data[2:2] = rng.choice((b"\xff", b"\x00", b"\xff\x00")) * span(rng, 1, 200_000)
        elif op == 5:  # restart interval and restart markers in odd places
            data[2:2] = segment(0xFFDD, struct.pack(">H", rng.choice(INTERESTING_16)))
            at = rng.randrange(min(sos, len(data) - 1), len(data))
            data[at:at] = bytes([0xFF, rng.randrange(0xD0, 0xD8)]) * span(rng, 1, 1000)
        else:  # tables of garbage, twice
            data[2:2] = (segment(rng.choice((0xFFDB, 0xFFC4)), rng.randbytes(span(rng, 1, 600)))) * 2
    return bytes(data)


@lru_cache(maxsize=8)
def progressive(size: tuple[int, int]) -> bytes:
    return imagegen.encode(imagegen.picture(size[0], size).convert("L"), "JPEG", progressive=True)


def jpeg_scans(rng: random.Random) -> bytes:
    """A progressive JPEG with its last scan repeated up to 600 times, or scans with bogus parameters."""
    data = progressive(rng.choice(((64, 48), (640, 480), (1600, 1200), (3000, 2000))))
    last, eoi = data.rindex(b"\xff\xda"), data.rindex(b"\xff\xd9")
    scan = bytearray(data[last:eoi])
    if rng.random() < 0.3:  # spectral selection and successive approximation out of range
        header = struct.unpack(">H", scan[2:4])[0] + 2
        scan[header - 3 : header] = rng.randbytes(3)
    repeats = span(rng, 1, min(600, 16 * MB // len(scan)))  # under the 20 MB upload limit
    return data[:eoi] + bytes(scan) * repeats + data[eoi:]
