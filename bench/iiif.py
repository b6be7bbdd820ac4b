"""IIIF import rate: canvases/s from the real manifests against a local IIIF server.

The four largest multi-canvas manifests of ``shared/data/iiif`` (NGA 26, Wellcome 36,
NLW 12, e-codices 13 canvases) in a generated collection, imported with
``canvases="each"`` (one record per canvas) into a fresh data home: manifest
fetch and parse, one Image API request per canvas (generated JPEG of the asked
size, ~843 px), the full harvest and store writes. The local server is the test
server (``tests/sources/iiif_server.py``); the network is loopback, so the figure
is the importer's cost, at the default polite rate (5 requests/s per host) and
unthrottled.

    .venv/bin/python bench/iiif.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests/sources")]

from asterism.config import HttpSettings, LicenseSettings, load_settings  # noqa: E402
from asterism.ingest.pipeline import ingest  # noqa: E402
from asterism.sources.http import PoliteClient  # noqa: E402
from asterism.sources.iiif import IiifSource  # noqa: E402

from iiif_server import IiifServer  # noqa: E402
from replay_server import serve  # noqa: E402

FILES = (
    "v2-manifest-nga-collection-highlights.json",
    "v3-manifest-wellcome-b18035723.json",
    "v2-manifest-nlw-yr-ardd.json",
    "v2-manifest-e-codices-gau-fragment.json",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    args = parser.parse_args()
    replay_iter = serve()
    replay = next(replay_iter)
    server = IiifServer(replay, args.data / "iiif")
    top = server.add(
        "https://example.org/bench/collection",
        {
            "id": "https://example.org/bench/collection",
            "type": "Collection",
            "items": [{"id": server.files[f], "type": "Manifest"} for f in FILES],
        },
    )
    allowed = ["public-domain", "CC0", "CC-BY", "CC-BY-SA", "CC-BY-NC", "CC-BY-NC-SA", "RS-NoC-US", "other"]
    for label, rate in (("polite (5 req/s per host)", 5.0), ("unthrottled", 1000.0)):
        home = Path(tempfile.mkdtemp(prefix="asterism-iiif-bench-"))
        try:
            settings = load_settings(
                home=home, ocr={"mode": "never"}, license=LicenseSettings(allowed=allowed, allow_unknown=True)
            )
            http = HttpSettings(rate=rate, host_rates={}, concurrency=4)
            source = IiifSource(PoliteClient(http, transport=server.transport()), top, canvases="each")
            report = ingest(settings, source, ocr=False)
            print(
                f"{label}: {report.stored} canvases, {report.images_processed} images, "
                f"{report.failed} failed in {report.seconds:.1f}s = {report.stored / report.seconds:.1f} canvases/s"
            )
        finally:
            shutil.rmtree(home, ignore_errors=True)
    replay_iter.close()


if __name__ == "__main__":
    main()
