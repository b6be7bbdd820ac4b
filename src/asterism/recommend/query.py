"""A recommendation question: where to start, how to weigh, what to keep, which page."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from asterism.config import RecommendSettings, Weights
from asterism.embed.base import AFFINITIES, Affinity


class QueryError(ValueError):
    """The question cannot be answered as asked (unknown id, bad weights, bad filter): a 4xx, not a 500.

    ``status`` is the HTTP status the API answers with; subclasses narrow it.
    """

    status: int = 400


class TooMuchWork(QueryError):
    """A page deeper than the server reads (``recommend.max_depth``, ``max_candidates``): HTTP 400.

    Duplicate removal and diversity compare every result with the others, so their cost grows
    with the square of k·(page+1); the caps keep the dearest question the API accepts cheap.
    """


class DeadlineExceeded(QueryError):
    """The request ran out of its time (``recommend.deadline``): HTTP 503 with ``Retry-After``.

    Raised between the stages of a recommendation, so a question that got slow (a loaded
    server, a deep page) frees its thread instead of holding it; asking again later may work.
    """

    status = 503

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Deadline:
    """When one request must be done by, checked by the recommender between its stages.

    Passed down with the request rather than kept anywhere global, so concurrent requests
    each have their own. ``clock`` is the time source (``time.monotonic``: wall time, what the
    person waits; a benchmark may pass ``time.process_time``); ``marks`` keeps when each stage
    began, which says where a slow request spent its time.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.began = clock()
        self.marks: list[tuple[str, float]] = []

    def elapsed(self) -> float:
        return self.clock() - self.began

    def check(self, stage: str) -> None:
        """Before ``stage`` begins: raise ``DeadlineExceeded`` if the time is already up."""
        elapsed = self.elapsed()
        self.marks.append((stage, elapsed))
        if elapsed >= self.seconds:
            raise DeadlineExceeded(
                f"the server gave up on this request before {stage} after {elapsed:.2f} s "
                f"(it allows {self.seconds:g} s): it is busy or the question is large; "
                "try again shortly, or ask for fewer results",
                retry_after=max(1, math.ceil(self.seconds)),
            )


BROADEN_SHARE = 0.5  # what "broaden" means when no share is named: no culture or century above half a page
# Broadening reads this many times deeper: the works of other cultures and centuries it fills a page
# with lie further down (on the samples, the first 62 candidates of a French 19th-century start held
# 40 French 19th-century works), so it is bounded as such in ``check``.
BROADEN_WIDTH = 4
CANDIDATES_PER_RESULT = 5  # the ranked window read for a page: this many works per result asked for


@dataclass(frozen=True)
class Filters:
    """Which works may appear: each field None means no constraint."""

    date_from: int | None = None
    date_to: int | None = None
    sources: frozenset[str] | None = None
    licenses: frozenset[str] | None = None  # normalized license ids, e.g. CC0-1.0, PD
    classifications: frozenset[str] | None = None  # case-insensitive
    has_image: bool | None = None

    def __post_init__(self) -> None:
        if self.date_from is not None and self.date_to is not None and self.date_from > self.date_to:
            raise QueryError(f"date range is empty: {self.date_from} > {self.date_to}")

    @classmethod
    def parse(cls, items: list[str]) -> Filters:
        """From CLI-style ``name=value`` strings: date=1850..1900, source=aic, license=CC0-1.0, type=Painting, has_image=yes."""
        values: dict[str, object] = {}
        for item in items:
            name, sep, value = item.partition("=")
            name, value = name.strip().lower(), value.strip()
            if not sep or not value:
                raise QueryError(f"filter {item!r} is not name=value")
            if name == "date":
                low, _, high = value.partition("..")
                try:
                    values["date_from"] = int(low) if low else None
                    values["date_to"] = int(high) if high else None
                except ValueError:
                    raise QueryError(f"date filter {value!r} is not FROM..TO years") from None
            elif name in ("source", "license", "type", "classification"):
                key = {"source": "sources", "license": "licenses"}.get(name, "classifications")
                values[key] = frozenset(v.strip() for v in value.split(",") if v.strip())
            elif name == "has_image":
                values["has_image"] = value.lower() in ("1", "yes", "true")
            else:
                raise QueryError(f"unknown filter {name!r} (date, source, license, type, has_image)")
        return cls(**values)  # type: ignore[arg-type]


