"""``Collection``: one data home opened for work — ingest, build, then ask. The library's face.

Everything the command line and the HTTP API do is a method here (or one
level under it), so a notebook or a museum's own pipeline does in five lines
what ``asterism ingest … && asterism build && asterism recommend …`` does:

    import asterism
    with asterism.open("./asterism-data") as collection:
        collection.ingest("local", "./my-folder")
        collection.build()
        page = collection.recommend(artwork_id=40, weights={"formal": 0.6})

The built collection (indexes, graph snapshot, models) is opened on the first
question and reopened after an ingest or a build, so answers always come from
the newest build.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from asterism.config import Settings, Weights, load_settings
from asterism.graph import neo4j_import, open_graph
from asterism.graph.adjacency import Adjacency
from asterism.graph.chunked import graph_source
from asterism.graph.edges import EDGE_TYPE
from asterism.graph.neo4j_import import Neo4jExport
from asterism.home import Home
from asterism.ingest.pipeline import Progress as IngestProgress
from asterism.ingest.pipeline import ingest
from asterism.measuring import Measuring
from asterism.portable import (
    ExportReport,
    MigrateReport,
    RestoreReport,
    export_home,
    migrate_store,
    restore_home,
)
from asterism.portable.migrate import postgres_url
from asterism.recommend.query import Filters, Query, QueryError, parse_weights
from asterism.recommend.refs import WorkRef
from asterism.recommend.service import NotBuilt, Service, open_service
from asterism.settings_file import update_settings_file
from asterism.shapes import Artwork, ConnectStep, IngestReport, Problem, RecommendationPage
from asterism.sources.base import Source
from asterism.sources.registry import open_source
from asterism.stages.embed import Distributor
from asterism.stages.embed import Progress as BuildProgress
from asterism.stages.runner import BuildReport, run_build
from asterism.stages.spaces import ImportReport, import_vectors
from asterism.store import open_database

STAGES = ("ocr", "embed", "index", "graph", "layout", "recognition")
FilterSpec = Filters | Mapping[str, Any] | Sequence[str] | None


class Collection(Measuring):
    """A data home opened for work. Use it as a context manager, or call ``close()``.

    Measuring it (``evaluate``, ``tune``, ``audit``, ``evaluate_recognition``, ``compare_models``,
    ``preferences``) comes from ``asterism.measuring``.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._service: Service | None = None

    @property
    def home(self) -> Home:
        """Where everything of this collection lives (``Home`` names every path)."""
        return self.settings.paths

    # ------------------------------------------------------------------ writing
    def ingest(
        self,
        source: str | Source,
        *args: Any,
        refresh: bool = False,
        ocr: bool | None = None,
        progress: IngestProgress | None = None,
        **options: Any,
    ) -> IngestReport:
        """Import works from a source: a name and its arguments, or a ``Source`` object.

        Names: ``local`` (folder, collection=, limit=), ``sample`` (folder, limit=), ``aic``
        (query=, public_domain=, limit=), ``met`` (department_ids=, query=, ...), ``met-csv``
        (path, ...), ``commons`` (category= or search=, ...). Resumable: run it again after a
        kill and it continues from the last stored page; ``refresh`` re-checks every record.
        """
        opened = open_source(source, self.settings, *args, **options) if isinstance(source, str) else source
        self._forget()
        return ingest(self.settings, opened, refresh=refresh, ocr=ocr, progress=progress)

    def build(
        self,
        *,
        painters: Path | str | None = None,
        stages: Sequence[str] = STAGES,
        progress: BuildProgress | None = None,
        distributor: Distributor | None = None,
        relayout: bool = False,
    ) -> BuildReport:
        """Bring vectors, indexes and the affinity graph up to date; only what is stale is redone.

        ``painters``: a PainterPalette CSV seeding the knowledge graph (remembered for later builds).
        ``distributor``: where the image and text networks run; default this process, or
        ``RayDistributor("head:6379")`` for a Ray cluster (same vectors, ``stages/distribute_ray.py``).
        ``relayout``: lay the collection maps out anew rather than place new works into them.
        """
        unknown = sorted(set(stages) - set(STAGES))
        if unknown:
            raise QueryError(f"unknown build stage(s) {', '.join(unknown)}: choose from {', '.join(STAGES)}")
        self._forget()
        chosen = tuple(s for s in STAGES if s in stages)
        return run_build(
            self.settings, painters_csv=Path(painters) if painters else None, stages=chosen, progress=progress,
            distributor=distributor, relayout=relayout,
        )  # fmt: skip

    def import_vectors(
        self,
        path: Path | str,
        space: str,
        *,
        ids: Path | str | None = None,
        model: str | None = None,
        serve: str | None = None,
    ) -> ImportReport:
        """Vectors computed elsewhere, stored as space ``space`` for the works they name (see ``stages/spaces``).

        ``ids``: for a ``.npy``, a file of one ``source:source_id``, id or image sha256 per row.
        ``model``: what computed them (a catalogue name: uploads then need it). ``serve``: an
        affinity to serve from this space from now on (written to asterism.toml; run ``build``).
        """
        if serve is not None and serve not in ("formal", "conceptual", "historical"):
            raise QueryError(f"unknown affinity {serve!r} (formal, conceptual, historical)")
        self._forget()
        report = import_vectors(self.settings, Path(path), space, ids=Path(ids) if ids else None, model=model)
        if serve is not None:
            update_settings_file(self.home.config_file, "models.spaces", {serve: space})
            spaces = {**self.settings.models.spaces, serve: space}
            self.settings = self.settings.model_copy(
                update={"models": self.settings.models.model_copy(update={"spaces": spaces})}
            )
        return report

    # ------------------------------------------------------------------ asking
    def service(self) -> Service:
        """The built collection opened for questions (``NotBuilt`` before the first build).

        Opened once and kept; an ingest or a build closes it, so the next question
        reads the new build. Models load lazily, on the first picture.
        """
        if self._service is None:
            self._service = open_service(self.settings)
        return self._service

    def recommend(
        self,
        artwork_id: WorkRef | None = None,
        *,
        image: bytes | None = None,
        image_path: Path | str | None = None,
        weights: Mapping[str, float] | str | None = None,
        filters: FilterSpec = None,
        k: int = 10,
        page: int = 0,
        diversity: float = 0.0,
        alpha: float | None = None,
        beta: float | None = None,
        recognise: bool = True,
        max_share: float | None = None,
    ) -> RecommendationPage:
        """Related works from a stored work (its id or ``source:source_id``) or a picture.

        A photo of a stored work is *recognised* (``page.recognised``) and answered as that work by
        id (``page.start_kind == "recognised"``); ``recognise=False`` always reads a picture by image.
        Give exactly one of ``artwork_id``, ``image`` (bytes) and ``image_path``. ``weights``
        override the defaults per affinity (renormalised to sum to 1), e.g. ``{"formal": 0.6}``.
        ``filters``: ``{"date": "1850..1900", "source": "aic", "license": "CC0-1.0",
        "type": "Painting", "has_image": True}`` (or ``Filters``, or ``["date=1850..1900"]``).
        ``max_share``: broaden, at most that share of the page from one culture or one century.
        """
        if image_path is not None:
            if image is not None:
                raise QueryError("give image or image_path, not both")
            try:
                image = Path(image_path).read_bytes()
            except OSError as exc:
                raise QueryError(f"cannot read the picture {image_path}: {exc.strerror}") from None
        service = self.service()
        start = service.resolve(artwork_id) if artwork_id is not None else None
        query = Query(
            artwork_id=start,
            image=image,
            weights=parse_weights(weights, self._defaults(image is not None)) if weights else None,
            k=k,
            page=page,
            alpha=alpha,
            beta=beta,
            diversity=diversity,
            filters=_filters(filters),
            recognise=recognise,
            max_share=max_share,
        )
        return service.recommend(query)

    def _defaults(self, upload: bool) -> Weights:
        """The weights a partial ``weights={"formal": 0.6}`` completes: a picture has its own defaults."""
        return self.settings.recommend.upload_weights if upload else self.settings.weights

    def connect(self, a: WorkRef, b: WorkRef, max_hops: int = 6) -> list[ConnectStep] | None:
        """The shortest chain (≤ ``max_hops``) of affinity edges and artist links, step by step; None if none."""
        return self.service().connect(a, b, max_hops)

    def search(self, text: str, limit: int = 20) -> list[Artwork]:
        """Served works whose title or artist contain every word of ``text``."""
        return self.service().search(text, limit)

    def search_pictures(self, text: str, limit: int = 20) -> list[tuple[Artwork, float]]:
        """Works whose picture fits a description, best first (needs a pulled image–text model)."""
        return self.service().search_pictures(text, limit)

    def artwork(self, ref: WorkRef) -> Artwork:
        """One served work by id or ``source:source_id`` (``NotFound`` names what was asked)."""
        return self.service().artwork(ref)

    # ------------------------------------------------------------------ the state of things
    def stats(self) -> dict[str, Any]:
        """Counts of works by source, status and license; images, duplicates, problems."""
        with open_database(self.settings) as database:
            return database.records.stats()

    def problems(self, source: str | None = None) -> list[Problem]:
        """Every bad item the ingests met, once each, with its reason."""
        with open_database(self.settings) as database:
            return database.records.problems(source)

    def graph_stats(self) -> dict[str, Any]:
        """Nodes and edges per type, average degree, isolated works, connected components."""
        served = self.home.current()
        if not served.built():
            raise NotBuilt(f"no graph under {served.graph}: run `asterism build` first")
        graph = open_graph(self.settings, read_only=True, home=served)
        try:
            counts = graph.counts()
            adjacency = Adjacency.from_store(graph, EDGE_TYPE.values(), graph.artwork_ids())
        finally:
            graph.close()
        return {"counts": counts, **adjacency.stats()}

    def export_neo4j(
        self,
        directory: Path | str,
        *,
        compress: bool = True,
        database: str = "neo4j",
        overwrite: bool = False,
    ) -> Neo4jExport:
        """The served graph as CSV for ``neo4j-admin database import full``, the command in ``DIR/README.md``.

        For the first load of a large Neo4j; builds then update it through UNWIND batches.
        """
        served = self.home.current()
        if self.settings.graph.backend != "neo4j" and not served.built():
            raise NotBuilt(f"no graph under {served.graph}: run `asterism build` first")
        target = Path(directory)
        if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not overwrite)):
            raise QueryError(f"{target} is not an empty folder (--force writes into it anyway)")
        graph = open_graph(self.settings, read_only=True, home=served)
        try:
            with open_database(self.settings) as opened:
                works = opened.records.artworks(status="active")  # the graph holds served works only
                return neo4j_import.export_neo4j(
                    graph_source(graph), target, artworks=works, compress=compress, database=database,
                    overwrite=overwrite,
                )  # fmt: skip
        except ValueError as exc:
            raise QueryError(str(exc)) from None
        finally:
            graph.close()

    # ------------------------------------------------------------------ data that outlives the machine
    def export(self, folder: Path | str, *, images: bool = False) -> ExportReport:
        """The home as a self-describing folder (Parquet, JSON, checksums; ``asterism.portable``).

        ``folder``: new or empty. ``images``: the pictures and thumbnails too. Runs under the
        home's ingest and build locks; ``manifest.json`` is written last, so an export that was
        killed is never taken for a whole one.
        """
        return export_home(self.settings, Path(folder), images=images)

    def restore(self, folder: Path | str, *, database: str | None = None) -> RestoreReport:
        """Make this collection's home (new or empty) from an export; it serves at once, re-embedding nothing.

        Every file is checked against the manifest first (``DamagedExport`` names the one that is
        not whole). ``database``: an empty PostgreSQL database for the store (default: SQLite in the
        home). Afterwards the collection reads the restored home's settings.
        """
        self._forget()
        report = restore_home(Path(folder), self.home.root, database=database)
        self.settings = load_settings(home=self.home.root)
        return report

    def migrate(self, url: str) -> MigrateReport:
        """Move the home's SQLite store into the empty PostgreSQL database at ``url``; the settings follow."""
        self._forget()
        report = migrate_store(self.settings, url)
        store = self.settings.store.model_copy(update={"backend": "postgres", "url": postgres_url(url)})
        self.settings = self.settings.model_copy(update={"store": store})
        return report

    # ------------------------------------------------------------------ closing
    def _forget(self) -> None:
        if self._service is not None:
            self._service.close()
            self._service = None

    def close(self) -> None:
        self._forget()

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _filters(spec: FilterSpec) -> Filters:
    if spec is None:
        return Filters()
    if isinstance(spec, Filters):
        return spec
    if isinstance(spec, Mapping):
        items = []
        for name, value in spec.items():
            if isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, list | tuple | set | frozenset):
                value = ",".join(str(v) for v in value)
            items.append(f"{name}={value}")
        return Filters.parse(items)
    return Filters.parse(list(spec))
