"""The data shapes every stage passes around, defined once.

``Artwork`` is the one record shape of the project: sources produce it, the
property store keeps it, later stages (embeddings, graph, recommender, API)
read it. Keep additions here rather than growing parallel dicts elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Status(StrEnum):
    """Why an artwork is (or is not) served."""

    ACTIVE = "active"  # image stored, license permits serving
    EXCLUDED = "excluded"  # kept on record, not served (license policy)
    NO_IMAGE = "no_image"  # metadata only: the source had no usable image
    FAILED = "failed"  # image present at the source but unusable (corrupt, too large, ...)


class ImageFacts(BaseModel):
    """What we know about the stored image of an artwork (content-addressed)."""

    model_config = ConfigDict(frozen=True)

    sha256: str
    phash: str = Field(description="64-bit DCT perceptual hash, 16 hex digits")
    phash_fine: str = Field(default="", description="256-bit DCT perceptual hash, 64 hex digits")
    width: int
    height: int
    mime: str
    path: str = Field(description="path of the original, relative to the data home")
    bytes: int
    frames: int = 1
    metadata: dict[str, str] = Field(default_factory=dict, description="EXIF/IPTC/XMP, flattened")
    ocr_text: str = ""
    thumbs: dict[str, str] = Field(default_factory=dict, description="size name -> path relative to home")

    @property
    def ext(self) -> str:
        return self.path.rsplit(".", 1)[-1]


class Artwork(BaseModel):
    """One artwork from one source, with its image facts once harvested."""

    model_config = ConfigDict(validate_assignment=False)

    source: str
    source_id: str
    collection: str | None = Field(
        default=None, description="holding institution or collection shown in attributions"
    )
    title: str = ""
    artist_name: str | None = None
    artist_display: str | None = None
    date_display: str | None = None
    date_start: int | None = None
    date_end: int | None = None
    culture: str | None = Field(default=None, description="culture or nationality")
    place: str | None = None
    classification: str | None = None
    medium: str | None = None
    subjects: list[str] = Field(default_factory=list, description="subject terms, tags, keywords")
    styles: list[str] = Field(default_factory=list, description="style / movement / period names")
    description: str | None = None
    credit_line: str | None = None
    provenance: str | None = None
    license: str | None = Field(default=None, description="license exactly as the source states it")
    license_id: str = Field(default="unknown", description="normalized SPDX-like id, e.g. CC-BY-SA-3.0")
    attribution: str = ""
    source_url: str | None = None
    image_url: str | None = None
    image: ImageFacts | None = None
    extras: dict[str, Any] = Field(default_factory=dict)
    status: Status = Status.ACTIVE
    status_reason: str | None = None
    duplicate_of: int | None = Field(default=None, description="canonical artwork id if a near-duplicate")
    id: int | None = Field(default=None, description="property-store id, set once stored")

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.source_id)

    @property
    def ref(self) -> str:
        """The work's own name, stable across data homes: ``source:source_id`` (e.g. ``aic:27992``)."""
        return f"{self.source}:{self.source_id}"

    @property
    def embeddable(self) -> bool:
        """Worth representing: stored, not failed, not a copy of another work (served or not)."""
        return (
            self.id is not None
            and self.duplicate_of is None
            and self.status in (Status.ACTIVE, Status.EXCLUDED)
        )

    @property
    def servable(self) -> bool:
        """May be shown to people: embeddable, and active under the licence policy."""
        return self.embeddable and self.status == Status.ACTIVE

    @property
    def source_name(self) -> str:
        """Who to credit as the source: the collection, else the source's own name."""
        return self.collection or SOURCE_NAMES.get(self.source, self.source)


class Problem(BaseModel):
    """A bad item, reported once with its reason; the run goes on."""

    source: str
    source_id: str
    stage: str
    reason: str
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class IngestReport(BaseModel):
    """What one ingest run did."""

    source: str
    seen: int = 0
    stored: int = 0
    skipped: int = 0
    excluded: int = 0
    failed: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    images_processed: int = 0
    seconds: float = 0.0
    problems: list[Problem] = Field(default_factory=list)
    # The OCR stage run after the records were stored (stages/ocr.py); its time is not in ``seconds``.
    ocr_read: int = 0  # pictures given to Tesseract
    ocr_found: int = 0  # ... that held real text
    ocr_skipped: int = 0  # pictures the text gate saw no writing in
    ocr_seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.seen / self.seconds if self.seconds else 0.0

    @property
    def images_per_second(self) -> float:
        return self.images_processed / self.seconds if self.seconds else 0.0


SOURCE_NAMES: dict[str, str] = {
    "aic": "Art Institute of Chicago",
    "met": "The Metropolitan Museum of Art",
    "commons": "Wikimedia Commons",
    "local": "Local collection",
}


