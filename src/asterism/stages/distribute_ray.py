"""The Ray distributor: the embed stage's networks on a Ray cluster (``asterism build --ray ADDRESS``).

The image and text stages stay reader → mapper → writer; only the mapper moves. This process
(the driver) reads what is stale from the property store and writes what comes back, one
transaction per chunk, exactly as in a local build; Ray Data maps the chunks with
``map_batches`` over a pool of actors, each of which loads the models once and keeps them.
The chunks are the local build's chunks (``CHUNK`` images, the conceptual stage's 256
documents, 64 in the CLIP modes), one Ray Data row each, and each actor runs its networks
on the build's ``models.threads`` threads, so the networks see the same batches and the
vectors are the local build's bit for bit (``tests/stages/test_ray_build.py`` compares them
on a real two-node cluster). Ray Data waits until every actor holds its models, then hands
each one chunk at a time, so the chunks spread over the nodes.

Pictures reach the actors in one of two ways:

- ``images="ship"`` (default): the driver reads each stored thumbnail (~20 kB) and ships
  the bytes through Ray's object store; worker nodes need nothing of the data home. The
  driver reads a stage's pictures before the stage starts: ~2 GB for 100,000 (Ray spills
  its object store to disk when it fills).
- ``images="shared"``: the actors read the content store themselves, for a data home on a
  filesystem mounted at the same path on every node (NFS and the like); nothing passes
  through the driver.

Every node needs the same Asterism install (``pip install 'asterism-art[ray]'``) and, for
pulled checkpoints (``models.clip_path``...), the same files at the same paths. Each chunk's
result carries the identity of the model that made it: a node with other weights fails the
build instead of writing its vectors under this build's model key.
"""

from __future__ import annotations

import logging
import pickle
import socket
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from asterism.config import ModelSettings
from asterism.embed.base import Vectors
from asterism.embed.registry import Models
from asterism.home import Home
from asterism.recommend.query import QueryError
from asterism.stages.embed import (
    CHUNK,
    ConceptChunk,
    FeatureBatch,
    ImageSource,
    featurize_chunk,
    read_picture,
)

IMAGES = ("ship", "shared")
Batch = dict[str, np.ndarray]


class RayUnavailable(QueryError):
    """Ray is not installed, or its cluster cannot be reached: nothing was built (exit 2, HTTP 503)."""

    status = 503


class ModelMismatch(RuntimeError):
    """A worker computed vectors with another model than the driver's (another install or other weights)."""


