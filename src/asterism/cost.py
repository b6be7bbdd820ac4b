"""What running Asterism costs a month: the blueprint's §12.5 calculator, with its arithmetic corrected.

The blueprint (``shared/seed/blueprint.md`` §12.5, "Quick-Start Cost-Calculator") ships a Python
``estimate_monthly()`` and says its defaults print "close to $4950/month, matching the table"
(§12.1, ≈ $4,983). Run, it returns **$4,094.60**: LLM 1,500 + embeddings 0.10 + API 58.40 + GPU
1,980 + storage 47.10 + CDN 9 + a $500 lump (``blueprint_estimate()`` repeats its arithmetic for
any inputs; ``asterism cost`` prints both figures). What is wrong, item by item:

* **Embeddings priced per image, not per token.** It charges ``1_000_000 / 1_000 × price`` ("1M
  images") as if one image were one token: $0.10. The table's own row 6 says 1M embeddings ≈ 30M
  tokens, so $3.00 (``embed_tokens_per_work`` = 30).
* **Two lengths of month.** The API nodes run 730 h (365 × 24 / 12), the GPU workers "× 30" days
  (720 h). One month, 730 h: 2 × 12 h × 30.42 d = 730 GPU-hours, $2,007.50 at its $2.75/h. (The
  table it claims to match budgets $440 for those hours, i.e. ≈ $0.61/h, a T4 price; a p3.2xlarge
  is a V100. The $2.75 is kept as the default and is the option to change.)
* **Storage and egress short of its own table.** 2 TB only, without the 200 GB of thumbnails
  (row 5): 2,248 GB. CDN 100 GB only, without the ~20 GB of API traffic (row 8): 120 GB.
* **A $500 lump instead of the rows it stands for.** "Misc (vector store, DB, monitoring, ops)"
  replaces rows 3, 4, 9, 10, 11 ($267), leaves out personnel ($2,500, row 12) and the 10 %
  contingency (row 13), $3,058 of the table's $4,983, so it cannot "match the table".
  (Nor does the table add up: its rows sum to $4,845, 10 % of that is $484.50, not $558, and the
  annual column sums to $64,836, not $59,800.)

``estimate()`` itemises every row, each ``quantity × unit price``, one 730-hour month, and adds
the contingency on the subtotal: **$7,038.24** with the defaults ($6,398.40 before contingency).
The difference from $4,094.60 is personnel (+2,500), the contingency (+639.84), GPU at 730 h
(+27.50), embedding tokens (+2.90), the itemised services (−233), storage (+4.60) and egress
(+1.80). Set ``personnel=0, contingency=0`` for the machines alone: $3,898.40.

``compute="cpu"`` replaces the GPU line with this project's own measured throughputs on the
2-core bench machine (``bench/RESULTS.md``): the new collection images and visitor uploads of a
month, in hours of a 2-vCPU instance (the blueprint's t3.medium size and price by default). It
prices hours of work at full use, not a machine kept on (the API nodes already are); a t3.medium
is burstable, so sustained work needs a dearer price. With the defaults that is ≈ 35 hours
of such an instance a month where the blueprint buys 730 GPU-hours: $1.42 instead of $2,007.50.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

HOURS_PER_MONTH = 730.0  # 365 × 24 / 12: the API line's month, now every line's
DAYS_PER_MONTH = HOURS_PER_MONTH / 24

# --- Measured on this project's bench machine: 2 cores (AMD EPYC), bench/RESULTS.md -------------
BENCH_CORES = 2
# "Ingest — bench/ingest.py (2026-11-25)": full harvest, OCR off, workers=1: 195 images/s.
INGEST_IMAGES_PER_S = 195.0
# Same section: "With OCR on (Tesseract, ≈120 ms per image) `make demo` ingests at ≈11–13 images/s"
# (the midpoint; it includes the harvest above).
INGEST_OCR_IMAGES_PER_S = 12.0
# "Embedding — bench/embed.py (2026-11-28)": all three affinities end to end, decode included: 54 img/s.
EMBED_IMAGES_PER_S = 54.0
# "Recognising a photographed work (2026-11-30)": the recognition stage built 761 works in 21 s.
RECOGNITION_S_PER_WORK = 21.0 / 761
# "Affinity graph and recommender (2026-11-28)", synthetic 100k: HNSW formal 106 s + conceptual 72 s
# + historical 26 s; batched k-NN for the edges 71 s; LadybugDB load 499k edges/s, 60 edges a work.
INDEX_S_PER_100K = 106.0 + 72.0 + 26.0
KNN_S_PER_100K = 71.0
EDGES_PER_WORK = 60
EDGE_LOAD_PER_S = 499_000.0
# "Search — bench/search.py (2026-11-28)": HNSW build 39.4 s at 100k, 452.1 s at 1M (128 dims):
# how the 100k index and k-NN figures grow to a million.
HNSW_100K_TO_1M = 452.1 / 39.4
# "HTTP API under load (2026-11-28)": uploads back to back saturate 2 cores at 18.4 req/s; and
# "An image–text model per upload (2026-11-30)": recognition adds ≈120 ms to an unknown picture.
UPLOAD_S = 1 / 18.4 + 0.120


def cpu_hours_per_million_works(ocr: bool = True) -> dict[str, float]:
    """Hours of the 2-core bench machine to take a million works through each stage, and the total.

    Linear in the works (the index steps scaled from 100k by the measured 1M/100k HNSW ratio);
    core-hours are twice these (``BENCH_CORES``).
    """
    million = 1_000_000
    steps = {
        "ingest": million / (INGEST_OCR_IMAGES_PER_S if ocr else INGEST_IMAGES_PER_S),
        "embed": million / EMBED_IMAGES_PER_S,
        "recognition": million * RECOGNITION_S_PER_WORK,
        "index": INDEX_S_PER_100K * HNSW_100K_TO_1M,
        "knn edges": KNN_S_PER_100K * HNSW_100K_TO_1M,
        "edge load": million * EDGES_PER_WORK / EDGE_LOAD_PER_S,
    }
    hours = {name: seconds / 3600 for name, seconds in steps.items()}
    hours["total"] = sum(hours.values())
    return hours


@dataclass(frozen=True)
class CostInputs:
    """The blueprint function's parameters and the prices it hard-codes, with its values as defaults.

    Additions, each from the blueprint's tables: ``works`` and ``embed_tokens_per_work`` (§12.1 row 6),
    ``images_per_day`` (§12.2 "nightly ingest of ~10k new images"), the itemised services of rows
    3, 4, 9–12 and the contingency of row 13. ``uploads_per_day`` defaults to every interaction
    starting from a picture (the dearest request); it is only priced with ``compute="cpu"``.
    """

    works: int = 1_000_000
    images_per_day: float = 10_000
    uploads_per_day: float | None = None
    users: int = 1_000
    interactions_per_user: float = 500  # a month, as the function and row 7 count (§12.2's 2 a day: ~61)
    tokens_per_interaction: float = 200
    llm_price_per_1k_tokens: float = 0.015
    embed_tokens_per_work: float = 30
    embed_price_per_1k_tokens: float = 0.0001
    api_nodes: int = 2
    api_price_per_hour: float = 0.040  # t3.medium, 2 vCPU
    compute: Literal["gpu", "cpu"] = "gpu"
    gpu_instances: int = 2
    gpu_hours_per_day: float = 12
    gpu_price_per_hour: float = 2.75
    cpu_price_per_hour: float = 0.040  # a 2-vCPU instance, the bench machine's size
    ocr: bool = True
    storage_gb: float = 2 * 1024 + 200
    storage_price_per_gb: float = 0.023
    egress_gb: float = 100 + 20
    egress_price_per_gb: float = 0.09
    vector_store: float = 120
    database: float = 110
    monitoring: float = 25
    ci_registry: float = 7
    security: float = 5
    personnel: float = 2_500
    contingency: float = 0.10

    def __post_init__(self) -> None:
        """Refuse what would make a silent nonsense total: negative amounts, an unknown compute."""
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"{field.name} must be ≥ 0, got {value}")
        if self.compute not in ("gpu", "cpu"):
            raise ValueError(f"compute must be 'gpu' or 'cpu', got {self.compute!r}")
        if self.gpu_hours_per_day > 24:
            raise ValueError(f"gpu_hours_per_day must be ≤ 24, got {self.gpu_hours_per_day}")


@dataclass(frozen=True)
class LineItem:
    """One row: ``monthly = quantity × unit_price`` (rounded to cents only when shown)."""

    name: str
    quantity: float
    unit: str
    unit_price: float

    @property
    def monthly(self) -> float:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Breakdown:
    """Monthly line items (the contingency last) and their total; ``one_off`` is not in the total."""

    inputs: CostInputs
    items: tuple[LineItem, ...]
    one_off: tuple[LineItem, ...] = ()

    @property
    def total(self) -> float:
        return sum(item.monthly for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: inputs, rows with their monthly cost, the total (cents) and the CPU model."""

        def row(item: LineItem) -> dict[str, Any]:
            return {**asdict(item), "monthly": round(item.monthly, 2)}

        return {
            "inputs": asdict(self.inputs),
            "items": [row(item) for item in self.items],
            "one_off": [row(item) for item in self.one_off],
            "total": round(self.total, 2),
            "cpu_hours_per_million_works": cpu_hours_per_million_works(self.inputs.ocr),
        }


