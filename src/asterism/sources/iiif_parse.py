"""Reading IIIF Presentation 2.x and 3.0 documents into plain facts, without any network.

Both versions describe the same things with different words, and the files
in circulation bend both (``shared/data/iiif/README.md`` lists real cases):
v2 labels are strings, ``@value`` arrays or ``{"value", "language"}`` pairs;
v3 labels are language maps, sometimes with keys like ``"true"``; a v3
``homepage`` may be an object instead of an array; ``rights`` may be ``""``.
Every reader here accepts the forms seen in real files and returns ``None``
or ``[]`` for what it cannot read, so one odd property never costs a record;
only a document that is not a manifest, or a canvas without an image, is an
error (``SourceError`` with the reason).

Languages: a configured language first (primary subtag, so "en" matches
"en-GB"), then ``none`` (v3's "no language") or untagged v2 values, then
English, then whatever comes first, as the Presentation API 3.0 asks clients
to fall back.

Images: the painting annotation's body (v3) or resource (v2), the default
of a ``Choice``; its best Image API service (ImageService3 over 2 over 1.1)
is asked for the size the pipeline keeps (``image_url``), respecting the
service's compliance level (see ``size_parameter``).
"""

from __future__ import annotations

import contextlib
import html
import re
from dataclasses import dataclass, field
from typing import Any

from asterism.sources.base import SourceError

JSON = dict[str, Any]
_LEVEL = re.compile(r"level([0-2])(?:\.json)?$")