class RayDistributor:
    """Chunks mapped on the Ray cluster at ``address`` (``auto``: the one ``ray start`` began on this machine).

    Each actor runs its networks on ``threads`` threads and reserves as many CPUs (default: the
    build's ``models.threads``, as a local build runs them: the texture statistic's sums depend
    on the thread count in the last float bits, so this keeps the vectors bit-identical).
    ``actors``: how many (default: as many as the nodes' CPUs hold). ``images``: ``ship`` or
    ``shared`` (above). ``node_ip``: this machine's address as the cluster knows it, when Ray
    cannot find it. Connects on first use; ``close()`` (or leaving a ``with`` block) disconnects.
    """

    def __init__(
        self,
        address: str = "auto",
        *,
        actors: int | None = None,
        threads: int | None = None,
        images: str = "ship",
        node_ip: str | None = None,
    ) -> None:
        if images not in IMAGES:
            raise ValueError(f"images={images!r}: choose from {', '.join(IMAGES)}")
        if actors is not None and actors < 1:
            raise ValueError("actors: at least 1")
        if threads is not None and threads < 1:
            raise ValueError("threads: at least 1")
        self.address = address
        self.actors = actors
        self.threads = threads
        self.images = images
        self.node_ip = node_ip
        self.chunks_per_node: Counter[str] = Counter()  # node address -> chunks it mapped, for the record
        self._connected = False

    # ------------------------------------------------------------------ the Distributor protocol
    def featurize(self, models: Models, items: Sequence[tuple[str, Path]]) -> Iterator[FeatureBatch]:
        chunks = [
            [(key, self._source(path)) for key, path in items[start : start + CHUNK]]
            for start in range(0, len(items), CHUNK)
        ]
        for _, (key, batch) in self._map(_Featurizer, models, chunks):
            _same(key, models.formal_info.key)
            yield batch

    def encode(self, models: Models, chunks: Sequence[ConceptChunk]) -> Iterator[tuple[int, Vectors]]:
        shipped = [
            ConceptChunk(
                chunk.documents,
                [self._source(p) if p is not None else None for p in chunk.pictures]
                if chunk.pictures is not None
                else None,
            )
            for chunk in chunks
        ]
        for index, (key, vectors) in self._map(_Encoder, models, shipped):
            _same(key, models.concept_info.key)
            yield index, vectors

    # ------------------------------------------------------------------ connecting
    def connect(self) -> None:
        """Join the cluster (once); Ray Data's progress bars and start-up lines stay quiet."""
        if self._connected:
            return
        try:
            import ray
            import ray.data
        except ImportError:
            raise RayUnavailable("Ray is not installed: pip install 'asterism-art[ray]'") from None
        _probe(self.address)
        options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
        if self.node_ip:
            options["_node_ip_address"] = self.node_ip
        try:
            ray.init(address=self.address, **options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise RayUnavailable(f"cannot join the Ray cluster at {self.address}: {exc}") from None
        self._connected = True
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the caller shows its own progress, per chunk written
        context.print_on_execution_start = False
        context.wait_for_min_actors_s = 600  # every actor holds its models before chunks are handed out
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # no line per dataset started or finished
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled"

    def workers(self, threads: int) -> int:
        """How many actors of ``threads`` CPUs each stage starts: ``actors``, or as many as the nodes hold."""
        import ray

        self.connect()
        nodes = [node for node in ray.nodes() if node.get("Alive")]  # type: ignore[no-untyped-call]
        fits = sum(int(float(node.get("Resources", {}).get("CPU", 0.0)) // threads) for node in nodes)
        if fits == 0:  # Ray would wait for ever for a node big enough
            raise RayUnavailable(
                f"no node of the Ray cluster at {self.address} has {threads} CPUs for an actor of {threads} "
                "threads: start the nodes with more --num-cpus, or lower models.threads"
            )
        return self.actors or fits

    def close(self) -> None:
        import ray

        if self._connected:
            ray.shutdown()
            self._connected = False

    def __enter__(self) -> RayDistributor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ mapping
    def _source(self, path: ImageSource) -> ImageSource:
        """What an actor reads a picture from: its bytes (``ship``), or its path on a shared filesystem."""
        if self.images == "shared" or isinstance(path, bytes):
            return path
        try:
            return path.read_bytes()
        except OSError:  # the actor meets the same error and reports it, as a local build would
            return path

    def _map(self, actor: type, models: Models, chunks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """(chunk index, result) of every chunk through ``actor``, as they finish (any order)."""
        import ray.data

        if not chunks:
            return
        threads = self.threads or models.settings.threads
        pool = min(self.workers(threads), len(chunks))
        rows = [{"chunk": index, "payload": pickle.dumps(chunk)} for index, chunk in enumerate(chunks)]
        mapped = ray.data.from_items(rows).map_batches(
            actor,
            batch_size=1,  # one row is one whole chunk: the networks see the local build's batches
            batch_format="numpy",
            # one chunk at a time per actor: a chunk is seconds of work, so spreading them beats queueing
            compute=ray.data.ActorPoolStrategy(size=pool, max_tasks_in_flight_per_actor=1),
            num_cpus=threads,
            fn_constructor_kwargs={
                "settings": models.settings,
                "home": models.home,
                "threads": threads,
            },
        )
        for row in mapped.iter_rows():
            node, result = pickle.loads(row["payload"])
            self.chunks_per_node[node] += 1
            yield int(row["chunk"]), result

    def describe(self) -> str:
        """Where the chunks of this build ran, e.g. ``3 chunks on 2 nodes (10.0.0.5: 2, 10.0.0.6: 1)``."""
        total = sum(self.chunks_per_node.values())
        if not total:
            return "no chunks: nothing was stale"
        nodes = ", ".join(f"{node}: {count}" for node, count in sorted(self.chunks_per_node.items()))
        return f"{total} chunks on {len(self.chunks_per_node)} nodes ({nodes})"


def _probe(address: str, timeout: float = 10.0) -> None:
    """Fail at once when nothing listens at ``host:port``: ``ray.init`` would retry for minutes."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():  # "auto", or a form Ray resolves itself
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise RayUnavailable(f"no Ray cluster answers at {address}: {exc.strerror or exc}") from None


def _same(worker: str, driver: str) -> None:
    if worker != driver:
        raise ModelMismatch(
            f"a Ray worker computed vectors with model {worker}, this build expects {driver}: install the "
            "same Asterism and model files on every node"
        )


def _worker_home(home: Home) -> Home:
    """The data home where this node has it (exported ONNX models are cached there), else a local one."""
    if home.root.is_dir():
        return home
    return Home(Path(tempfile.gettempdir()) / "asterism-ray-worker")


class _Actor:
    """A Ray Data actor: the build's models, loaded once per actor, on ``threads`` threads."""

    def __init__(self, settings: ModelSettings, home: Home, threads: int) -> None:
        import ray.util

        self.models = Models(settings.model_copy(update={"threads": threads}), _worker_home(home))
        self.node = str(ray.util.get_node_ip_address())  # type: ignore[no-untyped-call]

    def __call__(self, batch: Batch) -> Batch:
        results = [pickle.dumps((self.node, self.run(pickle.loads(p)))) for p in batch["payload"]]
        return {"chunk": batch["chunk"], "payload": np.array(results, dtype=object)}

    def run(self, chunk: Any) -> tuple[str, Any]:
        raise NotImplementedError


class _Featurizer(_Actor):
    def __init__(self, settings: ModelSettings, home: Home, threads: int) -> None:
        super().__init__(settings, home, threads)
        _ = self.models.featurizer  # loaded before the pool counts as started, so no actor idles on it

    def run(self, chunk: list[tuple[str, ImageSource]]) -> tuple[str, FeatureBatch]:
        return self.models.formal_info.key, featurize_chunk(self.models.featurizer, chunk)


class _Encoder(_Actor):
    def __init__(self, settings: ModelSettings, home: Home, threads: int) -> None:
        super().__init__(settings, home, threads)
        _ = self.models.concept

    def run(self, chunk: ConceptChunk) -> tuple[str, Vectors]:
        pictures = [read_picture(p) for p in chunk.pictures] if chunk.pictures is not None else None
        return self.models.concept_info.key, self.models.concept.encode(chunk.documents, pictures)