def estimate(inputs: CostInputs | None = None) -> Breakdown:
    """The corrected monthly breakdown: every row of §12.1 as quantity × price, one 730-hour month."""
    i = inputs or CostInputs()
    interactions = i.users * i.interactions_per_user
    llm_k = interactions * i.tokens_per_interaction / 1000
    embed_k = i.works * i.embed_tokens_per_work / 1000
    items = [
        LineItem("LLM explanations", llm_k, "1k tokens", i.llm_price_per_1k_tokens),
        LineItem("text embeddings", embed_k, "1k tokens", i.embed_price_per_1k_tokens),
        LineItem("API nodes", i.api_nodes * HOURS_PER_MONTH, "instance-hours", i.api_price_per_hour),
    ]
    one_off: list[LineItem] = []
    if i.compute == "gpu":
        gpu_hours = i.gpu_instances * i.gpu_hours_per_day * DAYS_PER_MONTH
        items.append(LineItem("GPU workers", gpu_hours, "GPU-hours", i.gpu_price_per_hour))
    else:
        per_work = cpu_hours_per_million_works(i.ocr)["total"] / 1_000_000
        uploads = interactions / DAYS_PER_MONTH if i.uploads_per_day is None else i.uploads_per_day
        cpu = i.cpu_price_per_hour
        unit = f"{BENCH_CORES}-core hours"
        items.append(LineItem("CPU: new images", i.images_per_day * DAYS_PER_MONTH * per_work, unit, cpu))
        items.append(LineItem("CPU: uploads", uploads * DAYS_PER_MONTH * UPLOAD_S / 3600, unit, cpu))
        one_off.append(LineItem("CPU: whole collection, once", i.works * per_work, unit, cpu))
    items += [
        LineItem("object storage", i.storage_gb, "GB-months", i.storage_price_per_gb),
        LineItem("CDN egress", i.egress_gb, "GB", i.egress_price_per_gb),
    ]
    services = ("vector_store", "database", "monitoring", "ci_registry", "security", "personnel")
    items += [LineItem(name.replace("_", " "), 1, "month", getattr(i, name)) for name in services]
    subtotal = sum(item.monthly for item in items)
    items.append(LineItem("contingency", subtotal, "USD", i.contingency))
    return Breakdown(i, tuple(items), tuple(one_off))


