"""IIIF import against the real manifests of shared/data/iiif, served locally with generated images."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from asterism.config import HttpSettings, LicenseSettings, Settings
from asterism.ingest.pipeline import ingest
from asterism.shapes import Status
from asterism.sources import iiif_parse as p
from asterism.sources.base import Page
from asterism.sources.http import PoliteClient
from asterism.sources.iiif import IiifSource
from asterism.sources.registry import open_source
from asterism.store import open_database

from fast_http import fast
from iiif_server import IiifServer
from paging import collect
from replay_server import Replay


@pytest.fixture
def server(replay: Replay, shared_data: Path) -> IiifServer:
    return IiifServer(replay, shared_data / "iiif")


def source(server: IiifServer, http: HttpSettings, target: str, **options: Any) -> IiifSource:
    return IiifSource(PoliteClient(http, transport=server.transport()), target, **options)


def records(server: IiifServer, http: HttpSettings, name: str, **options: Any) -> list[Any]:
    pages = collect(source(server, http, server.files[name], **options))
    assert all(not page.problems for page in pages), [page.problems for page in pages]
    return [r for page in pages for r in page.records]


def everything(settings: Settings) -> Settings:
    """Fetch every image whatever its licence, so every image request is exercised."""
    allowed = ["public-domain", "CC0", "CC-BY", "CC-BY-SA", "CC-BY-NC", "CC-BY-NC-SA", "RS-NoC-US", "other"]
    return fast(settings).model_copy(update={"license": LicenseSettings(allowed=allowed, allow_unknown=True)})


# file, title (en), licence id, source link, a metadata pair or None
CASES = [
    ("v2-manifest-artic-27992-seurat-grande-jatte.json", "A Sunday on La Grande Jatte — 1884", "unknown",
     "https://api.artic.edu/api/v1/artworks/27992/manifest.json", ("Object Number", "1926.224")),
    ("v2-manifest-bsb-cgm399-feuerwerksbuch.json", "Feuerwerksbuch. Sammlung von medizinischen und Hausrezepten"
     " - BSB Cgm 399", "CC-BY-NC-SA-4.0", "https://opacplus.bsb-muenchen.de/title/BV037270417", None),
    ("v2-manifest-getty-85gg96-van-dyck-landscape.json", "Landscape", "RS-NoC-US",
     "https://media.getty.edu/iiif/manifest/db44cc30-ac6f-4fe3-ad45-99910a61cb79.json",
     ("Dimensions", "18.9 × 36.4 cm (7 7/16 × 14 5/16 in.)")),
    ("v2-manifest-nlw-yr-ardd.json", "Yr ardd", "public-domain",
     "https://damsssl.llgc.org.uk/object/llgc-id:2373814", None),
    ("v2-manifest-smithsonian-npg-michelle-obama.json", "NPG-B8000090A", "other",
     "https://ids.si.edu/ids/manifest/NPG-B8000090A", None),
    ("v2-manifest-yale-beinecke-osborn-fa1-no-context.json", None, "unknown",
     "https://manifests.britishart.yale.edu/Osbornfa1", None),
    ("v3-manifest-bodleian-lp44-portrait.json", "Bodleian Library LP 44", "CC-BY-NC-4.0",
     "https://digital.bodleian.ox.ac.uk/objects/33c2e37e-957a-4820-83e1-611c987021c9/", None),
    ("v3-manifest-cookbook-0006-whistlers-mother.json", "Whistler's Mother", "unknown",
     "https://iiif.io/api/cookbook/recipe/0006-text-language/manifest.json", None),
    ("v3-manifest-museum-kranenburgh-ldmax.json", "De familie van Grenthe, het kippenvrouwtje", "CC-BY-4.0",
     "https://www.ldmax.nl/datasets/q4350196/triples?subject=https://n2t.net/ark:/67039/"
     "a5b1a9b3dad04c24b01bc7415beb8b71", ("dateCreated", "1938")),
    ("v3-manifest-ycba-34-turner-dort.json", None, "CC0-1.0",
     "https://collections.britishart.yale.edu/catalog/tms:34", None),
    ("v3-manifest-loc-prtd-hamilton-letter-choice.json",
     "Letter from Alexander Hamilton Papers (September 6, 1780)", "unknown",
     "https://www.loc.gov/resource/mss24612.001_0373_0521/?sp=81&loclr=blogloc", None),
    ("v3-manifest-ycba-aas-2222467-empty-rights.json",
     "Collection of historic photographs and negatives of the Yale Center for British Art", "unknown",
     "https://manifests.collections.yale.edu/ycba/aas/2222467", ("Call Number", "A002")),
]  # fmt: skip


@pytest.mark.parametrize(("name", "title", "license_id", "link", "pair"), CASES)
def test_a_real_manifest_is_one_work(
    server: IiifServer,
    http: HttpSettings,
    name: str,
    title: str | None,
    license_id: str,
    link: str,
    pair: tuple[str, str] | None,
) -> None:
    (record,) = records(server, http, name)
    artwork = record.artwork
    assert artwork.source_id == server.files[name]  # the manifest is the work
    if title is not None:
        assert artwork.title == title
    assert artwork.license_id == license_id
    assert artwork.source_url == link
    if pair is not None:
        assert list(pair) in artwork.extras["metadata"]
    assert record.image is not None and record.image.url == artwork.image_url
    assert "Ã" not in artwork.title and "â€" not in artwork.title  # double-encoded UTF-8 repaired


def test_rights_credit_and_languages(server: IiifServer, http: HttpSettings) -> None:
    (empty,) = records(server, http, "v3-manifest-ycba-aas-2222467-empty-rights.json")
    # rights "" and requiredStatement [""] say nothing: unknown, not the metadata's CC0 (for the metadata)
    assert (empty.artwork.license, empty.artwork.license_id, empty.artwork.credit_line) == (
        None,
        "unknown",
        None,
    )
    (turner,) = records(server, http, "v3-manifest-ycba-34-turner-dort.json")
    assert "1775–1851" in turner.artwork.title
    assert turner.artwork.extras["license_url"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    (whistler,) = records(server, http, "v3-manifest-cookbook-0006-whistlers-mother.json", language="fr")
    assert whistler.artwork.title == "La Mère de Whistler"
    assert whistler.artwork.credit_line == "Musée d'Orsay, Paris, France"  # the "none" value
    (ldmax,) = records(server, http, "v3-manifest-museum-kranenburgh-ldmax.json", language="nl")
    assert ldmax.artwork.credit_line == "Aangeboden door Museum Kranenburgh"
    assert ldmax.artwork.collection == "Museum Kranenburgh"
    (getty,) = records(server, http, "v2-manifest-getty-85gg96-van-dyck-landscape.json")
    assert getty.artwork.artist_display == "Anthony van Dyck"
    assert getty.artwork.license == "http://rightsstatements.org/vocab/NoC-US/1.0/"  # the canvas's own
    (bsb,) = records(server, http, "v2-manifest-bsb-cgm399-feuerwerksbuch.json", language="de")
    title = "Feuerwerksbuch. Sammlung von medizinischen und Hausrezepten - BSB Cgm 399"
    assert ["Titel", title] in bsb.artwork.extras["metadata"]


def test_language_fallbacks() -> None:
    label = {"fr": ["Bonjour"], "none": ["Neutre"], "en": ["Hello"]}
    assert p.text(label, "fr") == "Bonjour"
    assert p.text(label, "de") == "Neutre"
    assert p.text({"fr": ["Bonjour"], "en-GB": ["Hello"]}, "de") == "Hello"
    assert p.text({"fr": ["Bonjour"], "it": ["Ciao"]}, "de") == "Bonjour"
    assert p.text({"true": [True, "Letter"]}, "en") == "Letter"
    v2 = [{"@value": "Hallo", "@language": "de"}, {"@value": "Hi", "@language": "en"}]
    assert (p.text(v2, "de"), p.text(v2, "nl")) == ("Hallo", "Hi")
    assert p.text([{"value": "plain", "language": "en"}], "en") == "plain"
    assert p.text(["Flemish", "about 1640"], "en") == "Flemish; about 1640"


def test_image_sizes_follow_the_service_level() -> None:
    svc = p.ImageService
    assert p.image_url(svc("https://x/i", 2, 2, 4000, 3000), 843) == "https://x/i/full/!843,843/0/default.jpg"
    assert p.size_parameter(svc("s", 2, 1, 3000, 4000), 843) == ",843"  # level 1: no !w,h
    assert p.size_parameter(svc("s", 3, 1, 4000, 3000), 843) == "843,"
    assert p.size_parameter(svc("s", 3, 2, 600, 400), 843) == "max"  # v3 never upscales
    assert p.size_parameter(svc("s", 2, 2, 600, 400), 843) == "full"
    sizes = ((150, 100), (600, 400), (1200, 800), (2400, 1600))
    assert p.size_parameter(svc("s", 2, 0, 4800, 3200, sizes), 843) == "1200,800"  # smallest covering
    assert p.size_parameter(svc("s", 3, 0, 4800, 3200, sizes[:2]), 843) == "600,400"  # else the largest
    assert p.size_parameter(svc("s", 3, 0), 843) == "max"  # level 0, no sizes: the whole image
    assert p.image_url(svc("https://y/i", 1, 1), 843) == "https://y/i/full/843,/0/native.jpg"


def test_every_canvas_mode_and_bad_canvases(server: IiifServer, http: HttpSettings) -> None:
    nga = records(server, http, "v2-manifest-nga-collection-highlights.json", canvases="each")
    assert len(nga) == 26 and len({r.artwork.source_id for r in nga}) == 26
    manifest = server.files["v2-manifest-nga-collection-highlights.json"]
    assert all(r.artwork.source_id.startswith(manifest + "|") for r in nga)
    assert nga[0].artwork.extras["manifest_label"] == "National Gallery of Art Collection Highlights"
    assert nga[0].artwork.title != nga[1].artwork.title  # canvas labels are the paintings' titles
    broken = {
        "id": "https://example.org/m/half",
        "type": "Manifest",
        "label": {"en": ["Half broken"]},
        "items": [
            {"id": "https://example.org/m/half/c1", "type": "Canvas", "items": []},
            {"type": "Canvas"},
            {
                "id": "https://example.org/m/half/c3",
                "type": "Canvas",
                "items": [{"type": "AnnotationPage", "items": [{"motivation": "painting", "body": {
                    "id": "https://img.example.org/a.jpg", "type": "Image"}}]}],
            },
        ],
    }  # fmt: skip
    server.add(broken["id"], broken)
    pages = collect(source(server, http, broken["id"], canvases="each"))
    assert [r.artwork.source_id for pg in pages for r in pg.records] == [
        "https://example.org/m/half|https://example.org/m/half/c3"
    ]
    reasons = [reason for pg in pages for _, reason in pg.problems]
    assert reasons == ["canvas https://example.org/m/half/c1 has no painting image", "canvas 2 has no id"]


def paged_collection(server: IiifServer) -> str:
    """A v2 collection paged first/next, nesting a v3 collection that cycles back, with bad members."""
    files = server.files
    top = "https://example.org/iiif/top"
    server.add(top, {"@id": top, "@type": "sc:Collection", "label": "Top", "total": 5, "first": top + "/p1"})
    server.add(top + "/p1", {
        "@id": top + "/p1", "@type": "sc:Collection", "within": top, "next": top + "/p2",
        "manifests": [{"@id": files["v2-manifest-getty-85gg96-van-dyck-landscape.json"], "@type": "sc:Manifest"},
                      {"@id": files["v3-manifest-bodleian-lp44-portrait.json"], "@type": "sc:Manifest"}],
    })  # fmt: skip
    server.add(top + "/p2", {
        "@id": top + "/p2", "@type": "sc:Collection", "within": top,
        "collections": [{"@id": "https://example.org/iiif/nested", "@type": "sc:Collection"}],
        "manifests": [{"@id": files["invalid-mirador-broken.json"], "@type": "sc:Manifest"},
                      {"@id": files["v2-manifest-getty-85gg96-van-dyck-landscape.json"], "@type": "sc:Manifest"}],
    })  # fmt: skip
    server.add("https://example.org/iiif/nested", {
        "id": "https://example.org/iiif/nested", "type": "Collection", "label": {"none": ["Nested"]},
        "items": [{"id": files["v3-collection-cookbook-0032.json"], "type": "Collection"},
                  {"id": top, "type": "Collection"}],
    })  # fmt: skip
    return top


def test_collections_recursive_paged_cyclic_and_the_run_goes_on(
    server: IiifServer, http: HttpSettings
) -> None:
    top = paged_collection(server)
    pages = collect(source(server, http, top))
    titles = [r.artwork.title for pg in pages for r in pg.records]
    assert titles == ["Landscape", "Bodleian Library LP 44", "The Gulf Stream"]  # Getty once, cycle broken
    problems = dict(problem for pg in pages for problem in pg.problems)  # v2: collections before manifests
    assert len(problems) == 2
    assert "HTTP 404" in problems["https://iiif.io/api/cookbook/recipe/0032-collection/manifest-02.json"]
    assert "not a IIIF manifest or collection" in problems[server.files["invalid-mirador-broken.json"]]
    assert pages[-1].cursor is None and all(pg.cursor is not None for pg in pages[:-1])


def test_real_collections_report_their_missing_members(server: IiifServer, http: HttpSettings) -> None:
    pages = collect(source(server, http, server.files["v2-collection-wellcome-genre-abstracts.json"]))
    assert [len(pg.problems) for pg in pages] == [0, 1, 1, 1, 1]  # 4 members, none of them here
    nls = collect(source(server, http, server.files["v2-collection-nls-first-world-war-photographs.json"]))
    assert sum(len(pg.problems) for pg in nls) == 20
    depth = collect(source(server, http, paged_collection(server), max_depth=0))
    assert [r.artwork.title for pg in depth for r in pg.records] == ["Landscape", "Bodleian Library LP 44"]
    assert any("nested deeper than 0" in reason for pg in depth for _, reason in pg.problems)


def test_a_file_target_and_the_registry(server: IiifServer, settings: Settings, shared_data: Path) -> None:
    path = shared_data / "iiif/v3-manifest-cookbook-0032-gulf-stream.json"
    built = open_source("iiif", settings, path, language="fr")
    assert isinstance(built, IiifSource) and built.image_size == 843 and built.key.startswith("iiif:/")
    built.client = PoliteClient(settings.http, transport=server.transport())
    (record,) = [r for pg in collect(built) for r in pg.records]
    assert record.artwork.source_id == "https://iiif.io/api/cookbook/recipe/0032-collection/manifest-01.json"


class Killed(Exception):
    pass


class DiesAfter:
    """The source, killed after ``n`` pages (the next page's transaction never happens)."""

    def __init__(self, inner: IiifSource, n: int) -> None:
        self.inner, self.n = inner, n
        self.name, self.key = inner.name, inner.key

    async def pages(self, cursor: dict[str, Any] | None) -> AsyncIterator[Page]:
        count = 0
        async for page in self.inner.pages(cursor):
            if count == self.n:
                raise Killed
            count += 1
            yield page

    async def fetch_image(self, ref: Any) -> bytes:
        return await self.inner.fetch_image(ref)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_ingest_images_idempotent_rerun_and_resume(server: IiifServer, settings: Settings) -> None:
    settings = everything(settings)
    top = paged_collection(server)

    def run(n: int | None = None) -> Any:
        src = source(server, settings.http, top, canvases="each")
        return ingest(settings, DiesAfter(src, n) if n is not None else src, ocr=False)  # type: ignore[arg-type]

    with pytest.raises(Killed):
        run(3)  # top, p1, Getty stored; killed before Bodleian
    getty = server.files["v2-manifest-getty-85gg96-van-dyck-landscape.json"]
    report = run()
    assert report.stored == 2 and report.failed == 0  # Bodleian and the Gulf Stream: resumed, not restarted
    assert len([r for r in server.replay.requests if r.path.endswith(getty.split("//")[1])]) == 1
    again = run()
    assert again.skipped == 3 and again.stored == 0  # a finished walk re-run: every record unchanged
    database = open_database(settings)
    try:
        works = list(database.records.artworks(source="iiif"))
    finally:
        database.close()
    assert len(works) == 3 and all(w.status == Status.ACTIVE and w.image for w in works)
    assert all(w.image is not None and max(w.image.width, w.image.height) <= 843 for w in works)
    sizes = {path.split("/")[-3] for path, _ in server.images}
    assert "!843,843" in sizes and sizes <= {"!843,843", ",843", "843,", "full", "max"}


def test_licence_policy_decides_what_is_served(server: IiifServer, settings: Settings) -> None:
    settings = fast(settings)
    for name in (
        "v3-manifest-ycba-aas-2222467-empty-rights.json",
        "v3-manifest-museum-kranenburgh-ldmax.json",
    ):
        ingest(settings, source(server, settings.http, server.files[name]), ocr=False)
    database = open_database(settings)
    try:
        known = database.records.known("iiif", [server.files[n] for n in server.files])
    finally:
        database.close()
    status = {ref: k.status for ref, k in known.items()}
    assert status[server.files["v3-manifest-ycba-aas-2222467-empty-rights.json"]] == Status.EXCLUDED
    assert status[server.files["v3-manifest-museum-kranenburgh-ldmax.json"]] == Status.ACTIVE
