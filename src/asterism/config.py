"""One settings object for the whole pipeline.

Values come, highest priority first, from: keyword arguments (the CLI's options),
environment variables ``ASTERISM_*`` (nested with ``__``, e.g. ``ASTERISM_HTTP__RATE=2``),
a TOML file (``ASTERISM_CONFIG`` or ``<home>/asterism.toml``), then the defaults below.
Nothing reads settings from a global: every stage receives the object it needs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from asterism.home import Home


class StoreSettings(BaseModel):
    """Where artwork records live. SQLite is embedded; PostgreSQL is for scale."""

    backend: Literal["sqlite", "postgres"] = "sqlite"
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; for sqlite it defaults to <home>/asterism.db",
    )
    # Faults (store/retry.py): a locked SQLite and a PostgreSQL that went away are waited for, then
    # the operation fails saying why (CLI: exit 1; API: HTTP 503).
    busy_timeout: float = Field(
        default=30.0, gt=0, le=3600, description="seconds a SQLite write waits for another writer's lock"
    )
    reconnect_timeout: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="seconds PostgreSQL may stay unreachable before an operation fails",
    )


class HttpSettings(BaseModel):
    """Politeness towards the museums' APIs: they are shared public services."""

    user_agent: str = "Asterism/0.1 (open art-exploration tool; https://github.com/asterism-art)"
    contact: str = "asterism@example.org"
    rate: float = Field(default=5.0, gt=0, description="requests per second per host")
    host_rates: dict[str, float] = Field(
        # The AIC documents 60 requests/minute for anonymous clients.
        default_factory=lambda: {"api.artic.edu": 1.0, "www.artic.edu": 1.0},
    )
    concurrency: int = Field(default=4, ge=1, le=32, description="requests in flight per host")
    timeout: float = Field(default=30.0, gt=0)
    retries: int = Field(default=5, ge=0)
    max_backoff: float = Field(default=60.0, gt=0)


class ImageSettings(BaseModel):
    thumb_sizes: dict[str, int] = Field(default_factory=lambda: {"thumb": 256, "medium": 843})
    max_pixels: int = Field(default=89_478_485, description="decompression-bomb limit (width*height)")
    max_bytes: int = Field(default=100 * 1024 * 1024)
    jpeg_quality: int = Field(default=85, ge=30, le=95)


class OcrSettings(BaseModel):
    """OCR (Tesseract) is the slow step before embedding, so by default a cheap gate picks what it reads.

    ``gate``: read only pictures where the text gate (``images/text_gate.py``) sees lines of
    writing, when Tesseract is installed; ``always``: read every picture (also those the gate
    skipped before); ``never``: no OCR. ``auto``, the old default, means ``gate``.
    """

    mode: Literal["gate", "always", "never"] = "gate"
    min_confidence: float = 70.0
    languages: str = "eng"
    timeout: float = Field(default=5.0, gt=0, description="seconds before Tesseract is stopped (no text)")
    max_side: int = Field(
        default=2000, ge=100, description="OCR reads a copy at most this many pixels a side"
    )

    @field_validator("mode", mode="before")
    @classmethod
    def _old_auto(cls, value: Any) -> Any:
        return "gate" if value == "auto" else value


class IiifSettings(BaseModel):
    """IIIF imports (``sources/iiif.py``): which language labels are read in, and what a record is."""

    language: str = Field(default="en", description="preferred label language; then none, en, first")
    canvases: Literal["work", "each"] = Field(
        default="work", description="work: a manifest is one artwork; each: every canvas is one"
    )
    max_depth: int = Field(default=8, ge=0, description="nested collections followed this deep")


class LicenseSettings(BaseModel):
    """Which licenses may be served. Everything is recorded; only these are served."""

    allowed: list[str] = Field(
        default_factory=lambda: ["public-domain", "CC0", "CC-BY", "CC-BY-SA"],
        description="normalized license families that may be served",
    )
    allow_unknown: bool = False


class Weights(BaseModel):
    formal: float = 0.4
    conceptual: float = 0.4
    historical: float = 0.2


