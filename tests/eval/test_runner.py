"""``asterism eval`` on the built sample collection: every method scored, reports written."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np

from asterism.embed.base import Affinity
from asterism.eval.holdout import copies, leaks
from asterism.eval.methods import Universe
from asterism.eval.report import write
from asterism.eval.runner import evaluate, upload_bytes
from asterism.home import Home
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.service import Service
from asterism.shapes import Artwork, ImageFacts


def test_evaluation_scores_every_method_and_writes_the_report(service: Service, tmp_path: Path) -> None:
    summary = evaluate(service, by_image=6).summary()
    methods = {"formal", "conceptual", "historical", "composite", "hybrid", "random", "metadata-text"}
    artist = summary["scores"]["id"]["artist"]
    assert set(artist) == methods | {"historical, field held out"}
    # without the artist entity the historical affinity loses most of its by-id lead: it was the answer key
    assert artist["historical, field held out"]["recall@10"] < artist["historical"]["recall@10"]
    for values in artist.values():
        assert all(0.0 <= v <= 1.0 for v in values.values())
        assert values["recall@5"] <= values["recall@10"] <= values["recall@20"]
    # curator relevance is far from chance for the hybrid and the historical affinity
    assert artist["hybrid"]["recall@10"] > 3 * artist["random"]["recall@10"]
    assert artist["historical"]["mrr"] > artist["random"]["mrr"]
    assert summary["queries"]["image"] == 6 and "metadata-text" not in summary["scores"]["image"]["period"]
    assert set(summary["coverage@10"]) == methods and summary["graph"]["components"] >= 1
    folder = write(summary, Home(tmp_path))
    assert json.loads((folder / "report.json").read_text())["queries"] == summary["queries"]
    assert "| hybrid |" in (folder / "report.md").read_text()
    assert (folder / "recall10-id-artist.png").stat().st_size > 1000
    curve = summary["pr_curves"]["artist"]["hybrid"]
    assert len(curve) == 20 and all(a[0] <= b[0] for a, b in itertools.pairwise(curve))  # recall grows with k
    pairs = summary["score_histograms"]["artist"]["historical"]
    assert pairs["relevant"] and pairs["random"]
    assert sum(pairs["relevant"]) / len(pairs["relevant"]) > sum(pairs["random"]) / len(pairs["random"])
    assert (folder / "pr-artist.png").is_file() and (folder / "scores-artist.png").is_file()


def test_clip_reference_line_on_the_objects(shared_data: Path, tmp_path: Path) -> None:
    """40 aic-objects ingested and built: matched by image hash, CLIP and ours scored on the same works."""
    import asterism
    from asterism.eval.reference import clip_reference

    with asterism.open(
        tmp_path / "home", ocr={"mode": "never"}, license={"allow_unknown": True}
    ) as collection:
        collection.ingest("sample", shared_data / "aic-objects", limit=40)
        collection.build()
        result = clip_reference(collection.service(), shared_data / "aic-objects")
    assert result["matched"] == 40
    subject = result["scores"]["subject"]
    assert "openclip-vitb32 (reference)" in subject and "formal" in subject
    for values in subject.values():
        assert 0 <= values["recall@10"] <= 1
    assert subject["openclip-vitb32 (reference)"]["mrr"] > subject["random"]["mrr"]


def test_model_choice_table(service: Service) -> None:
    from asterism.eval.model_choice import compare_models, table

    result = compare_models(service)
    artist = result["scores"]["artist"]
    assert {"formal (all parts)", "formal: palette only", "formal: composition only", "formal: texture only",
            "conceptual", "historical"} <= set(artist)  # fmt: skip
    assert all(0 <= values["recall@10"] <= 1 for values in artist.values())
    assert result["models"]["formal"].startswith("formal@") and "| formal: texture only |" in table(result)


def test_model_choice_table_with_local_checkpoints(service: Service, tmp_path: Path) -> None:
    """CLIP and DINOv2 from local folders (tiny random models here) join the table as rows."""
    import dataclasses

    from asterism.eval.model_choice import compare_models

    import checkpointgen

    models = service.settings.models.model_copy(update={
        "clip_path": checkpointgen.tiny_clip(tmp_path / "clip"),
        "dinov2_path": checkpointgen.tiny_dinov2(tmp_path / "dino"),
    })  # fmt: skip
    configured = dataclasses.replace(service, settings=service.settings.model_copy(update={"models": models}))
    artist = compare_models(configured)["scores"]["artist"]
    names = set(artist)
    assert any(n.startswith("clip (image): clip:clip@") for n in names)
    assert any(n.startswith("dinov2: dinov2:dino@") for n in names)
    assert all(0 <= v["recall@10"] <= 1 for v in artist.values())


def test_queries_never_see_their_own_record_or_copies_of_their_picture(service: Service) -> None:
    """Held out means held out, by image and by id, for every method; and the check can fail:
    without the hold-out, a picture's own stored record is its nearest work."""
    report = evaluate(service, by_image=12)
    assert report.queries["image"] == 12
    held = copies(service.catalogue, Universe(service.catalogue.ids, {}), 1.0)
    for mode in ("image", "id"):
        assert set(report.leaks[mode].values()) == {0}, report.leaks[mode]
        for method, by_query in report.lists[mode].items():
            for query, ranked in by_query.items():
                assert query not in ranked and not held[query].intersection(ranked), (mode, method, query)
    found_itself = 0
    for query in report.lists["image"]["formal"]:
        artwork = service.catalogue.get(query)
        assert artwork is not None
        leaky = service.starts.from_image(upload_bytes(service.picture(artwork)), ocr=False)
        found_itself += leaky.anchor == query
    assert found_itself >= 10  # so a broken hold-out would show up as leaks above


def test_copies_are_held_out_with_the_work() -> None:
    def work(i: int, sha: str, phash: str) -> Artwork:
        image = ImageFacts(sha256=sha, phash=phash, width=4, height=4, mime="image/jpeg", path="x", bytes=1)
        return Artwork(source="t", source_id=str(i), title=f"w{i}", id=i, image=image)

    catalogue = Catalogue([work(1, "a", "p1"), work(2, "a", "p2"), work(3, "b", "p3"), work(4, "c", "p3"),
                           work(5, "d", "p5"), work(6, "e", "p6")])  # fmt: skip
    formal = np.eye(6, dtype=np.float32)
    formal[5] = formal[4] * 0.99 + formal[5] * 0.141  # work 6 is a near-copy of work 5 (cosine 0.99)
    formal /= np.linalg.norm(formal, axis=1, keepdims=True)
    universe = Universe(catalogue.ids, {Affinity.FORMAL: formal})
    held = copies(catalogue, universe, bar=0.97)
    assert held[1] == {1, 2} and held[3] == {3, 4} and held[5] == {5, 6} and held[6] == {5, 6}
    lists = {"formal": {1: [2, 3], 3: [1, 2]}, "random": {1: [5, 6], 3: [4]}}
    assert leaks(lists, held) == {"formal": 1, "random": 1}