def as_list(value: Any) -> list[Any]:
    """A property that may be one value or a list, as a list (``None``: empty)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ident(node: Any) -> str | None:
    """The id of a node (v3 ``id``, v2 ``@id``) or a bare string reference; ``None`` if empty."""
    if isinstance(node, str):
        return node.strip() or None
    if isinstance(node, dict):
        value = node.get("id") or node.get("@id")
        return value.strip() or None if isinstance(value, str) else None
    return None


def kind(node: JSON) -> str:
    """The type without its v2 prefix: ``sc:Manifest`` and ``Manifest`` are both "Manifest"."""
    value = node.get("type") or node.get("@type") or ""
    return str(value[0] if isinstance(value, list) and value else value).rsplit(":", 1)[-1]


def plain(text: str) -> str:
    """Text without HTML tags and entities, spaces collapsed, double-encoded UTF-8 repaired.

    Repair only when the text decodes cleanly back (``Ã—`` -> ``×``, ``â€“`` -> ``–``), so
    correct text with such characters is never touched.
    """
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()
    if re.search("[ÃÂâ][\u0080-\u00bf\u2010-\u203a\u20ac\u0152-\u0178]", text):
        with contextlib.suppress(UnicodeError):
            text = text.encode("cp1252").decode("utf-8")
    return re.sub(r"\s+([.,;:!?])", r"\1", text)


def _primary(tag: str) -> str:
    return tag.lower().split("-", 1)[0]


def texts(value: Any, language: str) -> list[str]:
    """Every string of a label-like value in the best language (see the module docstring)."""
    if value is None:
        return []
    if isinstance(value, dict) and not ({"@value", "value"} & value.keys()):  # a v3 language map
        candidates = {str(k): [v for v in as_list(vs) if isinstance(v, str)] for k, vs in value.items()}
        candidates = {k: vs for k, vs in candidates.items() if any(v.strip() for v in vs)}
        order = [k for k in candidates if _primary(k) == _primary(language)]
        order += [k for k in ("none", "@none") if k in candidates]
        order += [k for k in candidates if _primary(k) == "en"] + list(candidates)
        return [plain(v) for v in candidates[order[0]] if v.strip()] if order else []
    tagged: list[tuple[str | None, str]] = []
    for item in as_list(value):
        if isinstance(item, str):
            tagged.append((None, item))
        elif isinstance(item, dict):
            text = item.get("@value", item.get("value"))
            lang = item.get("@language", item.get("language"))
            if isinstance(text, str):
                tagged.append((lang if isinstance(lang, str) else None, text))
    tagged = [(lang, text) for lang, text in tagged if text.strip()]
    for wanted in (_primary(language), None, "en"):
        chosen = [t for lang, t in tagged if (lang and _primary(lang)) == wanted]
        if chosen:
            return [plain(t) for t in chosen]
    return [plain(t) for _, t in tagged[:1]]


def text(value: Any, language: str, sep: str = "; ") -> str | None:
    """One string for a label-like value (several values joined), or ``None``."""
    found = [t for t in texts(value, language) if t]
    return sep.join(dict.fromkeys(found)) or None


@dataclass(frozen=True)
class ImageService:
    """An Image API service as the manifest describes it (no info.json is fetched)."""

    id: str
    version: int  # 1 (1.1), 2 or 3
    level: int | None  # compliance level 0-2; None when not stated or not a real level
    width: int | None = None
    height: int | None = None
    sizes: tuple[tuple[int, int], ...] = ()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def image_service(node: JSON) -> ImageService | None:
    """The best Image API service of a resource: ImageService3 over 2 over 1.1, else ``None``."""
    found: list[ImageService] = []
    for service in as_list(node.get("service")):
        if not isinstance(service, dict) or not ident(service):
            continue
        context = " ".join(str(c) for c in as_list(service.get("@context")))
        profiles = [p for p in as_list(service.get("profile")) if isinstance(p, str)]
        marks = f"{kind(service)} {context} {' '.join(profiles)}"
        if "ImageService3" in marks or "api/image/3" in marks:
            version = 3
        elif "ImageService2" in marks or "api/image/2" in marks:
            version = 2
        elif "image-api" in marks or "ImageService1" in marks:
            version = 1
        elif any(_LEVEL.search(p) for p in profiles):
            version = 3 if kind(service) == "ImageService3" else 2
        else:
            continue  # a search, auth or physical-dimensions service, not an image server
        levels = [int(m.group(1)) for p in profiles if (m := _LEVEL.search(p.split("#")[-1]))]
        sizes = tuple(
            (w, h)
            for s in as_list(service.get("sizes"))
            if isinstance(s, dict) and (w := _int(s.get("width"))) and (h := _int(s.get("height")))
        )
        found.append(
            ImageService(
                id=str(ident(service)).rstrip("/"),
                version=version,
                level=levels[0] if levels else None,
                width=_int(service.get("width")) or _int(node.get("width")),
                height=_int(service.get("height")) or _int(node.get("height")),
                sizes=sizes,
            )
        )
    return max(found, key=lambda s: s.version) if found else None


def size_parameter(service: ImageService, target: int) -> str:
    """The Image API size that gives the long side ``target`` px, in a form the level supports.

    Level 0 serves only listed ``sizes`` (as ``w,h``) and the full image: the smallest listed
    size covering the target, else the largest listed, else the full image. An image already
    within the target is asked for whole (v3 forbids upscaling without ``^``). Level 2 takes
    ``!t,t`` (fit in a box); level 1, 1.1 and unknown levels take only a width or a height.
    """
    full = "max" if service.version == 3 else "full"
    if service.level == 0:
        if not service.sizes:
            return full
        covering = [s for s in service.sizes if max(s) >= target]
        listed = min(covering, key=max) if covering else max(service.sizes, key=max)
        return f"{listed[0]},{listed[1]}"
    width, height = service.width, service.height
    if width and height and max(width, height) <= target:
        return full
    if service.level == 2 and service.version > 1:
        return f"!{target},{target}"
    return f",{target}" if (width and height and height > width) else f"{target},"


def image_url(service: ImageService, target: int) -> str:
    """``{id}/full/{size}/0/default.jpg`` (Image API 1.1 calls the quality ``native``)."""
    quality = "native" if service.version == 1 else "default"
    return f"{service.id}/full/{size_parameter(service, target)}/0/{quality}.jpg"


def full_url(service: ImageService) -> str:
    """The whole image, the one size every level must serve: the fallback when a size is refused."""
    quality = "native" if service.version == 1 else "default"
    return f"{service.id}/full/{'max' if service.version == 3 else 'full'}/0/{quality}.jpg"


@dataclass
class Canvas:
    """One canvas with the image that paints it."""

    id: str
    label: str | None
    resource_url: str | None  # the painting image's own URL (may already be a derivative)
    service: ImageService | None
    rights: str | None = None  # a canvas-level licence (v2 ``license``, v3 ``rights``)
    metadata: list[tuple[str, str]] = field(default_factory=list)


def _painting_image(annotations: list[Any], canvas_id: str) -> JSON | None:
    """The image that paints the whole canvas: whole-canvas targets first, a Choice's first item."""

    def target_of(anno: JSON) -> str:
        target = anno.get("target", anno.get("on"))
        return ident(target if not isinstance(target, list) else (target or [None])[0]) or ""

    painting = [
        a
        for a in annotations
        if isinstance(a, dict) and str(a.get("motivation", "painting")).endswith("painting")
    ]
    painting.sort(key=lambda a: "#xywh=" in target_of(a))  # stable: regions after whole canvases
    for anno in painting:
        for body in as_list(anno.get("body", anno.get("resource"))):
            if not isinstance(body, dict):
                continue
            if kind(body) == "Choice":  # v3 items[0] and v2 default are the default choice
                options = as_list(body.get("items")) or as_list(body.get("default")) + as_list(
                    body.get("item")
                )
                body = next((o for o in options if isinstance(o, dict)), {})
            fmt = str(body.get("format", ""))
            if kind(body) in ("Image", "dctypes:Image") or fmt.startswith("image/") or body.get("service"):
                return body
    return None


