"""License text to an SPDX-like id, the serving policy, and the attribution line.

Sources state licenses in many ways: AIC's ``is_public_domain`` flag, the
Met's ``isPublicDomain``, Commons' "CC BY-SA 3.0" / "Public domain" /
"CC BY-SA 2.0 fr" with a license URL, IIIF ``license``/``rights`` URIs from
Creative Commons or RightsStatements.org, a local CSV's free text. Asterism
keeps the verbatim text and adds one normalised id ("public-domain",
"CC0-1.0", "CC-BY-4.0", "CC-BY-ND-2.0", "CC-BY-SA-2.0-FR", "RS-InC",
"RS-NoC-US", "unknown", "other") so the policy can be a short list of
families and every result can show a correct credit line.

The parser errs towards the stricter reading, because a wrong id can only
ever cost a license its restrictions: a "No Derivative Works" or a
"non-commercial" anywhere in a Creative Commons statement is kept, and a
rights statement that is neither a licence nor a public-domain mark (a
RightsStatements.org "No Known Copyright", "No Copyright - United States")
gets its own id, which the default policy does not serve.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

UNKNOWN = "unknown"
OTHER = "other"
PUBLIC_DOMAIN = "public-domain"
CC0 = "CC0-1.0"

# The canonical order of Creative Commons elements in an id: CC-BY-NC-ND, CC-BY-NC-SA.
_ORDER = ("BY", "NC", "ND", "SA")

_CC_URL = re.compile(
    r"creativecommons\.org/(?P<kind>licenses|publicdomain)/(?P<code>[a-z+-]+)"
    r"(?:/(?P<version>\d\.\d))?(?:/(?P<port>[a-z]{2})(?![a-z]))?",
    re.I,
)
_RS_URL = re.compile(r"rightsstatements\.org/(?:vocab|page)/(?P<code>[a-z-]+)/\d\.\d", re.I)
# RightsStatements.org statements (https://rightsstatements.org/page/1.0/): code -> id, English label.
# "Not evaluated" and "undetermined" are what ``unknown`` means, so ``allow_unknown`` governs them.
_RS = {
    "InC": ("RS-InC", "In Copyright"),
    "InC-OW-EU": ("RS-InC-OW-EU", "In Copyright - EU Orphan Work"),
    "InC-EDU": ("RS-InC-EDU", "In Copyright - Educational Use Permitted"),
    "InC-NC": ("RS-InC-NC", "In Copyright - Non-Commercial Use Permitted"),
    "InC-RUU": ("RS-InC-RUU", "In Copyright - Rights-holder(s) Unlocatable or Unidentifiable"),
    "NoC-CR": ("RS-NoC-CR", "No Copyright - Contractual Restrictions"),
    "NoC-NC": ("RS-NoC-NC", "No Copyright - Non-Commercial Use Only"),
    "NoC-OKLR": ("RS-NoC-OKLR", "No Copyright - Other Known Legal Restrictions"),
    "NoC-US": ("RS-NoC-US", "No Copyright - United States"),
    "CNE": (UNKNOWN, "Copyright Not Evaluated"),
    "UND": (UNKNOWN, "Copyright Undetermined"),
    "NKC": ("RS-NKC", "No Known Copyright"),
}
_RS_BY_CODE = {code.lower(): license_id for code, (license_id, _) in _RS.items()}
_RS_LABELS = {license_id: label for license_id, label in _RS.values() if license_id != UNKNOWN}


def _label_pattern(label: str) -> re.Pattern[str]:
    words = re.findall(r"[a-z]+", label.lower())
    return re.compile(r"^\W*" + r"[\W_]+".join(words) + r"(?![a-z])", re.I)


# Longest first, so "In Copyright - Educational Use Permitted" is not read as plain "In Copyright".
_RS_TEXT = [
    (_label_pattern(label), license_id)
    for license_id, label in sorted(_RS.values(), key=lambda v: -len(v[1]))
] + [
    # Flickr's and the Library of Congress's wordings of the same statements.
    (re.compile(r"^\W*no\s+known\s+(?:copyright\s+)?restrictions\b", re.I), "RS-NKC"),
    (re.compile(r"^\W*united\s+states\s+government\s+work\b", re.I), "RS-NoC-US"),
]

_PART = r"(?:sa|nc|nd|share[\s-]?alike|non[\s-]?commercial|no[\s-]?deriv\w*(?:\s+works)?)(?![a-z])"
_CC_TEXT = re.compile(
    r"\b(?:cc|creative\s+commons)[\s-]*(?P<code>(?:by|attribution)(?![a-z])(?:[\s-]*" + _PART + r")*)"
    r"[\s-]*(?P<version>\d\.\d)?(?:[\s-]+(?P<port>[a-z]{2})\b)?",
    re.I,
)
# Flickr's names ("Attribution-NoDerivs License") and CC's deed titles without "CC" in front.
_CC_BARE = re.compile(
    r"^\W*(?P<code>attribution(?:[\s-]+" + _PART + r")*)"
    r"(?:\s+(?P<version>\d\.\d)|(?=\s+(?:international|generic|unported|license|licence)\b|\s*\(cc))",
    re.I,
)
_CC0 = re.compile(r"\bcc[\s-]?0\b|\bcc[\s-]?zero\b|creative\s+commons\s+zero\b|publicdomain/zero", re.I)
_NON_COMMERCIAL = re.compile(r"non[\s-]?commercial|\bnc\b", re.I)
_NO_DERIVATIVES = re.compile(r"no[\s-]?deriv|\bnd\b", re.I)
# Restrictions that no public-domain or free-licence wording can outweigh.
_RESTRICTED = re.compile(
    r"non[\s-]?commercial|no[\s-]?deriv|educational\s+use|personal\s+use|private\s+use|"
    r"editorial\s+use|permission\s+(?:is\s+)?required|without\s+(?:prior\s+)?(?:written\s+)?permission",
    re.I,
)
# A statement that warns the work or its image may still be restricted licenses nothing.
_CAVEAT = re.compile(r"(?:copyright|other)\s+(?:or\s+other\s+)?restrictions\s+may\s+apply", re.I)
_PD_FIRST = re.compile(
    r"^\W*(?:public[\s-]?domain|pd(?:[\s-]|$)|gemeinfrei|domaine\s+public|dominio\s+p[uú]blico|"
    r"publiek\s+domein|pubblico\s+dominio)",
    re.I,
)
_NOT_PD = re.compile(
    r"\bnot\s+(?:in\s+the\s+)?public[\s-]domain\b|all\s+rights\s+reserved|©|\(c\)\s*\d|"
    r"\bcopyright(?:ed)?\b(?!\s+free)",
    re.I,
)
_PD = re.compile(
    r"public[\s-]?domain|\bpd[\s-]|\bpd$|publicdomain/mark|is_public_domain|no\s+restrictions|gemeinfrei",
    re.I,
)
_UNKNOWN = re.compile(r"^\s*(?:unknown|n/?a|none|not\s+specified|-|\?)?\s*$", re.I)


def _cc_id(code: str, version: str | None, port: str | None, *, attribution: bool = True) -> str:
    """ "by-nc-nd" / "Attribution-No Derivative Works" -> "CC-BY-NC-ND" (+ version, + port)."""
    text = code.lower()
    found: set[str] = set()
    for word in re.findall(r"[a-z]+", text.replace("share alike", "sharealike")):
        if word in ("by", "attribution"):
            found.add("BY")
        elif word == "nc" or "commercial" in word:
            found.add("NC")
        elif word == "nd" or "deriv" in word:
            found.add("ND")
        elif word == "sa" or word.startswith("share"):
            found.add("SA")
    if not found:
        return OTHER
    if attribution:
        found.add("BY")  # every text form names Attribution; the 1.0 URLs without it are kept as they are
    license_id = "CC-" + "-".join(part for part in _ORDER if part in found)
    if version:
        license_id += f"-{version}"
        if port:
            license_id += f"-{port.upper()}"
    return license_id


def _from_url(value: str) -> str | None:
    """The id a Creative Commons or RightsStatements.org URI names (None: no such URI in ``value``)."""
    match = _CC_URL.search(value)
    if match:
        code = match["code"].lower()
        if code == "zero":
            return CC0
        if code in ("mark", "publicdomain"):  # the PD Mark, and CC's retired public domain dedication
            return PUBLIC_DOMAIN
        return _cc_id(code, match["version"], match["port"], attribution=False)
    match = _RS_URL.search(value)
    if match:
        return _RS_BY_CODE.get(match["code"].lower(), OTHER)
    return None


def _with_stated_restrictions(license_id: str, text: str) -> str:
    """A CC id gains NC / ND when the words around it state them ("CC BY (non-commercial use only)")."""
    parts = license_id.split("-")
    wanted = set(parts[1:]) | {
        p for p, rx in (("NC", _NON_COMMERCIAL), ("ND", _NO_DERIVATIVES)) if rx.search(text)
    }
    codes = [p for p in _ORDER if p in wanted]
    rest = [p for p in parts[1:] if p not in _ORDER]
    return "-".join(["CC", *codes, *rest])


@lru_cache(maxsize=4096)
def normalize_license(text: str | None, url: str | None = None) -> str:
    """The normalised id of a license statement (and its URL, when the source gives one).

    Cached: a collection repeats a handful of statements, and the catalogue re-reads
    every stored statement when it loads (the policy is applied again there).
    """
    raw = text or ""
    for candidate in (url, raw):
        found = _from_url(candidate) if candidate else None
        if found is not None:
            return found
    plain = html.unescape(re.sub(r"<[^>]*>", " ", raw))
    plain = re.sub(r"\s+", " ", plain.replace("\u2013", "-").replace("\u2014", "-")).strip()
    if _UNKNOWN.match(plain):
        return UNKNOWN
    for pattern, license_id in _RS_TEXT:
        if pattern.match(plain):
            return license_id
    if _CAVEAT.search(plain):
        return OTHER
    if _CC0.search(plain):
        return CC0
    match = _CC_TEXT.search(plain) or _CC_BARE.match(plain)
    if match:
        license_id = _cc_id(match["code"], match["version"], match.groupdict().get("port"))
        return _with_stated_restrictions(license_id, plain) if license_id != OTHER else OTHER
    if _RESTRICTED.search(plain):
        return OTHER
    if _PD_FIRST.match(plain):
        return PUBLIC_DOMAIN
    if _NOT_PD.search(plain):
        return OTHER
    if _PD.search(plain):
        return PUBLIC_DOMAIN
    if re.search(r"\bgfdl\b|gnu free documentation", plain, re.I):
        return "GFDL"
    return OTHER


def license_family(license_id: str) -> str:
    """ "CC-BY-SA-2.0-FR" -> "CC-BY-SA"; "CC0-1.0" -> "CC0"; others unchanged."""
    if license_id.startswith("CC0"):
        return "CC0"
    match = re.match(r"^(CC(?:-(?:BY|NC|ND|SA))+)", license_id)
    return match.group(1) if match else license_id


def is_servable(
    license_id: str, allowed: list[str], *, allow_unknown: bool = False
) -> tuple[bool, str | None]:
    """(True, None) when the policy allows serving this image, else (False, the reason).

    An allowed entry names an exact id or a whole family, in any case: "CC-BY" allows
    CC-BY-4.0 but never CC-BY-NC-4.0, whose family is CC-BY-NC.
    """
    if license_id in ("", UNKNOWN):
        if allow_unknown:
            return True, None
        return False, "license unknown; set license.allow_unknown to serve such images"
    names = {name.casefold() for name in allowed}
    if license_id.casefold() in names or license_family(license_id).casefold() in names:
        return True, None
    return False, f"license {license_id} is not allowed for serving (allowed: {', '.join(allowed)})"


def license_label(license_id: str, license_text: str | None = None) -> str:
    """A short human label: "CC0 1.0", "CC BY-SA 2.0 FR", "Public domain", "No Copyright - United States"."""
    if license_id == PUBLIC_DOMAIN:
        return "Public domain"
    if license_id.startswith("CC0"):
        return "CC0 1.0"
    if license_id in _RS_LABELS:
        return _RS_LABELS[license_id]
    if license_id.startswith("CC-"):
        parts = license_id.split("-")[1:]
        codes = [p for p in parts if p in _ORDER]
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
