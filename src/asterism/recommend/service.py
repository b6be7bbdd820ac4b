"""``Service``: a built collection opened once for questions — the read path of the CLI, the API and eval.

It opens the indexes, the graph snapshot, the catalogue and (lazily) the
models from what the build stages left in the data home, and answers with
the project's data shapes. It imports no build stage: building and serving
meet only in the files of the data home (``Home``) and the property store.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import threadpoolctl  # type: ignore[import-untyped]
from PIL import Image

from asterism.config import ApiSettings, Settings
from asterism.embed.base import Affinity
from asterism.embed.formal import FormalLayout
from asterism.embed.registry import Models
from asterism.graph import open_graph
from asterism.graph.adjacency import Adjacency, snapshot_version
from asterism.graph.base import GraphPath
from asterism.graph.edges import EDGE_TYPE
from asterism.home import Home
from asterism.index.files import open_searcher
from asterism.index.search import MultiSearcher
from asterism.recognise.recogniser import Recogniser, Recognition
from asterism.recognise.store import open_set
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.connect import describe_path
from asterism.recommend.engine import Recommender
from asterism.recommend.explain import KnowledgeView
from asterism.recommend.explainer import Explainer
from asterism.recommend.query import Deadline, Query, QueryError
from asterism.recommend.refs import WorkRef
from asterism.recommend.served import open_served
from asterism.recommend.start import NeedsModel, NotFound, StartResolver
from asterism.recommend.upload_spaces import space_encoders, space_models
from asterism.shapes import Artwork, ConnectStep, Recognised, RecommendationPage
from asterism.store import Database, PropertyStore, open_database

log = logging.getLogger(__name__)


class Withheld(NotFound):
    """A stored work the current license policy does not serve (HTTP 403, with the reason)."""

    status = 403


class NotBuilt(QueryError):
    """The collection has not been built yet (run ``asterism build``): HTTP 503."""

    status = 503


@dataclass
class Service:
    settings: Settings
    database: Database
    recommender: Recommender
    starts: StartResolver
    explainer: Explainer
    version: str = ""  # changes whenever a build changed the vectors, indexes or graph, or the license policy
    recogniser: Recogniser | None = None  # None: no recognition data built, or recognition switched off
    home: Home | None = None  # pinned to the build generation this service was opened on

    # ------------------------------------------------------------------ what is loaded
    @property
    def catalogue(self) -> Catalogue:
        return self.recommender.catalogue

    @property
    def searcher(self) -> MultiSearcher:
        return self.recommender.searcher

    @property
    def adjacency(self) -> Adjacency:
        return self.recommender.adjacency

    @property
    def knowledge(self) -> KnowledgeView | None:
        return self.explainer.knowledge

    @property
    def layout(self) -> FormalLayout:
        return self.explainer.layout

    @property
    def models(self) -> Models | None:
        return self.starts.models

    @property
    def records(self) -> PropertyStore:
        """Every stored record (served or not): the property store's protocol."""
        return self.database.records

    def picture(self, artwork: Artwork) -> Path:
        """The file of a work's stored picture (``NotFound`` if it has none)."""
        if artwork.image is None:
            raise NotFound(f"artwork {artwork.ref} has no image")
        return self.settings.paths.file(artwork.image.path)

    def readiness(self) -> dict[str, Any]:
        """What a load balancer or a person checks: works served, vectors per index, build version."""
        return {
            "artworks": len(self.catalogue),
            "indexes": {str(a): index.ntotal for a, index in self.searcher.indexes.items()},
            "version": self.version,
            "models": self.active_models(),
            "recognition": len(self.recogniser.data) if self.recogniser is not None else 0,
        }

    def warm_up(self) -> None:
        """Run one made-up picture through every model and the recogniser before serving.

        ONNX Runtime, the tokenizer and the recognition arrays do their one-time work at the
        first call (1–4 s here): without this, the first upload after a start or a reload pays
        for it and runs past its deadline, while ``/readyz`` already said "ready".
        """
        if self.models is None:
            return
        started = time.perf_counter()
        picture = Image.radial_gradient("L").convert("RGB").resize((320, 240))
        if self.recogniser is not None:
            self.recogniser.examine(np.asarray(picture, dtype=np.uint8))
        try:
            self.starts.from_picture(picture, ocr=False)
        except QueryError as exc:  # e.g. an imported space whose model is absent: uploads will say so
            log.info("warm-up: %s", exc)
        log.info("models warmed up in %.1f s", time.perf_counter() - started)

    def active_models(self) -> dict[str, Any]:
        """Which models make each affinity now, and how to get a better one when only the defaults are there."""
        settings = self.settings.models
        out: dict[str, Any] = {
            "formal": "efficientnet-lite0" + (" + dinov2" if settings.dinov2_path else ""),
            "conceptual": "minilm (text)"
            if settings.conceptual == "text"
            else f"{settings.conceptual} ({settings.clip_path})",
            "spaces": {str(a): model for a, model in self.starts.spaces.items()},
            "text_to_image": settings.conceptual != "text" and Affinity.CONCEPTUAL not in self.starts.spaces,
        }
        if not settings.clip_path and not self.starts.spaces:
            out["better"] = (
                "asterism models pull openclip-vit-b-32 (image-text), asterism models pull dinov2-small"
            )
        return out

    # ------------------------------------------------------------------ works
    def resolve(self, ref: WorkRef) -> int:
        """The store id of a served work named by id or ``source:source_id``; ``NotFound`` echoes the name."""
        found = self.catalogue.lookup(ref)
        if found is None or found.id is None:
            reason = self.catalogue.refusal(ref)
            if reason is not None:
                raise Withheld(f"artwork {ref} is not served: {reason}")
            raise NotFound(f"no artwork {ref} in the collection")
        return found.id

    def artwork(self, ref: WorkRef) -> Artwork:
        found = self.catalogue.get(self.resolve(ref))
        assert found is not None
        return found

    def artworks(self, refs: Sequence[WorkRef]) -> tuple[list[Artwork], list[WorkRef]]:
        """(found works, names not in the collection), in the order asked."""
        found: list[Artwork] = []
        missing: list[WorkRef] = []
        for ref in refs:
            work = self.catalogue.lookup(ref)
            if work is None:
                missing.append(ref)
            else:
                found.append(work)
        return found, missing

    def surprise(self, seed: int | None = None) -> Artwork:
        """A random served work with an image ("surprise me"); the same seed, the same work."""
        with_image = self.catalogue.pictured().tolist()  # ids, not records: a million would be decoded
        if not with_image:
            raise NotFound("the collection is empty")
        return self.artwork(random.Random(seed).choice(with_image))

    def search(self, text: str, limit: int = 20) -> list[Artwork]:
        """Works whose title or artist contain every word (accents and case ignored)."""
        return self.catalogue.search(text, limit)

    def search_pictures(self, text: str, limit: int = 20) -> list[tuple[Artwork, float]]:
        """Works whose picture fits a description ("a stormy sea at night"), with the image–text cosine.

        Needs an image–text model serving the conceptual affinity (``asterism models pull``); the
        offline default describes pictures by labels, which cannot be searched this way.
        """
        models = self.models
        if self.settings.models.conceptual == "text" or Affinity.CONCEPTUAL not in self.searcher.vectors:
            raise NeedsModel("searching pictures by text needs an image–text model: "
                             "asterism models pull openclip-vit-b-32 (then asterism build)")  # fmt: skip
        space = self.starts.spaces.get(Affinity.CONCEPTUAL)
        if space is not None:
            raise NeedsModel(f"the conceptual affinity is served from imported vectors of {space}: "
                             f"searching pictures by text needs that model (asterism models pull {space})")  # fmt: skip
        query = models.concept.picture_query(text) if models is not None else None
        if query is None:
            raise NeedsModel("searching pictures by text needs an image–text model: "
                             "asterism models pull openclip-vit-b-32 (then asterism build)")  # fmt: skip
        hidden = len(self.searcher.vectors[Affinity.CONCEPTUAL]) - len(self.catalogue)  # embedded, not served
        hits = self.searcher.search(
            {Affinity.CONCEPTUAL: query}, {Affinity.CONCEPTUAL: 1.0}, k=limit + max(hidden, 0)
        )
        found = [(work, hit.total) for hit in hits if (work := self.catalogue.get(hit.id)) is not None]
        return found[:limit]

    # ------------------------------------------------------------------ questions
    def recommend(self, query: Query, deadline: Deadline | None = None) -> RecommendationPage:
        """Related works for a stored start or a picture (the image settings' limits).

        Too deep a page is refused before any work (``TooMuchWork``). ``deadline`` None: the
        recommender starts one of ``recommend.deadline`` seconds once the start is read, so loading
        the models on a process's first picture (seconds, once) does not fail that question;
        a deadline given here is checked before recognising and embedding a picture as well.
        """
        query.check(self.recommender.settings)
        if query.artwork_id is not None:
            start = self.starts.from_id(query.artwork_id)
            return self.recommender.recommend(start, query, deadline)
        assert query.image is not None
        return self._picture(query, self.starts.decode(query.image), ocr=None, deadline=deadline)

    def recommend_upload(
        self, query: Query, limits: ApiSettings, deadline: Deadline | None = None
    ) -> RecommendationPage:
        """An uploaded picture under the API's stricter limits (bytes, pixels, formats, OCR).

        The deadline starts here when none is given, so decoding, recognising and embedding the
        picture count against it: an upload is checked before each of those stages, not only
        once ranking begins.
        """
        if query.image is None:
            raise QueryError("an upload needs an image")
        query.check(self.recommender.settings)
        deadline = deadline if deadline is not None else Deadline(self.recommender.settings.deadline)
        picture = self.starts.decode(
            query.image,
            max_bytes=limits.upload_max_bytes,
            max_pixels=limits.upload_max_pixels,
            formats=frozenset(limits.upload_formats),
            max_decoded_pixels=limits.upload_max_decoded_pixels,
        )
        return self._picture(query, picture, ocr=limits.ocr_uploads, deadline=deadline)

    def recognise(self, picture: Image.Image) -> Recognition | None:
        """The served work a photo shows, when recognised above the calibrated threshold (else None)."""
        if self.recogniser is None:
            return None
        return self.recogniser.recognise(np.asarray(picture, dtype=np.uint8))

    def _picture(
        self, query: Query, picture: Image.Image, *, ocr: bool | None, deadline: Deadline | None
    ) -> RecommendationPage:
        """A photo of a stored work answers as that work, by id; any other picture by image."""
        found, regions = None, None
        if self.recogniser is not None and query.recognise:
            if deadline is not None:  # without one, the recommender's starts after the picture is read
                deadline.check("recognition")
            examined = self.recogniser.examine(np.asarray(picture, dtype=np.uint8))
            found, regions = self.recogniser.verdict(examined), examined.regions
        if found is not None:
            work = self.catalogue.get(found.artwork_id)
            assert work is not None
            page = self.recommender.recommend(self.starts.from_id(found.artwork_id), query, deadline)
            recognised = Recognised(artwork=work, confidence=found.confidence, inliers=found.inliers)
            return page.model_copy(update={"start_kind": "recognised", "recognised": recognised})
        if deadline is not None:
            deadline.check("embedding")
        start = self.starts.from_picture(picture, ocr=ocr, regions=regions)
        page = self.recommender.recommend(start, query, deadline)
        return page.model_copy(update={"start_kind": "picture"})

    def graph_path(self, a: WorkRef, b: WorkRef, max_hops: int = 6) -> GraphPath | None:
        """The shortest chain of affinity edges and knowledge links from ``a`` to ``b`` in the graph store.

        None also when the chain passes a work the license policy now withholds: the graph
        was built under the policy of its build, and a withheld work is shown nowhere.
        """
        first, last = self.resolve(a), self.resolve(b)
        graph = open_graph(self.settings, read_only=True, home=self.home)
        try:
            path = graph.shortest_path(first, last, max_hops)
        finally:
            graph.close()
        withheld = self.catalogue.withheld
        if path is not None and any(node.artwork_id in withheld for node in path.nodes):
            return None
        return path

    def connect(self, a: WorkRef, b: WorkRef, max_hops: int = 6) -> list[ConnectStep] | None:
        """That chain told step by step, each with its affinity and reasons or its relation; None if none."""
        path = self.graph_path(a, b, max_hops)
        return describe_path(path, self.explainer) if path is not None else None

    # ------------------------------------------------------------------ the preference study
    def new_study_pair(self, ref: WorkRef, rng: random.Random | None = None) -> tuple[int, str, str, str]:
        """(start id, pair id, left variant, right variant) for a blind comparison from this work."""
        from asterism.eval.study import new_pair

        start = self.resolve(ref)
        return (start, *new_pair(self.database.study, start, rng))

    def vote(self, pair_id: str, choice: str) -> None:
        """One vote per pair (``UnknownPair``, ``AlreadyVoted`` otherwise)."""
        self.database.study.vote(pair_id, choice)

    def close(self) -> None:
        self.database.close()


