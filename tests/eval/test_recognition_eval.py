"""``asterism eval recognition``: the threshold keeps false recognitions at the target; held-out works stay out."""

from __future__ import annotations

import numpy as np

from asterism.eval.recognition import Shot, copies_of, fit_confidence, shoot, summarise, threshold
from asterism.recommend.service import Service


def shot(inliers: int, known: bool, right: bool = True) -> Shot:
    work = 1
    best = work if right else 2
    return Shot("wall", "mild", work, known, 0 if known and right else None, best, inliers, 0, 0.01)


def test_the_threshold_is_the_smallest_count_meeting_the_false_rate() -> None:
    unknown = [shot(i % 20, False, right=False) for i in range(200)]  # 0..19, ten of each
    unknown += [shot(30, False, right=False)]  # one outlier: 1/201 < 1 %
    known = [shot(60, True)] * 50
    chosen = threshold(unknown + known, margin=1.5)
    rate = sum(s.inliers >= chosen for s in unknown) / len(unknown)
    assert rate <= 0.01
    assert sum(s.inliers >= chosen - 1 for s in unknown) / len(unknown) > 0.01  # one lower would break it
    assert chosen == 20
    lookalikes = [Shot("wall", "mild", 1, False, None, 2, 40, 35, 0.01)] * 10  # a series: best ≈ runner-up
    assert threshold(unknown + lookalikes, margin=1.5) == 20  # the margin rule already refuses them
    assert threshold(unknown + lookalikes, margin=1.0) == 41


def test_the_confidence_curve_rises_through_the_overlap() -> None:
    shots = [shot(i, False, right=False) for i in range(0, 25)] + [shot(i, True) for i in range(20, 80)]
    slope, centre = fit_confidence(shots)
    assert slope > 0 and 15 < centre < 30


def test_known_photos_are_found_and_unknown_never_name_themselves(service: Service) -> None:
    assert service.recogniser is not None
    shots = shoot(
        service, service.recogniser, works=4, unknown=3, seed=1,
        conditions=[("wall", "moderate"), ("combined", "mild")],
    )  # fmt: skip
    assert len(shots) == (4 + 3) * 2
    held = copies_of(list(service.catalogue.records.values()))
    for s in shots:
        if not s.known:  # the work and every copy of its picture were out of the search
            assert s.best not in held[s.work] and s.rank is None
    known = [s for s in shots if s.known]
    assert np.mean([s.rank == 0 for s in known]) >= 0.75
    summary = summarise(shots, service.settings.recognise)
    assert {r["transform"] for r in summary["conditions"]} == {"wall", "combined"}
    assert summary["threshold"]["false_recognitions"] <= 0.01 or summary["unknown_works"] < 100


def test_the_threshold_is_tested_on_unknown_works_that_did_not_choose_it() -> None:
    from asterism.config import RecogniseSettings
    from asterism.eval.recognition import halves

    unknown = [Shot("wall", "mild", w, False, None, 999, 10, 0, 0.01) for w in range(100, 120)]
    known = [Shot("wall", "mild", w, True, 0, w, 20, 0, 0.01) for w in range(20)]
    choosing, testing = halves(unknown + known)
    assert choosing and testing and not choosing & testing and choosing | testing == set(range(100, 120))
    # photos of the testing half that would be recognised must not move the threshold, and are counted
    loud = [Shot("wall", "mild", w, False, None, 999, 30, 0, 0.01) for w in sorted(testing)[:3]]
    settings = RecogniseSettings()
    quiet = summarise(unknown + known, settings)["threshold"]
    both = summarise(unknown + known + loud, settings)["threshold"]
    assert (
        both["by_false_rate"] == quiet["by_false_rate"] and both["min_inliers"] == quiet["min_inliers"] <= 30
    )
    assert both["false_recognitions_unseen"] > 0 == quiet["false_recognitions_unseen"]
