"""The data home: one folder that holds a whole collection, and the one object that knows its layout.

Every stage and the server find their files through ``Home`` (no other
module joins a path under the home), so the layout is readable in one place
and can change in one place:

    asterism.db                     the property store (SQLite; PostgreSQL lives elsewhere)
    asterism.toml                   settings written by ``asterism eval tune`` (or by hand)
    build.json                      inputs of the last build (the PainterPalette file it read)
    inputs/                         build inputs that came with a restored export (``portable/``)
    images/ab/cd/<sha256>.<ext>     originals, content-addressed
    thumbs/<size>/ab/cd/<sha256>.jpg
    current.json                    the generation being served (switched atomically by a build)
    generations/<name>/             one build's output (``stages/generations.py``):
        indexes/<affinity>.{faiss,ids.npy,vectors.npy,state.json}
        graph/asterism.lbug         LadybugDB; graph/<store>-graph-state.json
        adjacency/<store>/          the graph's edges as CSR arrays the server maps at start
        catalogue/                  every record's filter columns and JSON, mapped at start (``recommend/snapshot.py``)
        recognition/current, set-*/ descriptors + keypoints for recognising photos of works
        layouts/<map>.{npz,state.json}  the collection map: 2-D places per affinity and hybrid
    models/onnx, models/historical  exported and fitted models
    models/hub                      models pulled by name (huggingface_hub's cache layout)
    eval/<time>/                    evaluation reports
    uploads/                        kept uploads (faces blurred), only with api.store_uploads
    .ingest.lock, .build.lock       one ingest, and one build, at a time

A ``Home`` names the built files of one generation (``generation``). The
home as configured is unpinned: its built paths follow ``current.json`` at
each call, which suits a command that reads once; the server and the build
pin one generation (``current()``, ``at()``) so that every file they open
comes from the same build.
Homes built before generations existed keep their built files at the top
(``indexes/``, ``graph/``, ``recognition/``): that is generation ``None``,
which a build reads from and then replaces.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from asterism.files import atomic_write

CONFIG_NAME = "asterism.toml"


@dataclass(frozen=True)
class IndexFiles:
    """The files of one named index: the FAISS index, its ids and vectors (memory-mapped), its state."""

    faiss: Path
    ids: Path
    vectors: Path
    state: Path


@dataclass(frozen=True)
class LayoutFiles:
    """The files of one collection map (``map/layout.py``): ids and places, and what they were made from."""

    points: Path
    state: Path


class OutsideHome(ValueError):
    """A stored relative path that would leave the data home."""


@dataclass(frozen=True)
class Home:
    """The paths of one data home (and of one build generation in it); creating it touches nothing."""

    root: Path
    generation: str | None = None  # whose built files ``indexes``, ``graph``, ``recognition`` name

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).expanduser().resolve())

    # ------------------------------------------------------------------ store and settings
    @property
    def database_file(self) -> Path:
        return self.root / "asterism.db"

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def ingest_lock(self) -> Path:
        return self.root / ".ingest.lock"

    @property
    def build_lock(self) -> Path:
        return self.root / ".build.lock"

    # ------------------------------------------------------------------ build generations
    @property
    def manifest(self) -> Path:
        """Which generation is served: rewritten atomically, last, by a build that completed."""
        return self.root / "current.json"

    @property
    def generations(self) -> Path:
        return self.root / "generations"

    def at(self, generation: str | None) -> Home:
        """The same home, naming the built files of ``generation``."""
        return Home(self.root, generation)

    def current(self) -> Home:
        """The home pinned to the generation being served (``None``: none written yet, or a legacy home)."""
        try:
            name = json.loads(self.manifest.read_text())["generation"]
        except FileNotFoundError:
            return self.at(None)
        return self.at(str(name))

    @property
    def built_root(self) -> Path:
        """Where this generation's built files are; unpinned, the served generation's at this moment."""
        if self.generation:
            return self.generations / self.generation
        served = self.current()
        return served.built_root if served.generation else self.root

    # ------------------------------------------------------------------ pictures
    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def thumbs(self) -> Path:
        return self.root / "thumbs"

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    def file(self, relative: str | Path) -> Path:
        """A path stored relative to the home (an image, a thumbnail), refused if it would leave it."""
        path = Path(os.path.normpath(self.root / relative))  # not resolve(): images/ may be a symlink
        if self.root not in path.parents:
            raise OutsideHome(f"{relative} is not inside the data home")
        return path

    # ------------------------------------------------------------------ built representations
    @property
    def indexes(self) -> Path:
        return self.built_root / "indexes"

    def index(self, name: str) -> IndexFiles:
        """One affinity's (or the composite's) index files under ``indexes/``."""
        folder = self.indexes
        return IndexFiles(
            faiss=folder / f"{name}.faiss",
            ids=folder / f"{name}.ids.npy",
            vectors=folder / f"{name}.vectors.npy",
            state=folder / f"{name}.state.json",
        )

    @property
    def layouts(self) -> Path:
        """The collection maps of this generation (``stages/layout.py``)."""
        return self.built_root / "layouts"

    def layout(self, name: str) -> LayoutFiles:
        """One map's files: ``name`` is an affinity or ``hybrid``."""
        return LayoutFiles(points=self.layouts / f"{name}.npz", state=self.layouts / f"{name}.state.json")

    @property
    def recognition(self) -> Path:
        """Global descriptors and local features of the served works (``recognise/store.py``)."""
        return self.built_root / "recognition"

    @property
    def graph(self) -> Path:
        return self.built_root / "graph"

    @property
    def ladybug(self) -> Path:
        return self.graph / "asterism.lbug"

    def graph_state(self, store_name: str) -> Path:
        """What the graph stage last wrote into one graph store (digests, counts)."""
        return self.graph / f"{store_name}-graph-state.json"

    def adjacency(self, store_name: str) -> Path:
        """The edges of one graph store as memory-mapped CSR arrays (``graph/adjacency.py``)."""
        return self.built_root / "adjacency" / store_name

    @property
    def catalogue(self) -> Path:
        """The records as columns and JSON documents the server maps instead of reading the store."""
        return self.built_root / "catalogue"

    @property
    def onnx_cache(self) -> Path:
        return self.root / "models" / "onnx"

    @property
    def hub_cache(self) -> Path:
        """Image models pulled by name (``asterism models pull``), in huggingface_hub's cache layout."""
        return self.root / "models" / "hub"

    @property
    def historical_models(self) -> Path:
        return self.root / "models" / "historical"

    @property
    def eval_reports(self) -> Path:
        return self.root / "eval"

    @property
    def build_inputs(self) -> Path:
        return self.root / "build.json"

    @property
    def inputs(self) -> Path:
        """Build inputs a restore brought with it (the PainterPalette file), so the home needs no other."""
        return self.root / "inputs"

    def built(self) -> bool:
        """Whether this generation (the served one, for the home as configured) has the server's indexes."""
        return self.index("formal").faiss.is_file()

    def build_version(self) -> str:
        """A digest of this generation's state files: equal versions answer every question the same way."""
        digest = hashlib.sha256()
        states = [
            *self.indexes.glob("*.state.json"),
            *self.graph.glob("*.json"),
            *self.recognition.glob("current"),
        ]
        for path in sorted(states):
            digest.update(path.name.encode() + path.read_bytes())
        return digest.hexdigest()[:16]

    # ------------------------------------------------------------------ inputs of the last build
    def recorded_painters(self) -> Path | None:
        """The PainterPalette file the last build read, if it is still there."""
        if not self.build_inputs.is_file():
            return None
        value = json.loads(self.build_inputs.read_text()).get("painters_csv")
        return Path(value) if value and Path(value).is_file() else None

    def record_build_inputs(self, painters_csv: Path | None) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        value = str(painters_csv.resolve()) if painters_csv else None
        atomic_write(self.build_inputs, lambda path: path.write_text(json.dumps({"painters_csv": value})))
