"""Embedded metadata (EXIF, IPTC, XMP) as a flat ``{name: text}`` dict.

Uploaded pictures and local collections often carry their only description
inside the file (a caption, a creator, a copyright line). We keep the human
fields, flattened and size-capped, and never let a malformed block stop an
ingest: metadata is a bonus, the image is the record.
"""

from __future__ import annotations

import re
from typing import Any

from PIL import ExifTags, Image, ImageFile, IptcImagePlugin

MAX_VALUE = 500
# EXIF tags worth keeping: who, what, when, with what, and rights.
EXIF_KEEP = {
    "ImageDescription",
    "Make",
    "Model",
    "Software",
    "DateTime",
    "Artist",
    "Copyright",
    "DateTimeOriginal",
    "UserComment",
    "XPTitle",
    "XPComment",
    "XPAuthor",
    "XPKeywords",
    "XPSubject",
}
IPTC_NAMES = {
    (2, 5): "ObjectName",
    (2, 25): "Keywords",
    (2, 55): "DateCreated",
    (2, 80): "By-line",
    (2, 90): "City",
    (2, 101): "Country",
    (2, 105): "Headline",
    (2, 110): "Credit",
    (2, 115): "Source",
    (2, 116): "CopyrightNotice",
    (2, 120): "Caption-Abstract",
}
XMP_FIELDS = ("dc:title", "dc:creator", "dc:description", "dc:rights", "dc:subject", "photoshop:Credit")


def read_metadata(im: Image.Image) -> dict[str, str]:
    """Best-effort EXIF/IPTC/XMP extraction; a broken block is skipped, never raised."""
    out: dict[str, str] = {}
    for reader in (_exif, _iptc, _xmp):
        try:
            out.update(reader(im))
        except Exception:
            continue
    return out


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        if value.startswith(b"ASCII\x00\x00\x00"):
            value = value[8:]
        for encoding in ("utf-8", "utf-16-le", "latin-1"):
            try:
                value = value.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    text = str(value).replace("\x00", "").strip()
    return text[:MAX_VALUE]


def _exif(im: Image.Image) -> dict[str, str]:
    exif = im.getexif()
    out: dict[str, str] = {}
    tags = dict(exif.items())
    tags.update(exif.get_ifd(ExifTags.IFD.Exif).items())
    for tag_id, value in tags.items():
        name = ExifTags.TAGS.get(tag_id)
        if name in EXIF_KEEP:
            text = _text(value)
            if text:
                out[f"exif:{name}"] = text
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if gps:
        out["exif:GPS"] = "present"
    return out


def _iptc(im: Image.Image) -> dict[str, str]:
    if not isinstance(im, ImageFile.ImageFile):
        return {}
    info = IptcImagePlugin.getiptcinfo(im) or {}
    out: dict[str, str] = {}
    for key, value in info.items():
        name = IPTC_NAMES.get(key)
        if not name:
            continue
        values = value if isinstance(value, list) else [value]
        text = "; ".join(t for t in (_text(v) for v in values) if t)
        if text:
            out[f"iptc:{name}"] = text[:MAX_VALUE]
    return out


def _xmp(im: Image.Image) -> dict[str, str]:
    raw = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if not raw:
        return {}
    xml = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    out: dict[str, str] = {}
    for field in XMP_FIELDS:
        match = re.search(rf"<{field}\b[^>]*>(.*?)</{field}>", xml, re.S)
        if not match:
            continue
        items = re.findall(r"<rdf:li\b[^>]*>(.*?)</rdf:li>", match.group(1), re.S) or [match.group(1)]
        text = "; ".join(re.sub(r"<[^>]+>", "", i).strip() for i in items if i.strip())
        if text:
            out[f"xmp:{field.split(':')[1]}"] = text[:MAX_VALUE]
    return out