class ModelSettings(BaseModel):
    """Which embedders make the vectors. Every model runs offline from files on disk."""

    threads: int = Field(default=2, ge=1, le=64, description="torch / ONNX Runtime threads")
    runtime: Literal["onnx", "torch"] = Field(
        default="onnx", description="run the CNN backbone with ONNX Runtime (~3x faster here) or torch"
    )
    tower_precision: Literal["fp32", "int8"] = Field(
        default="int8",
        description="a CLIP/SigLIP image tower on ONNX Runtime at int8 (0.4x fp32's time on ViT-B/32, "
        "checked against torch at every start, fp32 if it fails) or fp32",
    )
    formal_parts: tuple[float, float, float] = Field(
        default=(1 / 3, 1 / 3, 1 / 3), description="weights of palette, composition, texture"
    )
    text_path: Path | None = Field(
        default=None, description="a local sentence-transformers model (default: bundled all-MiniLM-L6-v2)"
    )
    clip_path: Path | None = Field(default=None, description="a local CLIP checkpoint folder")
    conceptual: Literal["text", "clip", "text+clip"] = Field(
        default="text", description="conceptual vector from the concept text, CLIP, or both"
    )
    dinov2_path: Path | None = Field(
        default=None, description="a local DINOv2 checkpoint: adds its features to the texture part"
    )
    spaces: dict[str, str] = Field(
        default_factory=dict,
        description="affinity -> imported vector space serving it, e.g. {conceptual = 'openclip'}",
    )

    @field_validator("spaces")
    @classmethod
    def _known_affinities(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - {"formal", "conceptual", "historical"})
        if unknown:
            raise ValueError(
                f"models.spaces: unknown affinity {', '.join(unknown)} (formal, conceptual, historical)"
            )
        return value


class GraphSettings(BaseModel):
    """The affinity graph: where it lives and how many typed edges each work gets."""

    backend: Literal["ladybug", "neo4j"] = "ladybug"
    neo4j_uri: str | None = Field(default=None, description="bolt://host:7687 when backend is neo4j")
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    k: int = Field(default=20, ge=1, le=200, description="edges per work per affinity")
    edge_recall: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description="share of each work's exact top-k the graph's k-NN must keep (sampled): its HNSW "
        "efSearch is the smallest reaching it, never above the queries'; the build reports the recall",
    )
    thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="per-affinity minimum cosine for an edge (defaults in graph/edges.py)",
    )


class RecommendSettings(BaseModel):
    """The hybrid score: alpha · weighted cosine + beta · graph link strength.

    A stored start and an uploaded picture get their own defaults: a picture has no record, so
    what helps it was measured apart (``asterism eval tune``, by image on artist-disjoint splits:
    see bench/RESULTS.md). A question that gives its own weights, alpha or beta overrides both.
    """

    alpha: float = Field(default=0.7, ge=0)
    beta: float = Field(default=0.3, ge=0)
    candidates: int = Field(
        default=100,
        ge=10,
        le=5000,
        description="top-N per affinity index (at least 5 x the results asked for)",
    )
    near_duplicate: float = Field(
        default=0.97, gt=0, le=1, description="formal cosine above which two works are copies"
    )
    upload_links: int = Field(
        default=5, ge=1, le=50, description="an upload's graph term: the links of its N nearest works"
    )
    upload_gate: tuple[float, float] = Field(
        default=(0.0, 0.0),
        description="β for an upload grows from 0 to full as its nearest work's similarity goes from "
        "the first to the second value ((0, 0): no gate)",
    )
    formal_parts: tuple[float, float, float] | None = Field(
        default=None,
        description="query-time weights of palette, composition, texture (None: as built, models.formal_parts)",
    )
    upload_weights: Weights = Field(
        default_factory=lambda: Weights(formal=0.5, conceptual=0.0, historical=0.5),
        description="default weights when the start is a picture (tuned by image on the samples)",
    )
    upload_alpha: float = Field(default=1.0, ge=0)
    upload_beta: float = Field(default=0.0, ge=0)
    upload_formal_parts: tuple[float, float, float] | None = Field(
        default=(0.0, 0.0, 1.0), description="query-time formal part weights for a picture (texture only)"
    )
    history_by_confidence: bool = Field(
        default=True, description="an upload's historical weight scaled by the inferred history's confidence"
    )
    # What one request may cost (bench/bounded_work.py): duplicate removal and diversity grow with the
    # square of k·(page+1), so the depth is capped; the deadline bounds everything else.
    max_depth: int = Field(
        default=1000, ge=1, description="most results one request reads, k · (page + 1); deeper: HTTP 400"
    )
    max_candidates: int = Field(
        default=5000,
        ge=10,
        description="most candidates ranked for one request (5 per result); more: HTTP 400",
    )
    deadline: float = Field(
        default=2.0,
        gt=0,
        description="seconds a recommendation may take; checked between stages, then HTTP 503",
    )