def parse_weights(
    text: str | Mapping[str, float] | None, default: Weights | None = None
) -> dict[Affinity, float]:
    """``formal=0.6,conceptual=0.2,historical=0.2`` (or a mapping) into checked weights summing to 1."""
    base = default or Weights()
    weights: dict[Affinity, float] = {
        Affinity.FORMAL: base.formal,
        Affinity.CONCEPTUAL: base.conceptual,
        Affinity.HISTORICAL: base.historical,
    }
    if text:
        given: dict[str, float | str] = {}
        if isinstance(text, str):
            for part in text.split(","):
                name, sep, raw = part.partition("=")
                if not sep:
                    raise QueryError(f"weight {part!r} is not name=value")
                given[name.strip()] = raw.strip()
        else:
            given.update(text)
        for name, value in given.items():
            try:
                affinity = Affinity(name.strip().lower())
            except ValueError:
                raise QueryError(f"unknown affinity {name!r} (formal, conceptual, historical)") from None
            try:
                weights[affinity] = float(value)
            except (TypeError, ValueError):
                raise QueryError(f"weight of {name} is not a number: {value!r}") from None
    for affinity, weight in weights.items():
        if not math.isfinite(weight) or weight < 0:
            raise QueryError(f"weight of {affinity} must be a finite number ≥ 0, got {weight}")
    total = sum(weights.values())
    if total <= 0:
        raise QueryError("at least one weight must be positive")
    return {affinity: weights[affinity] / total for affinity in AFFINITIES}


@dataclass(frozen=True)
class Query:
    """One recommend call. Exactly one of ``artwork_id`` and ``image`` is set."""

    artwork_id: int | None = None
    image: bytes | None = None
    weights: dict[Affinity, float] | None = None  # None: the defaults for this kind of start
    k: int = 10
    page: int = 0
    alpha: float | None = None  # None: the settings' value
    beta: float | None = None
    diversity: float = 0.0  # MMR lambda: 0 = pure relevance, up to 1
    filters: Filters = field(default_factory=Filters)
    recognise: bool = True  # an uploaded photo of a stored work answers as that work (when recognised)
    # Broaden: at most this share of a page from one culture or one century (None: off); see diversify.broaden
    max_share: float | None = None

    def __post_init__(self) -> None:
        if (self.artwork_id is None) == (self.image is None):
            raise QueryError("give exactly one start: an artwork id or an image")
        if not 1 <= self.k <= 100:
            raise QueryError(f"k must be between 1 and 100, got {self.k}")
        if not 0 <= self.page <= 50:
            raise QueryError(f"page must be between 0 and 50, got {self.page}")
        if not 0 <= self.diversity <= 1:
            raise QueryError(f"diversity must be between 0 and 1, got {self.diversity}")
        if self.max_share is not None and not (math.isfinite(self.max_share) and 0 < self.max_share <= 1):
            raise QueryError(f"max_share must be above 0 and at most 1, got {self.max_share}")
        for name, value in (("alpha", self.alpha), ("beta", self.beta)):
            if value is not None and (not math.isfinite(value) or value < 0):
                raise QueryError(f"{name} must be a finite number ≥ 0, got {value}")

    @property
    def depth(self) -> int:
        """How many results this question reads: every page up to and including the one asked for."""
        return self.k * (self.page + 1)

    @property
    def widen(self) -> int:
        """How many times deeper than usual this question reads its candidates (broadening: ``BROADEN_WIDTH``)."""
        return BROADEN_WIDTH if self.max_share is not None else 1

    def check(self, limits: RecommendSettings) -> None:
        """Refuse (``TooMuchWork``, a 400) a question deeper than this server's caps allow.

        k and page are checked on their own above; these caps bound what they cost together,
        and are settings because what is affordable depends on the machine and the collection.
        """
        if self.depth > limits.max_depth:
            raise TooMuchWork(
                f"k·(page+1) = {self.k}·{self.page + 1} = {self.depth} results is deeper than this "
                f"server reads ({limits.max_depth}, recommend.max_depth): ask for a smaller k or page"
            )
        candidates = CANDIDATES_PER_RESULT * self.depth * self.widen
        if candidates > limits.max_candidates:
            raise TooMuchWork(
                f"k·(page+1) = {self.depth} results needs {candidates} candidates"
                f"{' (broadened)' if self.widen > 1 else ''}, more than this server "
                f"ranks ({limits.max_candidates}, recommend.max_candidates): ask for a smaller k or page"
            )

    def resolve(self, defaults: RecommendSettings, by_id: Weights, upload: bool) -> Mix:
        """Weights, alpha and beta of this question: its own, else the defaults for its kind of start.

        The one place they resolve; an uploaded picture has defaults of its own (``upload_*``).
        """
        weights = self.weights or parse_weights(None, defaults.upload_weights if upload else by_id)
        alpha = (defaults.upload_alpha if upload else defaults.alpha) if self.alpha is None else self.alpha
        beta = (defaults.upload_beta if upload else defaults.beta) if self.beta is None else self.beta
        return Mix(weights, alpha, beta)


@dataclass(frozen=True)
class Mix:
    weights: dict[Affinity, float]
    alpha: float
    beta: float
