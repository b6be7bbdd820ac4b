"""Embedded metadata (EXIF, IPTC, XMP) as a flat ``{name: text}`` dict.

Uploaded pictures and local collections often carry their only description
inside the file (a caption, a creator, a copyright line). We keep the human
fields, flattened and size-capped, and never let a malformed block stop an
ingest: metadata is a bonus, the image is the record.

Every block is attacker-controlled and can be far larger than the file (Pillow
inflates a compressed PNG text chunk to up to 1 MB), so each is capped before
it is parsed and parsed in linear time: ``str.find`` walks instead of regexes.
The regexes this replaced (``<dc:title\\b[^>]*>(.*?)</dc:title>``) backtracked
quadratically over unterminated tags: a 2 KB PNG whose XMP inflated to 1 MB of
``<dc:title `` cost 99 s of CPU, holding the GIL.
"""

from __future__ import annotations

from typing import Any

from PIL import ExifTags, Image

from asterism.images.screen import Refused, check_exif

MAX_VALUE = 500
MAX_XMP_CHARS = 256 * 1024  # longer XMP (Photoshop history, thumbnails) is cut before parsing
MAX_EXIF_BYTES = 256 * 1024  # a JPEG's APP1 holds 64 KB; bigger EXIF blocks are skipped
MAX_IPTC_BYTES = 64 * 1024  # one Photoshop APP13 segment
MAX_IPTC_RECORDS = 2_000
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
IPTC_NAA = 33723  # the TIFF tag holding an IPTC block


def read_metadata(im: Image.Image) -> dict[str, str]:
    """Best-effort EXIF/IPTC/XMP extraction; a broken or oversized block is skipped, never raised."""
    out: dict[str, str] = {}
    for reader in (_exif, _iptc, _xmp):
        try:
            out.update(reader(im))
        except Exception:
            continue
    return out


def exif_readable(im: Image.Image) -> bool:
    """Whether ``im.getexif()`` is bounded work: the block is small and its directories in budget.

    A TIFF's EXIF is the file's own first directory, already checked by the
    container screen; other formats carry it as a block in ``im.info``.
    """
    block = im.info.get("exif")
    if block is None:
        raw = im.info.get("Raw profile type exif")  # PNG text form, hex
        if raw is None:
            return True
        if len(raw) > 2 * MAX_EXIF_BYTES + 1024:
            return False
        try:
            block = bytes.fromhex("".join(str(raw).split("\n")[3:]))
        except ValueError:
            return False
    if not isinstance(block, bytes) or len(block) > MAX_EXIF_BYTES:
        return False
    try:
        check_exif(block)
    except Refused:
        return False
    return True


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = _decode(value[: 4 * MAX_VALUE + 8], cut=len(value) > 4 * MAX_VALUE + 8)
    elif isinstance(value, tuple | list):
        value = value[: 4 * MAX_VALUE]
    text = str(value)[: 4 * MAX_VALUE].replace("\x00", "").strip()
    return text[:MAX_VALUE]