class RecogniseSettings(BaseModel):
    """Recognising a photographed work (``recognise/``): shortlist size and the calibrated threshold.

    ``min_inliers``, ``logit_slope`` and ``logit_centre`` come from ``asterism eval recognition``
    on simulated phone photos of the samples (3,300 photos of 60 works in and 40 works out of the
    aic-paintings + aic-objects collection, shortlist 20; bench/RESULTS.md), chosen on half the
    unknown works: the false-rate rule alone gave 27 inliers, the confidence reaches one half at
    34.6, so 35 — 0 % false recognitions on the other half of the unknown works, 0.38 % over all
    of them, and every single-transform photo still recognised.
    """

    enabled: bool = Field(default=True, description="try to recognise an uploaded photo as a stored work")
    locate: bool = Field(
        default=True,
        description="describe a photo of a framed picture by the picture alone (frame and wall cut away)",
    )
    shortlist: int = Field(default=20, ge=1, le=100, description="works verified by local features")
    min_inliers: int = Field(default=35, ge=4, description="inliers needed to say a work is recognised")
    margin: float = Field(
        default=1.5, ge=1.0, description="the best work's inliers must be this many times the runner-up's"
    )
    logit_slope: float = Field(
        default=0.1148, gt=0, description="confidence = logistic(slope · (inliers − centre))"
    )
    logit_centre: float = Field(default=34.61, description="inliers at which the confidence is one half")


class CacheSettings(BaseModel):
    """Answers to repeated questions: in process (default), shared in Redis across workers, or off."""

    backend: Literal["memory", "redis", "none"] = "memory"
    url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis URL when backend is redis")
    ttl: int = Field(default=3600, ge=1, description="seconds an answer is kept")
    max_entries: int = Field(default=4096, ge=1, description="memory backend size")
    # An unreachable or hung Redis costs a request at most one timeout, then is bypassed for a while.
    timeout: float = Field(
        default=0.5, gt=0, le=10, description="seconds a Redis call (connect or reply) may take"
    )
    retry_after: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="seconds Redis is bypassed after a failed call, then tried again",
    )


class ProseSettings(BaseModel):
    """A sentence or two per result, from its reasons only (``recommend/prose.py``), asked per request.

    No ``endpoint``: sentences from a template. With one (any OpenAI-compatible server: Ollama
    ``http://127.0.0.1:11434/v1``, llama.cpp, vLLM) the model writes them; a text naming anything
    the reasons do not, an error, or a reply later than ``budget`` falls back to the template.
    """

    enabled: bool = Field(default=True, description="answer a request's prose=true (false: 400)")
    endpoint: str | None = Field(default=None, description="base URL of an OpenAI-compatible API")
    model: str = Field(default="llama3.2", description="model name sent to the endpoint")
    api_key: SecretStr | None = Field(default=None, description="bearer key (ASTERISM_PROSE__API_KEY)")
    stream: bool = Field(default=False, description="ask for a streamed (SSE) reply")
    timeout: float = Field(default=10.0, gt=0, le=300, description="seconds one model call may take")
    budget: float = Field(
        default=2.0, ge=0, le=60, description="seconds a request waits for prose in all; then the template"
    )
    max_results: int = Field(default=5, ge=0, le=100, description="results of a page given prose")
    concurrency: int = Field(default=4, ge=1, le=64, description="model calls in flight per process")
    temperature: float = Field(default=0.2, ge=0, le=2)
    max_tokens: int = Field(default=120, ge=16, le=1024)


