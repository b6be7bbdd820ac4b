"""What the API sends and accepts: public views of the shared data shapes, and request bodies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from asterism.recommend.explain import attribution
from asterism.shapes import Artwork, ConnectStep, Reason, Recommendation, RecommendationPage

IMAGE_SIZES = ("thumb", "medium", "full")
VERSION_CHARS = 16  # hex digits of the sha256 in an image URL's ``v``: 64 bits, unique within a collection


def image_url(artwork_id: int, sha256: str, size: str) -> str:
    """The cacheable URL of a work's picture: its content hash is in it, so new content means a new URL
    (the images router serves only such a URL as immutable)."""
    return f"/v1/images/{artwork_id}?size={size}&v={sha256[:VERSION_CHARS]}"


class ImageLinks(BaseModel):
    thumb: str
    medium: str
    full: str
    width: int
    height: int


# A work as people name it: the store's id, or its own name "source:source_id" (e.g. "aic:27992").
WorkName = int | Annotated[str, StringConstraints(min_length=1, max_length=300)]


class ArtworkOut(BaseModel):
    """An artwork as the public sees it: metadata, credit, license and links; no file paths."""

    id: int
    ref: str = Field(description="the work's own name, source:source_id: stable across data homes")
    title: str
    artist: str | None
    artist_display: str | None
    date: str | None
    date_start: int | None
    date_end: int | None
    culture: str | None
    place: str | None
    classification: str | None
    medium: str | None
    subjects: list[str]
    styles: list[str]
    description: str | None
    credit_line: str | None
    source: str
    source_name: str
    source_url: str | None
    license: str | None
    license_id: str
    attribution: str
    image: ImageLinks | None

    @classmethod
    def of(cls, artwork: Artwork) -> ArtworkOut:
        assert artwork.id is not None
        links = None
        if artwork.image is not None:
            sha = artwork.image.sha256
            links = ImageLinks(
                thumb=image_url(artwork.id, sha, "thumb"), medium=image_url(artwork.id, sha, "medium"),
                full=image_url(artwork.id, sha, "full"), width=artwork.image.width, height=artwork.image.height,
            )  # fmt: skip
        return cls(
            id=artwork.id, ref=artwork.ref, title=artwork.title or "Untitled", artist=artwork.artist_name,
            artist_display=artwork.artist_display, date=artwork.date_display, date_start=artwork.date_start,
            date_end=artwork.date_end, culture=artwork.culture, place=artwork.place,
            classification=artwork.classification, medium=artwork.medium, subjects=artwork.subjects,
            styles=artwork.styles, description=artwork.description, credit_line=artwork.credit_line,
            source=artwork.source, source_name=artwork.source_name, source_url=artwork.source_url,
            license=artwork.license, license_id=artwork.license_id, attribution=attribution(artwork), image=links,
        )  # fmt: skip


class ProseOut(BaseModel):
    """A sentence or two on why this result, from its reasons only (asked with ``prose``)."""

    text: str
    source: Literal["model", "template"] = Field(
        description="model: written by the configured language model and checked against the reasons; "
        "template: made from the reasons (no model set, or its text was late, failed or not grounded)"
    )


class ResultOut(BaseModel):
    rank: int
    score: float
    similarity: float
    link: float
    formal: Reason
    conceptual: Reason
    historical: Reason
    attribution: str
    source_url: str | None
    artwork: ArtworkOut
    prose: ProseOut | None = Field(
        default=None, exclude_if=lambda value: value is None, description="present when prose was asked"
    )

    @classmethod
    def of(cls, item: Recommendation) -> ResultOut:
        return cls(
            rank=item.rank, score=item.score, similarity=item.similarity, link=item.link, formal=item.formal,
            conceptual=item.conceptual, historical=item.historical, attribution=item.attribution,
            source_url=item.source_url, artwork=ArtworkOut.of(item.artwork),
        )  # fmt: skip


class RecognisedOut(BaseModel):
    """The stored work an uploaded photo shows: the same record as a result's, with the evidence."""

    artwork: ArtworkOut
    confidence: float
    inliers: int