def open_service(settings: Settings, *, snapshots: bool = True) -> Service:
    """Load indexes, the graph snapshot, the catalogue and (lazily) the models; ``NotBuilt`` before a build.

    The catalogue and the historical model come from the build's snapshots while they are current
    (``recommend/served.py``); ``snapshots=False`` reads every record from the store instead.
    """
    # One query at a time per request: FAISS's OpenMP threads would only fight the request threads
    # (and the other worker processes) for the same cores; measured tails of seconds without this.
    faiss.omp_set_num_threads(1)
    # The same for BLAS: a request's products are small (a 40-row duplicate check, a 512-row
    # calibration), and OpenBLAS's threads spun for them: 31 ms CPU per by-id request, 8 with one.
    # Both settings hold for the whole process: a notebook that opens a service and then builds
    # runs FAISS and BLAS on one thread too (ONNX Runtime and torch keep their own pools).
    threadpoolctl.threadpool_limits(1, user_api="blas")
    home = settings.paths.current()  # every file below from one generation, whatever a build does meanwhile
    if not home.built():
        raise NotBuilt(f"no indexes under {home.indexes}: run `asterism build` first")
    database = open_database(settings)
    models = Models.of(settings)
    served = open_served(settings, home, database, models, snapshots=snapshots)
    catalogue, historical, knowledge = served.catalogue, served.historical, served.knowledge
    searcher = open_searcher(home)
    adjacency = open_adjacency(settings, home, catalogue)
    explainer = Explainer(catalogue, searcher, database.features, knowledge, models.formal_layout)
    recommender = Recommender(
        settings.recommend,
        weights=settings.weights,
        searcher=searcher,
        adjacency=adjacency,
        catalogue=catalogue,
        explainer=explainer,
    )
    spaces = space_models(settings, database)
    starts = StartResolver(
        settings.images,
        settings.ocr,
        searcher,
        catalogue,
        explainer,
        models,
        historical,
        settings.recommend.formal_parts,
        spaces,
        settings.recommend.upload_formal_parts,
        space_encoders(settings, models, spaces),
        locate_picture=settings.recognise.locate,
    )
    recognition = open_set(home.recognition) if settings.recognise.enabled else None
    recogniser = (
        Recogniser(recognition, lambda: models.featurizer.backbone, settings.recognise, served=catalogue)
        if recognition is not None
        else None
    )
    version = answers_version(home.build_version(), settings)
    return Service(settings, database, recommender, starts, explainer, version, recogniser, home)


def open_adjacency(settings: Settings, home: Home, catalogue: Catalogue) -> Adjacency:
    """The graph's edges: the snapshot the build mapped to disk, else read from the graph store.

    Mapping takes milliseconds at any size; reading every edge took ~9 s at 100k works. The store
    is read only for a home built before snapshots, or a graph store changed since the build.
    """
    store = settings.graph.backend
    mapped = Adjacency.load(home.adjacency(store), snapshot_version(home, store))
    if mapped is not None:
        return mapped
    graph = open_graph(settings, read_only=True, home=home)
    try:
        return Adjacency.from_store(graph, EDGE_TYPE.values(), catalogue.ids)
    finally:
        graph.close()


def answers_version(build: str, settings: Settings) -> str:
    """The build's version and the license policy's: both decide the answers, and caches key on this.

    A cached page (in Redis, across restarts) from before a narrowing would show withheld works.
    """
    policy = hashlib.sha256(settings.license.model_dump_json().encode()).hexdigest()[:8]
    return f"{build}-{policy}"
