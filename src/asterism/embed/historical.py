"""The historical vector: where a work sits in art history, and a guess for uploads.

An artwork's historical vector joins two views: the mean of the node2vec
vectors of its knowledge-graph entities (artist, movements, places, decade,
century, classification) and of its own node, and the date encoding. The
model is keyed by the graph's content hash: an unchanged collection loads
the saved vectors instead of retraining, so re-running a build changes
nothing.

An uploaded picture has no metadata. ``infer`` estimates its history from
its formal and conceptual nearest neighbours: a similarity-weighted mean of
their historical vectors, a date range from the weighted median and spread
of their dates, the most likely culture, and a confidence from how much the
neighbours agree. It is always labelled "(inferred)".
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from asterism.embed.base import ModelInfo, Vectors, l2_normalise
from asterism.embed.dates import DIM as DATE_DIM
from asterism.embed.dates import encode_date
from asterism.knowledge import node2vec
from asterism.knowledge.entities import load_entities
from asterism.knowledge.graph import KnowledgeGraph, artwork_node
from asterism.knowledge.painters import PainterIndex
from asterism.normalize.dates import date_midpoint
from asterism.shapes import Artwork

VERSION = "2"
GRAPH_WEIGHT, DATE_WEIGHT = 0.8, 0.2
# How much each kind of entity counts in a work's graph vector. Measured on 120 AIC paintings
# (artists with ≥ 2 works): a plain mean put a same-artist work first for 58% of works (the shared
# decade dominated); these weights (with the date at 0.2) for 96%.
ENTITY_WEIGHTS = {"artist": 4.0, "movement": 1.5, "period": 0.7, "century": 0.5, "classification": 0.3}


@dataclass
class InferredHistory:
    vector: npt.NDArray[np.float32]
    date_start: int | None
    date_end: int | None
    culture: str | None
    culture_share: float
    classification: str | None
    confidence: float

    def describe(self) -> str:
        """ "looks like French painting, 1860–1890 (inferred)"."""
        what = " ".join(x for x in (self.culture, (self.classification or "").lower()) if x) or "work"
        when = f", {self.date_start}–{self.date_end}" if self.date_start is not None else ""
        return f"looks like {what}{when} (inferred)"


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, q * cumulative[-1])])


class HistoricalModel:
    """Node vectors of the knowledge graph plus the date encoding."""

    def __init__(
        self,
        graph: KnowledgeGraph,
        vectors: Mapping[str, npt.NDArray[np.float32]],
        version: str,
        entities_of: Callable[[Artwork], list[str]] | None = None,
    ) -> None:
        """``entities_of``: a work's entities when ``graph`` is the entity part only (``served``)."""
        self.graph = graph
        self.node_vectors = vectors
        self.entities_of = entities_of
        self.info = ModelInfo("kg-node2vec", version, node2vec.DIM + DATE_DIM)

    @classmethod
    def served(
        cls, folder: Path, version: str, entities_of: Callable[[Artwork], list[str]]
    ) -> HistoricalModel | None:
        """The model a build saved in ``folder / version``, without rebuilding its graph (None: not saved).

        The graph is the saved entity part; a work's entities come from ``entities_of``, and the
        node vectors are read only when a vector must be computed (an upload's neighbours normally
        bring their stored historical vectors: ``StartResolver._infer``).
        """
        saved = folder / version
        graph = load_entities(saved)
        if graph is None or not (saved / "nodes.json").is_file():
            return None
        return cls(graph, SavedVectors(saved), version, entities_of)

    @staticmethod
    def version_of(graph: KnowledgeGraph) -> str:
        params = (
            f"{VERSION}:{node2vec.DIM}:{node2vec.WALKS}:{node2vec.LENGTH}:{node2vec.EPOCHS}:{GRAPH_WEIGHT}"
        )
        return hashlib.sha256(f"{params}:{graph.content_hash()}".encode()).hexdigest()[:16]

    @classmethod
    def fit(cls, artworks: Sequence[Artwork], painters: PainterIndex | None) -> HistoricalModel:
        graph = KnowledgeGraph.build(artworks, painters)
        vectors = node2vec.embed_nodes(list(graph.nodes), graph.edges)
        return cls(graph, vectors, cls.version_of(graph))

    @classmethod
    def fit_or_load(
        cls, artworks: Sequence[Artwork], painters: PainterIndex | None, folder: Path
    ) -> HistoricalModel:
        """Load the saved model for this exact graph, or train and save one."""
        graph = KnowledgeGraph.build(artworks, painters)
        version = cls.version_of(graph)
        saved = folder / version
        if (saved / "nodes.json").is_file() and (saved / "vectors.npy").is_file():
            names = json.loads((saved / "nodes.json").read_text())
            matrix = np.load(saved / "vectors.npy")
            return cls(graph, dict(zip(names, matrix.astype(np.float32), strict=True)), version)
        vectors = node2vec.embed_nodes(list(graph.nodes), graph.edges)
        model = cls(graph, vectors, version)
        model.save(saved)
        return model

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        names = sorted(self.node_vectors)
        matrix = np.stack([self.node_vectors[n] for n in names]) if names else np.zeros((0, node2vec.DIM))
        np.save(folder / "vectors.tmp.npy", matrix.astype(np.float32))
        (folder / "vectors.tmp.npy").replace(folder / "vectors.npy")
        (folder / "nodes.json").write_text(json.dumps(names))

    def vector(self, artwork: Artwork, leave_out: frozenset[str] = frozenset()) -> npt.NDArray[np.float32]:
        """The work's historical vector; ``leave_out`` drops kinds of evidence for evaluation.

        Kinds: entity kinds ("artist", "movement", "period", "century", ...), "artwork" (the
        work's own node, placed by node2vec next to its entities) and "date" (the date encoding).
        The evaluation uses it to score the affinity without the field that defines a notion.
        """
        node = artwork_node(artwork)
        entities = self.graph.entities.get(node)
        if entities is None and self.entities_of is not None:
            entities = self.entities_of(artwork)
        if entities is None:  # not in the graph it was fitted on: read its entities the same way
            entities = self.graph._artwork_entities(artwork, None, {})
        present = [
            e for e in [node, *entities] if e in self.node_vectors and e.split(":", 1)[0] not in leave_out
        ]
        if present:
            weights = np.asarray([ENTITY_WEIGHTS.get(e.split(":", 1)[0], 1.0) for e in present], np.float32)
            stacked = np.stack([self.node_vectors[e] for e in present])
            graph_part = l2_normalise((stacked * weights[:, None]).sum(axis=0))
        else:
            graph_part = np.zeros(node2vec.DIM, np.float32)
        date_part = encode_date(artwork.date_start, artwork.date_end)
        if "date" in leave_out:
            date_part = np.zeros_like(date_part)
        date_norm = float(np.linalg.norm(date_part))
        if date_norm > 0:
            date_part = date_part / date_norm
        combined = np.concatenate([np.sqrt(GRAPH_WEIGHT) * graph_part, np.sqrt(DATE_WEIGHT) * date_part])
        return l2_normalise(combined)

    def vectors(self, artworks: Sequence[Artwork], leave_out: frozenset[str] = frozenset()) -> Vectors:
        if not artworks:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        return np.stack([self.vector(a, leave_out) for a in artworks]).astype(np.float32)

    def infer(
        self, neighbours: Sequence[Artwork], similarities: Sequence[float], vectors: Vectors | None = None
    ) -> InferredHistory:
        """History of an unknown picture from its (formal + conceptual) nearest neighbours."""
        if not neighbours:
            return InferredHistory(np.zeros(self.info.dim, np.float32), None, None, None, 0.0, None, 0.0)
        weights = np.clip(np.asarray(similarities, dtype=np.float64), 1e-6, None)
        matrix = vectors if vectors is not None else self.vectors(neighbours)
        vector = l2_normalise((matrix * weights[:, None]).sum(axis=0))
        middles = [date_midpoint(a.date_start, a.date_end) for a in neighbours]
        dated = [(m, w) for m, w in zip(middles, weights, strict=True) if m is not None]
        start = end = None
        if dated:
            values = np.asarray([m for m, _ in dated])
            w = np.asarray([w for _, w in dated])
            low, high = _weighted_quantile(values, w, 0.25), _weighted_quantile(values, w, 0.75)
            centre = _weighted_quantile(values, w, 0.5)
            half = max((high - low) / 2, 10.0)
            start, end = int(round((centre - half) / 10) * 10), int(round((centre + half) / 10) * 10)
        culture, culture_share = _vote([a.culture for a in neighbours], weights)
        classification, _ = _vote([a.classification for a in neighbours], weights)
        spread_penalty = 1.0 if start is None or end is None else max(0.0, 1.0 - (end - start) / 400)
        confidence = float(
            np.clip(float(np.mean(weights)) * (0.5 + 0.5 * culture_share) * spread_penalty, 0, 1)
        )
        return InferredHistory(vector, start, end, culture, culture_share, classification, confidence)