class PageOut(BaseModel):
    start_id: int | None
    start_title: str | None
    start_kind: Literal["artwork", "picture", "recognised"]
    recognised: RecognisedOut | None = None
    inferred_history: str | None
    weights: dict[str, float]
    alpha: float
    beta: float
    page: int
    k: int
    candidates: int
    results: list[ResultOut]

    @classmethod
    def of(cls, page: RecommendationPage) -> PageOut:
        data = page.model_dump(exclude={"results", "recognised"})
        found = page.recognised
        recognised = (
            RecognisedOut(
                artwork=ArtworkOut.of(found.artwork), confidence=found.confidence, inliers=found.inliers
            )
            if found is not None
            else None
        )
        return cls(**data, recognised=recognised, results=[ResultOut.of(item) for item in page.results])


class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date_from: int | None = Field(default=None, ge=-10000, le=3000)
    date_to: int | None = Field(default=None, ge=-10000, le=3000)
    sources: list[str] | None = Field(default=None, max_length=20)
    licenses: list[str] | None = Field(default=None, max_length=20)
    classifications: list[str] | None = Field(default=None, max_length=20)
    has_image: bool | None = None


class WeightsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    formal: float | None = Field(default=None, ge=0, le=100)
    conceptual: float | None = Field(default=None, ge=0, le=100)
    historical: float | None = Field(default=None, ge=0, le=100)


class Options(BaseModel):
    """How to rank: weights, filters, paging, diversity, and the α/β of the hybrid score."""

    model_config = ConfigDict(extra="forbid")

    weights: WeightsIn | None = None
    filters: FiltersIn | None = None
    k: int = Field(default=10, ge=1, le=100)
    page: int = Field(default=0, ge=0, le=50)
    diversity: float = Field(default=0.0, ge=0, le=1)
    max_share: float | None = Field(  # broaden: at most this share of a page from one culture or century
        default=None, gt=0, le=1, description="broaden: the most of a page one culture or century may take"
    )
    alpha: float | None = Field(default=None, ge=0, le=10)
    beta: float | None = Field(default=None, ge=0, le=10)


class RecommendIn(Options):
    """JSON body of ``POST /v1/recommendations`` (an upload sends the options as form fields)."""

    artwork_id: WorkName = Field(description="an id (40) or a work's own name (aic:27992)")
    prose: bool = Field(
        default=False, description="add a sentence or two per result (its first prose.max_results)"
    )


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[WorkName] = Field(min_length=1, max_length=200, description="ids or source:source_id names")


class BatchOut(BaseModel):
    artworks: list[ArtworkOut]
    missing: list[WorkName]


class SearchHit(BaseModel):
    id: int
    title: str
    artist: str | None
    date: str | None
    thumb: str | None
    match: str = Field(default="title", description="title (title or artist words) or picture (text→image)")
    score: float | None = Field(default=None, description="image–text cosine of a picture match")


class SearchOut(BaseModel):
    query: str
    results: list[SearchHit]


class ConnectOut(BaseModel):
    start: int
    end: int
    found: bool
    steps: list[ConnectStep]


class Problem(BaseModel):
    """Every error response: a status and a message a person can act on."""

    status: int
    detail: str


class MapOut(BaseModel):
    """The collection map of one affinity: parallel arrays, compact enough for 100k works in one answer."""

    affinity: Literal["formal", "conceptual", "historical", "hybrid"]
    count: int = Field(description="works on the map: the served works that have vectors in this affinity")
    ids: list[int] = Field(description="artwork ids, ascending")
    x: list[float] = Field(description="x of each work in [0, 1], rounded to 4 decimals")
    y: list[float] = Field(description="y of each work in [0, 1], rounded to 4 decimals")
    thumbnail: str = Field(description="the URL of a work's thumbnail, with {id} to replace")
    title: list[str] | None = Field(default=None, description="with fields=title: each work's title")
    artist: list[str | None] | None = Field(
        default=None, description="with fields=artist: each work's artist"
    )
