"""Tuning: chosen on validation artists by image only, reported on test artists, written to settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from asterism.config import Weights, load_settings
from asterism.embed.base import Affinity
from asterism.embed.formal import reweight
from asterism.eval.relevance import NOTIONS, UNKNOWN_ARTISTS
from asterism.eval.tune import Choice, _weighed, artist_split, grid, score, tune, write_settings
from asterism.home import Home
from asterism.normalize.artists import artist_key
from asterism.recommend.query import Query
from asterism.recommend.service import Service


def test_grid_covers_the_simplex() -> None:
    choices = grid()
    assert all(abs(c.formal + c.conceptual + c.historical - 1) < 1e-9 for c in choices)
    assert len(choices) == 15 * 3 * 3


def test_tune_picks_on_validation_and_reports_test(service: Service, tmp_path: Path) -> None:
    candidates = [
        Choice(1.0, 0.0, 0.0, 1.0, 0.0),
        Choice(0.0, 0.0, 1.0, 1.0, 0.0),
        Choice(0.4, 0.4, 0.2, 0.7, 0.3),
        Choice(0.5, 0.25, 0.25, 0.85, 0.15, (0.0, 0.0, 1.0)),
        Choice(0.5, 0.0, 0.5, 1.0, 0.0, (0.0, 0.0, 1.0)),  # the shipped defaults for a picture
    ]
    result = tune(service, choices=candidates, limit=30)
    assert result["grid"] == 5 and result["queries"]["validation"] > 0 and result["queries"]["test"] > 0
    assert 0 <= result["test_recall@10 by id"]["chosen"] <= 1
    assert result["queries"]["validation"] <= 30 and result["queries"]["test by id"] <= 30  # limit holds
    chosen = Choice(**result["chosen"])
    assert chosen in candidates
    # the choice is the best on validation among the candidates
    assert result["validation_recall@10"]["chosen"] >= result["validation_recall@10"]["default"]
    assert 0 <= result["test_recall@10"]["chosen"] <= 1

    (tmp_path / "asterism.toml").write_text('workers = 3\n\n[ocr]\nmode = "never"\n')
    write_settings(Home(tmp_path), result["chosen"], (1 / 3, 1 / 3, 1 / 3))
    settings = load_settings(home=tmp_path)
    assert settings.workers == 3 and settings.ocr.mode == "never"  # the rest of the file is kept
    upload = settings.recommend.upload_weights  # tuned by image: the defaults for a picture
    assert upload.historical == chosen.historical and settings.recommend.upload_beta == chosen.beta
    assert settings.weights == Weights()  # a stored start keeps its own defaults


def test_each_part_choice_starts_from_the_raw_formal_vector(service: Service) -> None:
    """The upload path already weighs the formal parts; tuning compares choices from the raw vector."""
    work = next(a for a in service.catalogue.records.values() if a.image is not None)
    start = service.starts.from_image(service.picture(work).read_bytes(), ocr=False)
    raw = start.side.formal
    assert raw is not None and not np.allclose(start.vectors[Affinity.FORMAL], raw)  # texture-only query
    assert np.allclose(_weighed(service, start, None).vectors[Affinity.FORMAL], raw)
    mixed = _weighed(service, start, (0.2, 0.2, 0.6)).vectors[Affinity.FORMAL]
    assert np.allclose(mixed, reweight(raw, service.layout, (0.2, 0.2, 0.6)))


def test_the_split_is_by_artist(service: Service) -> None:
    records = service.catalogue.records
    queries = sorted(records)
    validation, test = artist_split(records, queries, seed=0)
    assert sorted(validation + test) == queries and abs(len(validation) - len(test)) <= len(queries) // 4
    artists = {side: {artist_key(records[q].artist_name or "") for q in ids} - UNKNOWN_ARTISTS
               for side, ids in (("v", validation), ("t", test))}  # fmt: skip
    assert artists["v"] and artists["t"] and not artists["v"] & artists["t"]
    assert artist_split(records, queries, seed=0) == (validation, test)  # seeded: the same split every run


def test_held_out_works_never_count_as_hits(service: Service) -> None:
    """``score`` drops the start's held-out works before recall: holding out the one hit makes it 0."""
    query = sorted(service.catalogue.records)[0]
    start = service.starts.from_id(query)
    choice = Choice(1.0, 0.0, 0.0, 1.0, 0.0)
    top = (
        service.recommender.rank(start, Query(artwork_id=query, weights=choice.weights()), limit=1)
        .scored[0]
        .id
    )
    relevant = {n: ({query: {top}} if n == "artist" else {}) for n in NOTIONS}
    assert score(service, {query: start}, relevant, choice) == 1.0
    held = dataclasses.replace(start, exclude=start.exclude | {top})
    assert score(service, {query: held}, relevant, choice) == 0.0
