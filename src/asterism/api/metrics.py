"""Prometheus metrics of one app: a registry per app instance (no process-global collectors)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "asterism_http_request_seconds", "HTTP request latency", ["method", "route", "status"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.recommendations = Histogram(
            "asterism_recommendation_seconds", "Recommendation latency by start kind", ["start"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.index_size = Gauge(
            "asterism_index_vectors", "Vectors per affinity index", ["affinity"], registry=self.registry
        )
        self.catalogue_size = Gauge(
            "asterism_catalogue_artworks", "Servable artworks", registry=self.registry
        )
        self.rejected_uploads = Counter(
            "asterism_rejected_uploads_total",
            "Uploads refused, by HTTP status",
            ["status"],
            registry=self.registry,
        )
