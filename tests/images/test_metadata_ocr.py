"""Embedded metadata and text in the picture are harvested; noise is not."""

from __future__ import annotations

import io

from PIL import Image

from asterism.images.metadata import read_metadata
from asterism.images.ocr import read_text, tesseract_available

import imagegen

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<dc:creator><rdf:Seq><rdf:li>Jane Painter</rdf:li></rdf:Seq></dc:creator>"
    b'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour at dawn</rdf:li></rdf:Alt></dc:title>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def test_exif_and_xmp_fields_are_flattened() -> None:
    exif = Image.Exif()
    exif[0x013B] = "Jane Painter"  # Artist
    exif[0x8298] = "CC BY 4.0"  # Copyright
    data = imagegen.encode(imagegen.picture(1), "JPEG", exif=exif.tobytes(), xmp=XMP)
    meta = read_metadata(Image.open(io.BytesIO(data)))
    assert meta["exif:Artist"] == "Jane Painter"
    assert meta["exif:Copyright"] == "CC BY 4.0"
    assert meta["xmp:creator"] == "Jane Painter"
    assert meta["xmp:title"] == "Harbour at dawn"


def test_hostile_metadata_is_skipped_not_raised() -> None:
    data = imagegen.encode(imagegen.picture(2), "JPEG", xmp=b"<x:xmpmeta><dc:title>unclosed" + b"\xff" * 50)
    meta = read_metadata(Image.open(io.BytesIO(data)))
    assert "xmp:title" not in meta


def test_tesseract_is_installed() -> None:
    assert tesseract_available(), "make setup installs the Debian package tesseract-ocr"


def test_ocr_reads_words_in_an_image_of_text() -> None:
    image = Image.open(io.BytesIO(imagegen.text_image("HARBOUR BOATS EXHIBITION 1874")))
    words = read_text(image).upper().split()
    assert {"HARBOUR", "BOATS", "EXHIBITION"} <= set(words)


def test_ocr_returns_nothing_for_a_painting_without_text() -> None:
    assert read_text(imagegen.picture(3, (400, 300))) == ""
