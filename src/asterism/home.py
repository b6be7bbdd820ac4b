"""The data home: one folder that holds a whole collection, and the one object that knows its layout.

Every stage and the server find their files through ``Home`` (no other
module joins a path under the home), so the layout is readable in one place
and can change in one place:

    asterism.db                     the property store (SQLite; PostgreSQL lives elsewhere)
    asterism.toml                   settings written by ``asterism eval tune`` (or by hand)
    build.json                      inputs of the last build (the PainterPalette file it read)
    images/ab/cd/<sha256>.<ext>     originals, content-addressed
    thumbs/<size>/ab/cd/<sha256>.jpg
    indexes/<affinity>.{faiss,ids.npy,vectors.npy,state.json}
    graph/asterism.lbug             LadybugDB; graph/<store>-graph-state.json
    recognition/current, set-*/     descriptors + keypoints for recognising photos of works
    models/onnx, models/historical  exported and fitted models
    models/hub                      models pulled by name (huggingface_hub's cache layout)
    eval/<time>/                    evaluation reports
    uploads/                        kept uploads (faces blurred), only with api.store_uploads
    .ingest.lock                    one ingest at a time
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

CONFIG_NAME = "asterism.toml"


@dataclass(frozen=True)
class IndexFiles:
    """The files of one named index: the FAISS index, its ids and vectors (memory-mapped), its state."""

    faiss: Path
    ids: Path
    vectors: Path
    state: Path


class OutsideHome(ValueError):
    """A stored relative path that would leave the data home."""


@dataclass(frozen=True)
class Home:
    """The paths of one data home; creating the object touches nothing on disk."""

    root: Path

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

    def relative(self, path: Path) -> str:
        """How a file under the home is recorded in the store: relative, so homes can move."""
        return str(Path(path).resolve().relative_to(self.root))

    # ------------------------------------------------------------------ built representations
    @property
    def indexes(self) -> Path:
        return self.root / "indexes"

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
    def recognition(self) -> Path:
        """Global descriptors and local features of the served works (``recognise/store.py``)."""
        return self.root / "recognition"

    @property
    def graph(self) -> Path:
        return self.root / "graph"

    @property
    def ladybug(self) -> Path:
        return self.graph / "asterism.lbug"

    def graph_state(self, store_name: str) -> Path:
        """What the graph stage last wrote into one graph store (digests, counts)."""
        return self.graph / f"{store_name}-graph-state.json"

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

    def built(self) -> bool:
        """Whether a build has written the indexes the server needs."""
        return self.index("formal").faiss.is_file()

    def build_version(self) -> str:
        """A digest of the build's state files: equal versions answer every question the same way."""
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
        self.build_inputs.write_text(json.dumps({"painters_csv": value}))
