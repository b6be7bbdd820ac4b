"""``asterism build`` / ``embed`` / ``index``: the representation stages, with progress bars."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from asterism.cli.common import collection, reported
from asterism.cli.common import errors as console
from asterism.collection import Collection
from asterism.stages.embed import Distributor
from asterism.stages.ocr import OcrReport
from asterism.stages.runner import BuildReport

if TYPE_CHECKING:
    from asterism.stages.distribute_ray import RayDistributor

Painters = Annotated[
    Path | None,
    typer.Option(
        envvar="ASTERISM_PAINTERS_CSV",
        exists=True,
        dir_okay=False,
        help="PainterPalette.csv, to seed the knowledge graph (artists, movements, influences)",
    ),
]


RayAddress = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="run the image and text networks on the Ray cluster whose head is at ADDRESS (host:port; "
        "'auto': the cluster `ray start` began on this machine). Needs Ray: the package's 'ray' extra",
    ),
]
RayActors = Annotated[
    int | None,
    typer.Option(
        "--ray-actors", min=1, help="model-holding Ray actors (default: as many as the nodes' CPUs hold)"
    ),
]
RayShared = Annotated[
    bool,
    typer.Option(
        "--ray-shared-home",
        help="Ray workers read pictures from the data home, mounted at the same path on every node "
        "(default: this machine ships them)",
    ),
]


def _distributor(
    address: str | None, actors: int | None, shared: bool
) -> AbstractContextManager[RayDistributor | None]:
    """The Ray distributor for ``--ray ADDRESS`` (disconnected when the build ends); none without it."""
    if address is None:
        return nullcontext()
    from asterism.stages.distribute_ray import RayDistributor  # Ray is an optional extra

    return RayDistributor(address, actors=actors, images="shared" if shared else "ship")


def _distributed(
    opened: Collection,
    painters: Path | None,
    stages: tuple[str, ...],
    ray: tuple[str | None, int | None, bool],
    relayout: bool = False,
) -> None:
    """``_run`` with the networks on a Ray cluster when ``--ray`` names one; then where chunks ran."""
    with _distributor(*ray) as distributor:
        _run(opened, painters, stages, distributor, relayout)
        if distributor is not None:
            console.print(f"ray: {distributor.describe()}")


def _run(
    opened: Collection,
    painters: Path | None,
    stages: tuple[str, ...],
    distributor: Distributor | None = None,
    relayout: bool = False,
) -> BuildReport:
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console) as progress:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage if stage == "ocr" else f"embed {stage}", total=total)
            progress.update(tasks[stage], completed=done, total=total)

        with reported():
            report = opened.build(
                painters=painters, stages=stages, progress=update, distributor=distributor, relayout=relayout
            )
    embed = report.embed
    if report.ocr is not None:
        _print_ocr(report.ocr)
    if "embed" in stages:
        console.print(
            f"embed: {report.artworks} works; {embed.images} images ({embed.images_per_second:.0f}/s), "
            f"{embed.conceptual} conceptual, {embed.historical} historical vectors updated"
        )
        for sha, reason in embed.image_failures[:10]:
            console.print(f"  image {sha[:12]}: {reason}", markup=False)
    if report.index is not None:
        states = ", ".join(
            f"{name} {state} ({report.index.sizes[name]})" for name, state in report.index.built.items()
        )
        console.print(f"index: {states or 'no vectors yet'}")
    if report.graph is not None:
        states = ", ".join(f"{name} {state}" for name, state in report.graph.built.items())
        rate = f" at {report.graph.edges_per_second:,.0f} edges/s" if report.graph.edges_per_second else ""
        console.print(f"graph: {states}{rate}; knowledge graph {report.graph.knowledge}")
        if report.graph.recall:
            recall = ", ".join(f"{name} {value:.3f}" for name, value in report.graph.recall.items())
            console.print(f"graph edges' recall against the exact top K (sampled): {recall}")
    if report.snapshots is not None:
        snap = report.snapshots
        console.print(f"serve snapshots: catalogue {snap.catalogue}, knowledge {snap.knowledge}")
    if report.layout is not None:
        states = ", ".join(
            f"{name} {state}"
            + (f" ({report.layout.seconds[name]:.1f} s)" if name in report.layout.seconds else "")
            for name, state in report.layout.built.items()
        )
        console.print(f"map: {states or 'no vectors yet'}")
    if report.recognition is not None:
        done = report.recognition
        console.print(
            f"recognition: {done.works} works ({done.computed} described, {done.reused} unchanged) "
            f"in {done.seconds:.1f} s"
        )
        for artwork_id, reason in done.failures[:10]:
            console.print(f"  artwork {artwork_id}: {reason}", markup=False)
    if not report.changed:
        console.print("everything is up to date")
    return report


def _print_ocr(text: OcrReport) -> None:
    if text.unavailable:
        console.print("ocr: tesseract is not installed, no text read (apt-get install tesseract-ocr)")
    elif text.busy:
        console.print("ocr: another run is reading text on this home, left to it")
    elif text.mode != "never":
        console.print(
            f"ocr ({text.mode}): {text.images} pictures, {text.skipped} without writing skipped, "
            f"{text.read} read, {text.found} with text, {text.timeouts} timed out in {text.seconds:.1f} s"
        )
        for sha, reason in text.failures[:10]:
            console.print(f"  image {sha[:12]}: {reason}", markup=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def build(
        ctx: typer.Context,
        painters: Painters = None,
        ray: RayAddress = None,
        ray_actors: RayActors = None,
        ray_shared_home: RayShared = False,
        relayout: Annotated[
            bool,
            typer.Option(
                "--relayout",
                help="lay the collection maps out anew (default: new works are placed into the existing "
                "map, which is laid out again only when they are more than half of it)",
            ),
        ] = False,
    ) -> None:
        """Run every stage that is out of date: OCR, embeddings, indexes, the affinity graph, the collection
        map, recognition data."""
        _distributed(
            collection(ctx),
            painters,
            ("ocr", "embed", "index", "graph", "layout", "recognition"),
            (ray, ray_actors, ray_shared_home),
            relayout,
        )

    @app.command()
    def ocr(ctx: typer.Context) -> None:
        """Read the text in pictures that have no OCR result yet (as ocr.mode says: gate, always, never)."""
        _run(collection(ctx), None, ("ocr",))

    @app.command()
    def embed(
        ctx: typer.Context,
        painters: Painters = None,
        ray: RayAddress = None,
        ray_actors: RayActors = None,
        ray_shared_home: RayShared = False,
    ) -> None:
        """Compute the formal, conceptual and historical vectors that are missing or stale."""
        _distributed(collection(ctx), painters, ("embed",), (ray, ray_actors, ray_shared_home))

    @app.command()
    def index(ctx: typer.Context) -> None:
        """Bring the FAISS indexes up to date with the stored vectors."""
        _run(collection(ctx), None, ("index",))