class SavedVectors(Mapping[str, npt.NDArray[np.float32]]):
    """A saved model's node vectors by node name, read from its folder at the first lookup."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._rows: dict[str, int] | None = None
        self._matrix: npt.NDArray[np.float32] | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[dict[str, int], npt.NDArray[np.float32]]:
        with self._lock:
            if self._rows is None or self._matrix is None:
                names = json.loads((self.folder / "nodes.json").read_text())
                self._matrix = np.load(self.folder / "vectors.npy", mmap_mode="r")
                self._rows = {name: i for i, name in enumerate(names)}
            return self._rows, self._matrix

    def __getitem__(self, name: str) -> npt.NDArray[np.float32]:
        rows, matrix = self._load()
        return np.asarray(matrix[rows[name]], dtype=np.float32)

    def __contains__(self, name: object) -> bool:
        return name in self._load()[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load()[0])

    def __len__(self) -> int:
        return len(self._load()[0])


def _vote(values: Sequence[str | None], weights: np.ndarray) -> tuple[str | None, float]:
    tally: defaultdict[str, float] = defaultdict(float)
    for value, weight in zip(values, weights, strict=True):
        if value:
            tally[value] += float(weight)
    if not tally:
        return None, 0.0
    value, score = max(tally.items(), key=lambda item: (item[1], item[0]))
    return value, score / float(weights.sum())
