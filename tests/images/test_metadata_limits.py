"""The capped, linear metadata readers still read what the old ones read.

The XMP regexes were replaced by ``str.find`` walks, IPTC by our own record
walk, and EXIF is skipped when its block is over budget; these tests pin the
behaviour that must survive: same fields out of real-shaped blocks, and the
old regex semantics on any small input (a differential test against them).
"""

from __future__ import annotations

import io
import re
import struct

import hostilegen as h
import numpy as np
from PIL import Image

from asterism.images.decode import decode_image
from asterism.images.metadata import MAX_VALUE, XMP_FIELDS, exif_readable, read_metadata

import imagegen

LIMITS = {"max_pixels": 50_000_000, "max_bytes": 20 * 1024 * 1024}


def regex_xmp(xml: str) -> dict[str, str]:
    """The replaced parser, kept as the oracle (quadratic on hostile input, fine on small input).

    One intentional change: empty items are dropped after their tags are stripped, not before.
    """
    out: dict[str, str] = {}
    for field in XMP_FIELDS:
        match = re.search(rf"<{field}\b[^>]*>(.*?)</{field}>", xml, re.S)
        if not match:
            continue
        items = re.findall(r"<rdf:li\b[^>]*>(.*?)</rdf:li>", match.group(1), re.S) or [match.group(1)]
        text = "; ".join(t for t in (re.sub(r"<[^>]+>", "", i).strip() for i in items) if t)
        if text:
            out[f"xmp:{field.split(':')[1]}"] = text[:MAX_VALUE]
    return out


TOKENS = [
    "<dc:title>", "</dc:title>", "<dc:title xml:lang='x'>", "<dc:titles>", "<dc:title/>", "<dc:creator>",
    "</dc:creator>", "<rdf:li>", "</rdf:li>", "<rdf:li a='1'>", "<rdf:lix>", "<b>", "</b>", "<>", "<", ">",
    "a", " ", "Harbour", "\n", "é", "<photoshop:Credit>", "</photoshop:Credit>",
]  # fmt: skip


def test_xmp_walk_matches_the_regex_parser_on_small_inputs() -> None:
    rng = np.random.default_rng(7)
    for _ in range(3_000):
        xml = "".join(rng.choice(TOKENS, size=int(rng.integers(0, 30))))
        if rng.random() < 0.5:  # a list element around the noise, as real XMP has
            xml = (
                f"<dc:creator><rdf:Seq><rdf:li>Jane</rdf:li>{xml}<rdf:li>Joe</rdf:li></rdf:Seq></dc:creator>"
            )
        im = Image.new("RGB", (1, 1))
        im.info["xmp"] = xml.encode()
        got = {k: v for k, v in read_metadata(im).items() if k.startswith("xmp:")}
        assert got == regex_xmp(xml), xml


def test_long_xmp_lists_are_cut_at_the_value_cap_like_before() -> None:
    names = "".join(f"<rdf:li>Painter number {i}</rdf:li>" for i in range(200))
    xml = f"<dc:creator><rdf:Seq>{names}</rdf:Seq></dc:creator>"
    im = Image.new("RGB", (1, 1))
    im.info["xmp"] = xml
    assert read_metadata(im)["xmp:creator"] == regex_xmp(xml)["xmp:creator"]
    assert len(read_metadata(im)["xmp:creator"]) == MAX_VALUE


def test_iptc_fields_are_read_from_a_jpeg() -> None:
    data = h.jpeg_iptc(
        [(1, 90, b"\x1b%G"), (2, 5, b"Harbour"), (2, 25, b"sea"), (2, 25, b"boats"), (2, 80, b"Jane")]
    )
    meta = read_metadata(Image.open(io.BytesIO(data)))
    assert meta["iptc:ObjectName"] == "Harbour"
    assert meta["iptc:Keywords"] == "sea; boats"
    assert meta["iptc:By-line"] == "Jane"


def test_a_long_value_is_cut_between_characters_not_inside_one() -> None:
    # Cutting 3-byte UTF-8 characters at a byte cap used to fall through to a UTF-16 reading: mojibake.
    data = h.jpeg_iptc([(2, 120, "€".encode() * 3_000)])
    assert read_metadata(Image.open(io.BytesIO(data)))["iptc:Caption-Abstract"] == "€" * MAX_VALUE


def test_iptc_fields_are_read_from_a_tiff_tag() -> None:
    block = b"\x1c\x02\x05" + struct.pack(">H", 7) + b"Harbour"
    data = h.tiff_with_tag(33723, 7, len(block), block)
    assert read_metadata(Image.open(io.BytesIO(data)))["iptc:ObjectName"] == "Harbour"


def test_hostile_iptc_records_are_bounded_and_skipped_cleanly() -> None:
    # 13 000 empty keyword records, then a record claiming a 4 GB extended length.
    flood = [(2, 25, b"")] * 13_000
    data = h.jpeg_iptc(flood)
    assert "iptc:Keywords" not in read_metadata(Image.open(io.BytesIO(data)))
    extended = b"\x1c\x02\x05\x80\x04" + struct.pack(">I", 2**32 - 1) + b"Harbour"
    data = h.tiff_with_tag(33723, 7, len(extended), extended)
    assert "iptc:ObjectName" in read_metadata(Image.open(io.BytesIO(data)))  # cut short, not raised


def test_exif_is_read_from_a_png_and_its_orientation_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x013B] = "Jane Painter"
    data = imagegen.encode(imagegen.picture(1, (80, 40)), "PNG", exif=exif.tobytes())
    decoded = decode_image(data, **LIMITS)
    assert decoded.image.size == (40, 80)
    assert decoded.metadata["exif:Artist"] == "Jane Painter"


def test_an_exif_block_over_budget_is_skipped_not_parsed() -> None:
    small = Image.open(io.BytesIO(h.png_exif(h.exif_many_entries(100, 100))))
    assert exif_readable(small)
    assert read_metadata(small)["exif:ImageDescription"].startswith("A")
    huge = Image.open(io.BytesIO(h.png_exif(h.exif_many_entries())))
    assert not exif_readable(huge)
    assert not any(key.startswith("exif:") for key in read_metadata(huge))
