"""Turn a source's faithful record into a normalised, policy-checked ``Artwork``.

Sources copy what museums say; this is where every record, whatever its
source, gets the same treatment: parsed date range, artist name and
nationality, normalised license, the attribution line, and the serving
decision under the license policy (recorded with its reason when negative).
"""

from __future__ import annotations

import hashlib
from typing import Any

from asterism.config import LicenseSettings
from asterism.normalize.artists import parse_artist
from asterism.normalize.dates import parse_date
from asterism.normalize.licenses import attribution, is_servable, normalize_license
from asterism.shapes import Artwork, Status
from asterism.sources.base import ImageRef

# Bump when normalisation changes, so unchanged records are re-finalised on the next ingest.
FINALIZE_VERSION = "1"


def normalise(artwork: Artwork) -> Artwork:
    """Fill the derived fields a source left empty; never overwrite what it gave."""
    update: dict[str, Any] = {}
    if artwork.date_start is None and artwork.date_end is None and artwork.date_display:
        start, end = parse_date(artwork.date_display)
        update.update(date_start=start, date_end=end)
    if artwork.artist_display and not artwork.artist_name:
        info = parse_artist(artwork.artist_display)
        update["artist_name"] = info.name
        if not artwork.culture and info.nationality:
            update["culture"] = info.nationality
    if artwork.license_id in ("", "unknown") and artwork.license:
        update["license_id"] = normalize_license(artwork.license, url=artwork.extras.get("license_url"))
    merged = artwork.model_copy(update=update)
    merged.attribution = attribution(
        merged.artist_name or merged.artist_display,
        merged.title,
        merged.date_display,
        merged.source_name,
        merged.license_id,
        merged.license,
    )
    return merged


def license_decision(artwork: Artwork, policy: LicenseSettings) -> tuple[bool, str | None]:
    """May this artwork be served? (ok, reason when not)."""
    return is_servable(artwork.license_id, policy.allowed, allow_unknown=policy.allow_unknown)


def with_status(artwork: Artwork, status: Status, reason: str | None) -> Artwork:
    return artwork.model_copy(update={"status": status, "status_reason": reason})


def fingerprint(artwork: Artwork, ref: ImageRef | None) -> str:
    """Hash of what the source said about a record, to skip unchanged records on re-runs."""
    payload = artwork.model_dump_json(
        exclude={"id", "image", "status", "status_reason", "duplicate_of", "attribution"}
    )
    parts = [FINALIZE_VERSION, payload]
    if ref is not None:
        parts.append(ref.url or "")
        if ref.path is not None:
            try:
                stat = ref.path.stat()
                parts.append(f"{ref.path}:{stat.st_size}:{stat.st_mtime_ns}")
            except OSError:
                parts.append(f"{ref.path}:missing")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