class SharedColour(BaseModel):
    """One colour both pictures hold, as a swatch pair: the start's colour and the result's match.

    The hexes are exactly the pair the "shared colours" phrase prints (``start_hex~result_hex``);
    shares are of each picture's own dominant-colour palette (fraction of its sampled pixels).
    """

    name: str = Field(description="plain name of the start's colour, as in the phrase")
    start_hex: str = Field(description="#rrggbb in the start's palette")
    result_hex: str = Field(description="#rrggbb in the result's palette, within the match distance")
    start_share: float = Field(ge=0, le=1, description="share of the start's picture in this colour")
    result_share: float = Field(ge=0, le=1, description="share of the result's picture in its match")


class Layouts(BaseModel):
    """The two pictures' light-and-dark layouts: what the composition part of the formal vector compares.

    Each is the 12×12 lightness grid the composition part holds (rows top to bottom), read back
    from the stored formal vector: standardised per picture, shown as 0 (dark) … 1 (light) with
    ±2 standard deviations at the ends. The part also holds an 8×8 grid of edge strength, not
    drawn; ``similarity`` is the whole part's cosine, the number "similar composition" prints.
    """

    start: list[list[float]] = Field(description="the start's 12×12 grid, 0 dark … 1 light")
    result: list[list[float]] = Field(description="the result's 12×12 grid, 0 dark … 1 light")
    similarity: float = Field(description="cosine of the composition parts")


class YearSpan(BaseModel):
    """A date as years: ``start == end`` for a single year."""

    start: int
    end: int
    inferred: bool = Field(default=False, description="inferred from the picture's nearest works")


class Dates(BaseModel):
    """The two dates behind the historical reason, for a timeline: None where a date is unknown."""

    start: YearSpan | None = Field(description="the start's date; an upload's only when inferred")
    result: YearSpan | None = Field(description="the result's date")
    gap: int | None = Field(
        description="years between the two dates' midpoints (the N of 'dated N years apart'); "
        "None unless both are known"
    )


class Reason(BaseModel):
    """One affinity's score for a result and the facts behind it (never invented: computed from data)."""

    score: float = Field(
        ge=0,
        le=1,
        description="calibrated per start: 0 = as similar as this start's average work, "
        "1 = four standard deviations above it; a bar means the same for every start",
    )
    cosine: float = Field(default=0.0, description="the raw cosine the ranking used")
    reasons: list[str] = Field(default_factory=list)
    inferred: bool = Field(default=False, description="the start's side of this affinity was inferred")
    colours: list[SharedColour] | None = Field(
        default=None, description="formal: the shared colours of the phrase, as swatch pairs"
    )
    layouts: Layouts | None = Field(
        default=None, description="formal: the two light-and-dark layouts the composition part compares"
    )
    dates: Dates | None = Field(default=None, description="historical: the two dates and their gap")


class Recommendation(BaseModel):
    """One ranked result: the work, its hybrid score, the three affinities with reasons, credit."""

    artwork: Artwork
    rank: int
    score: float
    similarity: float = Field(description="weighted cosine over the affinities (the alpha part)")
    link: float = Field(description="graph link strength over 1 and 2 hops (the beta part)")
    formal: Reason
    conceptual: Reason
    historical: Reason
    attribution: str = Field(description="Artist – Title (date) – Source – License")
    source_url: str | None = None


class Recognised(BaseModel):
    """A photo recognised as a stored work: the work, how sure, and the evidence (matched keypoints)."""

    artwork: Artwork
    confidence: float = Field(description="calibrated probability that this is the work photographed")
    inliers: int = Field(description="keypoints of the photo that map onto the work under one homography")


class RecommendationPage(BaseModel):
    """What one recommend call returns: the start, how it was read, and one page of results."""

    start_id: int | None = None
    start_title: str | None = None
    start_kind: Literal["artwork", "picture", "recognised"] = Field(
        default="artwork",
        description="artwork: a stored start; picture: an upload read by image; "
        "recognised: an upload recognised as a stored work, whose own recommendations these are",
    )
    recognised: Recognised | None = Field(
        default=None, description="the stored work an uploaded photo shows, when recognised with confidence"
    )
    inferred_history: str | None = Field(
        default=None, description="e.g. looks like French painting, 1860–1890 (inferred)"
    )
    weights: dict[str, float]
    alpha: float
    beta: float
    page: int
    k: int
    results: list[Recommendation]
    candidates: int = Field(description="works scored before filters and paging")


class ConnectStep(BaseModel):
    """One step of a ``connect`` path: a similarity edge with its reasons, or a knowledge relation."""

    source: str
    target: str
    source_id: int | None
    target_id: int | None
    relation: str  # "formal", "conceptual", "historical", or a knowledge relation in words
    weight: float | None
    reason: str