class ApiSettings(BaseModel):
    """The HTTP API: upload limits, privacy of uploads, the admin token."""

    upload_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    upload_max_pixels: int = Field(
        default=50_000_000, ge=10_000, description="pixels an upload may declare (JPEGs decode reduced)"
    )
    upload_max_decoded_pixels: int = Field(
        default=16_000_000,
        ge=10_000,
        description="pixels an upload may decode to: PNG, WebP and TIFF decode whole "
        "(~30 ms of CPU and 4 bytes a pixel), so a 49 MP WebP would cost 1.4 s and 200 MB",
    )
    upload_formats: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "TIFF")
    store_uploads: bool = Field(default=False, description="keep uploads on disk (faces blurred first)")
    admin_token: str | None = Field(default=None, description="bearer token for write/admin endpoints")
    ocr_uploads: bool = Field(default=False, description="read text in uploads (adds ~100 ms)")
    threads: int = Field(default=2, ge=1, le=64, description="request threads per server process")
    # Hostile input (api/bodies.py, api/limits.py): every body is bounded while it streams, and
    # uploads are rate-limited per client and read/decoded a few at a time per process.
    json_max_bytes: int = Field(default=64 * 1024, ge=1024, description="largest body that is not an upload")
    form_max_fields: int = Field(
        default=20, ge=1, le=1000, description="text fields an upload form may carry"
    )
    form_field_max_bytes: int = Field(default=8 * 1024, ge=256, description="largest text field of a form")
    upload_slots: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="uploads read and decoded at once per process (default: threads)",
    )
    upload_wait: float = Field(
        default=5.0, ge=0, le=120, description="seconds an upload waits for a slot (503)"
    )
    upload_rate: float = Field(default=60, ge=0, description="uploads per minute per client (0 = no limit)")
    upload_burst: int = Field(default=30, ge=1, description="uploads a client may send at once")
    vote_rate: float = Field(
        default=120, ge=0, description="study votes per minute per client (0 = no limit)"
    )
    vote_burst: int = Field(default=60, ge=1, description="study votes a client may send at once")
    rate_clients: int = Field(default=10_000, ge=16, description="clients remembered by the rate limiter")
    trust_forwarded: bool = Field(
        default=False, description="rate-limit by the first X-Forwarded-For address (behind a proxy only)"
    )
    metrics_token: str | None = Field(default=None, description="bearer token for /metrics (unset: open)")
    cors_origins: tuple[str, ...] = Field(
        default=(),
        description="browser origins allowed to call the API, e.g. https://museum.example "
        "(none: no CORS headers, so only pages served by this server may call it)",
    )
    frame_ancestors: str = Field(
        default="'none'", description="CSP frame-ancestors: who may show the UI in a frame ('none': nobody)"
    )

    @field_validator("cors_origins")
    @classmethod
    def _bare_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """A browser sends ``scheme://host[:port]`` exactly: a path or trailing slash would never match."""
        for origin in value:
            parts = urlsplit(origin)
            bare = parts.scheme in ("http", "https") and origin == f"{parts.scheme}://{parts.netloc}"
            if origin != "*" and not (bare and parts.netloc):
                raise ValueError(f"api.cors_origins: {origin!r} is not an origin like https://museum.example")
        return value

    @field_validator("frame_ancestors")
    @classmethod
    def _one_directive(cls, value: str) -> str:
        """The value is spliced into the Content-Security-Policy header: it must stay one directive."""
        if not value.strip() or any(c in value for c in ";,\r\n"):
            raise ValueError(
                "api.frame_ancestors: a CSP source list such as 'none', 'self' or https://a.example"
            )
        return value


class Settings(BaseSettings):
    """Every knob of Asterism, validated once."""

    model_config = SettingsConfigDict(
        env_prefix="ASTERISM_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    home: Path = Field(default=Path("./asterism-data"))
    store: StoreSettings = Field(default_factory=StoreSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    images: ImageSettings = Field(default_factory=ImageSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    license: LicenseSettings = Field(default_factory=LicenseSettings)
    weights: Weights = Field(default_factory=Weights)
    models: ModelSettings = Field(default_factory=ModelSettings)
    graph: GraphSettings = Field(default_factory=GraphSettings)
    recommend: RecommendSettings = Field(default_factory=RecommendSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    recognise: RecogniseSettings = Field(default_factory=RecogniseSettings)
    prose: ProseSettings = Field(default_factory=ProseSettings)
    iiif: IiifSettings = Field(default_factory=IiifSettings)
    painters_csv: Path | None = Field(
        default=None, description="PainterPalette.csv seeding the knowledge graph (also --painters)"
    )
    workers: int = Field(default=2, ge=1, le=64, description="threads for image processing")
    batch_size: int = Field(default=64, ge=1, description="records per store transaction")

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _config_file(init_settings())
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def paths(self) -> Home:
        """The layout of the data home (every file and folder under it)."""
        return Home(self.home)


def _config_file(init: dict[str, Any]) -> Path | None:
    """The TOML file: ASTERISM_CONFIG, else asterism.toml in the chosen home."""
    explicit = os.environ.get("ASTERISM_CONFIG")
    if explicit:
        return Path(explicit)
    home = init.get("home") or os.environ.get("ASTERISM_HOME") or "./asterism-data"
    candidate = Home(Path(home)).config_file
    return candidate if candidate.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Build settings; ``overrides`` win over env and file (used for CLI options)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