def metadata_pairs(node: JSON, language: str) -> list[tuple[str, str]]:
    """``metadata`` as (label, value) pairs in the chosen language; entries without a value dropped."""
    pairs: list[tuple[str, str]] = []
    for entry in as_list(node.get("metadata")):
        if isinstance(entry, dict):
            label, value = text(entry.get("label"), language), text(entry.get("value"), language)
            if label and value:
                pairs.append((label, value))
    return pairs


def rights_of(node: JSON) -> str | None:
    """v3 ``rights`` or v2 ``license`` (first non-empty string; HTML links kept for the parser)."""
    for value in as_list(node.get("rights")) + as_list(node.get("license")):
        found = ident(value)
        if found:
            return found
    return None


def canvases(manifest: JSON, language: str) -> list[Canvas | SourceError]:
    """The canvases of a manifest in order; an unusable canvas is a ``SourceError`` in its place.

    v2: the first sequence only; the Presentation API 2.1 makes it the default order and
    others alternatives (e-codices' two sequences share their pages).
    """
    if isinstance(manifest.get("items"), list):
        nodes = manifest["items"]
    else:
        sequences = as_list(manifest.get("sequences"))
        first = sequences[0] if sequences and isinstance(sequences[0], dict) else {}
        nodes = as_list(first.get("canvases"))
    out: list[Canvas | SourceError] = []
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or not ident(node):
            out.append(SourceError(f"canvas {index + 1} has no id"))
            continue
        canvas_id = str(ident(node))
        annotations = [
            anno
            for page in as_list(node.get("items"))
            if isinstance(page, dict)
            for anno in as_list(page.get("items"))
        ] + as_list(node.get("images"))
        body = _painting_image(annotations, canvas_id)
        if body is None:
            out.append(SourceError(f"canvas {canvas_id} has no painting image"))
            continue
        service = image_service(body)
        resource = ident(body)
        if service is None and not (resource and resource.startswith(("http://", "https://"))):
            out.append(SourceError(f"canvas {canvas_id}: image has neither an Image API service nor a URL"))
            continue
        out.append(
            Canvas(
                id=canvas_id,
                label=text(node.get("label"), language),
                resource_url=resource if resource and "#" not in resource else None,
                service=service,
                rights=rights_of(node),
                metadata=metadata_pairs(node, language),
            )
        )
    return out


def start_canvas(manifest: JSON) -> str | None:
    """The canvas a viewer opens first: v3 ``start``, v2 sequence ``startCanvas``."""
    start = ident(manifest.get("start"))
    if start:
        return start
    for sequence in as_list(manifest.get("sequences"))[:1]:
        if isinstance(sequence, dict):
            return ident(sequence.get("startCanvas"))
    return None


def links(manifest: JSON) -> list[str]:
    """Web pages about the object, best first: ``homepage``, v2 ``related``, then ``seeAlso``.

    ``seeAlso`` entries are ordered HTML first (a catalogue page beats its MARC record).
    """
    found = [ident(h) for h in as_list(manifest.get("homepage")) + as_list(manifest.get("related"))]
    also = [s for s in as_list(manifest.get("seeAlso")) if ident(s)]
    also.sort(key=lambda s: not (isinstance(s, dict) and "html" in str(s.get("format", ""))))
    found += [ident(s) for s in also]
    return list(dict.fromkeys(u for u in found if u and u.startswith(("http://", "https://"))))


def check_document(doc: Any, where: str) -> JSON:
    """The document if it is a IIIF Manifest or Collection, else ``SourceError`` saying why not."""
    if not isinstance(doc, dict):
        raise SourceError(f"{where}: not a JSON object")
    if kind(doc) not in ("Manifest", "Collection"):
        found = kind(doc) or "no type"
        raise SourceError(
            f"{where}: not a IIIF manifest or collection ({found}, keys: {', '.join(doc)[:80]})"
        )
    if not ident(doc):
        raise SourceError(f"{where}: {kind(doc)} without an id")
    return doc


def members(collection: JSON) -> list[tuple[str, str]]:
    """(id, type) of a collection's members in order: v3 ``items``, v2 ``members``/``collections``/``manifests``."""
    nodes = as_list(collection.get("items")) or as_list(collection.get("members"))
    nodes = nodes or as_list(collection.get("collections")) + as_list(collection.get("manifests"))
    out = []
    for node in nodes:
        node_id = ident(node)
        if node_id:
            out.append((node_id, kind(node) if isinstance(node, dict) else "Manifest"))
    return out
