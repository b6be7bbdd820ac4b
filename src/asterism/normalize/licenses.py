"""License text to an SPDX-like id, the serving policy, and the attribution line.

Sources state licenses in many ways: AIC's ``is_public_domain`` flag, the
Met's ``isPublicDomain``, Commons' "CC BY-SA 3.0" / "Public domain" /
"CC BY-SA 2.0 fr" with a license URL, a local CSV's free text. Asterism keeps
the verbatim text and adds one normalised id ("public-domain", "CC0-1.0",
"CC-BY-4.0", "CC-BY-SA-2.0-FR", "unknown", "other") so the policy can be a
short list of families and every result can show a correct credit line.
"""

from __future__ import annotations

import re

UNKNOWN = "unknown"
OTHER = "other"
PUBLIC_DOMAIN = "public-domain"

_CC_URL = re.compile(
    r"creativecommons\.org/(?P<kind>licenses|publicdomain)/(?P<code>[a-z-]+)/?(?P<version>\d\.\d)?/?(?P<port>[a-z]{2})?",
    re.I,
)
_CC_TEXT = re.compile(
    r"\b(?:cc|creative\s+commons)[\s-]*(?P<code>(?:by|attribution)(?:[\s-]*(?:sa|nc|nd|share[\s-]?alike|"
    r"non[\s-]?commercial|no[\s-]?deriv\w*))*)[\s-]*(?P<version>\d\.\d)?(?:[\s-]+(?P<port>[a-z]{2})\b)?",
    re.I,
)
_CC0 = re.compile(r"\bcc[\s-]?0\b|\bcc[\s-]?zero\b|publicdomain/zero", re.I)
_NOT_PD = re.compile(
    r"\bnot\s+(?:in\s+the\s+)?public[\s-]domain\b|all\s+rights\s+reserved|\bcopyright(?:ed)?\b(?!\s+free)",
    re.I,
)
_PD = re.compile(
    r"public[\s-]?domain|\bpd[\s-]|\bpd$|no\s+known\s+copyright|publicdomain/mark|is_public_domain|"
    r"no\s+restrictions",
    re.I,
)
_UNKNOWN = re.compile(r"^\s*(?:unknown|n/?a|none|not\s+specified|-|\?)?\s*$", re.I)
_PARTS = {
    "by": "BY",
    "attribution": "BY",
    "sa": "SA",
    "sharealike": "SA",
    "nc": "NC",
    "noncommercial": "NC",
    "nd": "ND",
    "noderivs": "ND",
    "noderivatives": "ND",
}


def _cc_id(code: str, version: str | None, port: str | None) -> str:
    words = re.findall(r"[a-z]+", code.lower().replace("share alike", "sharealike").replace("-", " "))
    joined: list[str] = []
    for word in words:
        word = {"share": "sharealike", "alike": "", "non": "", "commercial": "noncommercial"}.get(word, word)
        if word in ("no",):
            continue
        part = _PARTS.get(word) or _PARTS.get(word.rstrip("s"))
        if part and part not in joined:
            joined.append(part)
    if not joined:
        return OTHER
    if joined[0] != "BY":
        joined.insert(0, "BY")
    license_id = "CC-" + "-".join(joined)
    if version:
        license_id += f"-{version}"
        if port:
            license_id += f"-{port.upper()}"
    return license_id


def normalize_license(text: str | None, url: str | None = None) -> str:
    """The normalised id of a license statement (and its URL, when the source gives one)."""
    if url:
        match = _CC_URL.search(url)
        if match:
            code = match["code"].lower()
            if code == "zero":
                return "CC0-1.0"
            if code == "mark":
                return PUBLIC_DOMAIN
            return _cc_id(code, match["version"], match["port"])
    text = (text or "").strip()
    if _UNKNOWN.match(text):
        return UNKNOWN
    if _CC0.search(text):
        return "CC0-1.0"
    match = _CC_TEXT.search(text)
    if match:
        return _cc_id(match["code"], match["version"], match["port"])
    if _NOT_PD.search(text):
        return OTHER
    if _PD.search(text):
        return PUBLIC_DOMAIN
    if re.search(r"\bgfdl\b|gnu free documentation", text, re.I):
        return "GFDL"
    return OTHER


def license_family(license_id: str) -> str:
    """ "CC-BY-SA-2.0-FR" -> "CC-BY-SA"; "CC0-1.0" -> "CC0"; others unchanged."""
    if license_id.startswith("CC0"):
        return "CC0"
    match = re.match(r"^(CC(?:-[A-Z]{2})+)", license_id)
    return match.group(1) if match else license_id


def is_servable(
    license_id: str, allowed: list[str], *, allow_unknown: bool = False
) -> tuple[bool, str | None]:
    """(True, None) when the policy allows serving this image, else (False, the reason)."""
    if license_id in ("", UNKNOWN):
        if allow_unknown:
            return True, None
        return False, "license unknown; set license.allow_unknown to serve such images"
    if license_id in allowed or license_family(license_id) in allowed:
        return True, None
    return False, f"license {license_id} is not allowed for serving (allowed: {', '.join(allowed)})"


def license_label(license_id: str, license_text: str | None = None) -> str:
    """A short human label: "CC0 1.0", "CC BY-SA 2.0 FR", "Public domain"."""
    if license_id == PUBLIC_DOMAIN:
        return "Public domain"
    if license_id.startswith("CC0"):
        return "CC0 1.0"
    if license_id.startswith("CC-"):
        parts = license_id.split("-")[1:]
        codes = [p for p in parts if p.isalpha() and p.isupper() and len(p) == 2 and p in _PARTS.values()]
        rest = [p for p in parts if p not in codes]
        return "CC " + "-".join(codes) + ("" if not rest else " " + " ".join(rest))
    if license_id == UNKNOWN:
        return "license unknown"
    if license_text and license_text.strip():
        return license_text.strip()
    return license_id


def attribution(
    artist: str | None,
    title: str | None,
    date: str | None,
    source_name: str,
    license_id: str,
    license_text: str | None = None,
) -> str:
    """ "Artist – Title (date) – Source – License", the credit line every result carries."""
    who = (artist or "").strip() or "Unknown artist"
    what = (title or "").strip() or "Untitled"
    if date and date.strip():
        what += f" ({date.strip()})"
    return " – ".join([who, what, source_name, license_label(license_id, license_text)])