def _decode(raw: bytes, *, cut: bool) -> str:
    """UTF-8, else UTF-16 (Windows XP tags), else Latin-1; a character split by our own cut is dropped."""
    if raw.startswith(b"ASCII\x00\x00\x00"):
        raw = raw[8:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if cut and exc.reason == "unexpected end of data":
            return raw[: exc.start].decode("utf-8")
    try:
        return raw.decode("utf-16-le")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _exif(im: Image.Image) -> dict[str, str]:
    if not exif_readable(im):
        return {}
    exif = im.getexif()
    out: dict[str, str] = {}
    # IFD0 values are decoded on access, so only the kept ones are (a TIFF's IFD0 also holds its strips).
    tags = {tag_id: exif[tag_id] for tag_id in list(exif) if ExifTags.TAGS.get(tag_id) in EXIF_KEEP}
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
    block = _iptc_block(im)
    if not block:
        return {}
    out: dict[str, str] = {}
    for key, values in _iptc_records(block[:MAX_IPTC_BYTES]).items():
        text = "; ".join(t for t in (_text(v) for v in values) if t)
        if text:
            out[f"iptc:{IPTC_NAMES[key]}"] = text[:MAX_VALUE]
    return out


def _iptc_block(im: Image.Image) -> bytes | None:
    """The raw IPTC-NAA block: a Photoshop resource in JPEG, a tag in TIFF (as Pillow's getiptcinfo)."""
    photoshop = im.info.get("photoshop")
    if isinstance(photoshop, dict):
        block = photoshop.get(0x0404)
        return block if isinstance(block, bytes) else None
    tags = getattr(im, "tag_v2", None)
    raw = getattr(tags, "_tagdata", {}).get(IPTC_NAA) if tags is not None else None
    return raw if isinstance(raw, bytes) else None


def _iptc_records(block: bytes) -> dict[tuple[int, int], list[bytes]]:
    """The kept datasets of an IPTC-IIM block, walked record by record (at most MAX_IPTC_RECORDS)."""
    out: dict[tuple[int, int], list[bytes]] = {}
    pos = 0
    for _ in range(MAX_IPTC_RECORDS):
        if pos + 5 > len(block) or block[pos] != 0x1C:
            break
        key = (block[pos + 1], block[pos + 2])
        size = int.from_bytes(block[pos + 3 : pos + 5], "big")
        pos += 5
        if size & 0x8000:  # extended dataset: the low bits say how many bytes hold the length
            width = size & 0x7FFF
            if width > 4:
                break
            size = int.from_bytes(block[pos : pos + width], "big")
            pos += width
        if key in IPTC_NAMES:  # _text cuts long values, knowing they were long
            out.setdefault(key, []).append(block[pos : pos + min(size, 4 * MAX_VALUE + 9)])
        pos += size
    return out


def _xmp(im: Image.Image) -> dict[str, str]:
    raw = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
    if not raw:
        return {}
    if isinstance(raw, bytes):
        xml = raw[: 4 * MAX_XMP_CHARS].decode("utf-8", "replace")[:MAX_XMP_CHARS]
    else:
        xml = str(raw)[:MAX_XMP_CHARS]
    out: dict[str, str] = {}
    for field in XMP_FIELDS:
        found = _element(xml, field)
        if found is None:
            continue
        content = found[0]
        items: list[str] = []
        pos, joined = 0, -2  # joined: length of "; ".join(items)
        while joined < MAX_VALUE and (item := _element(content, "rdf:li", pos)) is not None:
            text, pos = _strip_tags(item[0]).strip(), item[1]
            if text:
                items.append(text)
                joined += len(text) + 2
        if not items and pos == 0:
            items = [t for t in (_strip_tags(content).strip(),) if t]
        if items:
            out[f"xmp:{field.split(':')[1]}"] = "; ".join(items)[:MAX_VALUE]
    return out


def _element(xml: str, name: str, start: int = 0) -> tuple[str, int] | None:
    """Content of the first complete ``<name ...>...</name>`` at or after ``start``, and where it ends.

    Only ``str.find`` moving forward, so linear in ``len(xml)``: the first open
    tag without a ``>`` or a matching close means no later one has either.
    """
    open_tag, close_tag = "<" + name, "</" + name + ">"
    at = start
    while (at := xml.find(open_tag, at)) >= 0:
        after = at + len(open_tag)
        if after < len(xml) and (xml[after].isalnum() or xml[after] == "_"):
            at = after  # a longer name, such as <dc:titles>
            continue
        tag_end = xml.find(">", after)
        if tag_end < 0:
            return None
        close = xml.find(close_tag, tag_end + 1)
        if close < 0:
            return None
        return xml[tag_end + 1 : close], close + len(close_tag)
    return None


def _strip_tags(text: str) -> str:
    """``text`` without ``<...>`` tags, in one forward pass (what ``re.sub("<[^>]+>", "")`` did)."""
    parts: list[str] = []
    pos = 0
    while (lt := text.find("<", pos)) >= 0:
        gt = text.find(">", lt + 1)
        if gt < 0:
            break
        if gt == lt + 1:  # "<>" is not a tag
            parts.append(text[pos : lt + 1])
            pos = lt + 1
            continue
        parts.append(text[pos:lt])
        pos = gt + 1
    parts.append(text[pos:])
    return "".join(parts)