# What the blueprint's ``estimate_monthly()`` hard-codes or leaves out (§12.5).
BLUEPRINT_DAYS_PER_MONTH = 30  # its GPU line's month: 720 hours
BLUEPRINT_MISC = 500.0  # "rough lump sum for all the other services above"
BLUEPRINT_THUMBNAILS_GB = 200  # §12.1 row 5, not in its storage line
BLUEPRINT_API_EGRESS_GB = 20  # §12.1 row 8, not in its CDN line


def blueprint_estimate(inputs: CostInputs | None = None) -> float:
    """What the blueprint's §12.5 ``estimate_monthly()`` computes for these inputs, errors included.

    Its arithmetic line by line (see the module docstring for each error): embeddings priced as
    one token per work, the GPU workers over a 30-day month, storage without the thumbnails and
    egress without the API traffic (``CostInputs`` counts both, so they are taken off again), a
    $500 lump for every other service, and no personnel or contingency. The function knows only
    GPU workers: ``compute="cpu"`` changes nothing here. Rounded to cents as it rounds:
    $4,094.60 with the defaults, where ``estimate()`` gives $7,038.24.
    """
    i = inputs or CostInputs()
    llm = i.users * i.interactions_per_user * i.tokens_per_interaction / 1000 * i.llm_price_per_1k_tokens
    embed = i.works / 1000 * i.embed_price_per_1k_tokens
    api = i.api_nodes * i.api_price_per_hour * HOURS_PER_MONTH
    gpu = i.gpu_instances * i.gpu_hours_per_day * BLUEPRINT_DAYS_PER_MONTH * i.gpu_price_per_hour
    storage = max(i.storage_gb - BLUEPRINT_THUMBNAILS_GB, 0.0) * i.storage_price_per_gb
    cdn = max(i.egress_gb - BLUEPRINT_API_EGRESS_GB, 0.0) * i.egress_price_per_gb
    return round(sum([llm, embed, api, gpu, storage, cdn, BLUEPRINT_MISC]), 2)
