"""A re-run during an outage of the image server keeps every stored image, status and served work.

The AIC replay serves the recorded records and their IIIF images; the records
then change (a new title each), so the next run fetches every image again, and
the image server answers 503 throughout. Each work must keep its stored
picture and stay servable (so the next build keeps it), with the failure
reported; once the server is back, the next run fetches the images again.
"""

from __future__ import annotations

from pathlib import Path

from asterism.config import HttpSettings, Settings
from asterism.ingest.pipeline import ingest
from asterism.recommend.catalogue import Catalogue
from asterism.shapes import Status
from asterism.sources.aic import AicSource, aic_headers
from asterism.sources.http import PoliteClient
from asterism.store import open_database

from aic_replay import install_aic
from replay_server import Replay, Response

IMAGES = "/iiif/2/"


def run(settings: Settings, replay: Replay, http: HttpSettings) -> None:
    client = PoliteClient(http, headers=aic_headers(http))
    ingest(settings, AicSource(client, base_url=f"{replay.url}/api/v1", page_size=4))


def down(_query: dict[str, str], _path: str) -> Response:
    return 503, {"Content-Type": "text/plain"}, b"image server down for maintenance"


def test_failed_refetch_keeps_the_stored_image_and_status(
    settings: Settings, replay: Replay, http: HttpSettings, shared_data: Path
) -> None:
    records = install_aic(replay, shared_data)
    serve_images = replay.routes[IMAGES + "*"]
    run(settings, replay, http)
    database = open_database(settings)
    try:
        before = {a.source_id: a for a in database.records.artworks()}
        assert len(before) == len(records) and all(
            a.status == Status.ACTIVE and a.image for a in before.values()
        )

        for record in records:  # the museum edits every record: the next run fetches every image again
            record["title"] = f"{record['title']} (revised)"
        replay.route(IMAGES + "*", down)
        fetched = len(replay.seen(IMAGES))
        run(settings, replay, http)
        assert len(replay.seen(IMAGES)) > fetched  # the images were asked for, and failed

        after = {a.source_id: a for a in database.records.artworks()}
        for source_id, old in before.items():
            work = after[source_id]
            assert work.title.endswith("(revised)")  # the new metadata is stored
            assert work.status == Status.ACTIVE, work.status_reason
            assert work.image is not None and old.image is not None
            assert work.image.sha256 == old.image.sha256
            assert settings.paths.file(work.image.path).is_file()
        served = Catalogue(list(database.records.artworks()), settings.license)
        assert set(served.ids.tolist()) == {a.id for a in before.values()}
        assert all(a.embeddable for a in after.values())  # what the next build embeds
        problems = {p.source_id: p.reason for p in database.records.problems()}
        assert set(problems) == set(before)
        assert all("503" in reason and "kept the stored image" in reason for reason in problems.values())

        replay.route(IMAGES + "*", serve_images)  # the server is back: the next run tries again
        fetched = len(replay.seen(IMAGES))
        run(settings, replay, http)
        assert len(replay.seen(IMAGES)) - fetched == len(records)
        assert database.records.problems() == []
        assert all(a.status == Status.ACTIVE for a in database.records.artworks())
    finally:
        database.close()
