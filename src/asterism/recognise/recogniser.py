"""Is this photo a work of the collection, and which? Locate, shortlist, verify, calibrate.

1. ``locate`` finds where the picture may be in the photo (frame's inner
   edge, the framed work's outline, quads from closed edges or straight
   lines), each rectified; the whole
   photo stays a candidate, so a sculpture or a tight crop loses nothing.
2. At most ``MAX_CROPS`` crops are described by the backbone's GeM descriptor
   in one batch (each costs as much as the next: ≈ 13 ms of CPU): the photo,
   the frame's inner edge if found, two insets of the first outline (cutting
   a frame the inner-edge search missed) and the deeper inset of each further
   region. The outlines' own rectified crops are not described: they still
   hold the frame, and the insets found the work as well without them
   (``Recogniser.crops``). Each stored work's score is its best cosine over
   the crops, and the ``shortlist`` best works go on. So do the
   ``shortlist // 2`` best by the stored works' *soft views* (small, out of
   focus: ``store.SOFT_VIEWS``), which a blurred, distant, half-covered photo
   resembles more than the sharp original; a work's similarity is then its
   best over the original and views.
3. ORB keypoints of the photo and of the most specific crop are matched with
   each shortlisted work's stored keypoints and checked by RANSAC
   (``local.match``); the work with the most inliers is the answer. The
   ranking shown to the evaluation is by inliers, then by global similarity
   (a work too faint or too repetitive for keypoints can still come first).
4. The inlier count is turned into a confidence by a logistic curve fitted on
   simulated phone photos (``asterism eval recognition``) and the work is
   *recognised* only at ``min_inliers`` or more: chosen so that photos of
   works that are not in the collection are "recognised" at most 1 % of the
   time, because a wrong recognition sends the visitor down a wrong path
   with a confident label, which is worse than the by-image answer.

``exclude`` holds works out of the shortlist (the evaluation's works "not in
the collection"): a held-out work can never be the answer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field

import numpy as np

from asterism.config import RecogniseSettings
from asterism.embed.backbone import EfficientNetLite0
from asterism.embed.base import RGB
from asterism.recognise.local import (
    FEATURE_SIZE,
    QUERY_KEYPOINTS,
    STORED_KEYPOINTS,
    LocalFeatures,
    describe,
    match,
)
from asterism.recognise.locate import Region, locate
from asterism.recognise.store import RecognitionSet

SURE = 2  # a candidate with this many times the threshold's inliers ends the verification
INSETS = (0.06, 0.12)  # share of each side cut from an outline (a frame the inner-edge search missed)
MAX_CROPS = 4  # backbone time is per crop; 4 recognise as many works as 8 did (``Recogniser.crops``)


@dataclass(frozen=True)
class Candidate:
    artwork_id: int
    similarity: float  # best global cosine over the crops
    inliers: int = 0


@dataclass
class Examination:
    """Everything recognition looked at for one photo: the evaluation reads it, the service its verdict."""

    shortlist: list[Candidate]  # by global similarity
    verified: list[Candidate]  # by inliers, best first, then by similarity
    regions: list[Region]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> Candidate | None:
        return self.verified[0] if self.verified and self.verified[0].inliers > 0 else None

    @property
    def runner_up(self) -> int:
        """The second-best candidate's inliers (0 if none): a lookalike series shows here."""
        return self.verified[1].inliers if len(self.verified) > 1 else 0


@dataclass(frozen=True)
class Recognition:
    artwork_id: int
    confidence: float
    inliers: int


def recognised(inliers: int, runner_up: int, settings: RecogniseSettings) -> bool:
    """Enough inliers, and clearly more than the next work's.

    The margin is for series that share their look: museum photographs of a set of terracotta
    heads on one backdrop, coins of one mint, prints of one plate. A photo of one of them matches
    its siblings nearly as well as itself; if it is not in the collection, the best sibling is a
    confident wrong answer. Requiring the best to beat the runner-up by ``margin`` times turns
    those into "not recognised" and lets the inlier threshold stay low for everything else.
    """
    return inliers >= settings.min_inliers and inliers >= settings.margin * runner_up


def confidence(inliers: int, settings: RecogniseSettings) -> float:
    """P(the work is the right one | inliers), the logistic fitted by ``asterism eval recognition``."""
    z = settings.logit_slope * (inliers - settings.logit_centre)
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


class Recogniser:
    def __init__(
        self,
        data: RecognitionSet,
        backbone: Callable[[], EfficientNetLite0],
        settings: RecogniseSettings,
        served: Container[int] | None = None,
    ) -> None:
        """``backbone``: called at the first photo (a server loads no model before it needs one);
        ``served``: the works that may be answered (a work withdrawn since the build may not)."""
        self.data = data
        self.backbone_of = backbone
        self.settings = settings
        self.served = served

    def crops(self, rgb: RGB, regions: list[Region]) -> list[RGB]:
        """The pictures the global descriptor is taken of, most telling first, at most ``MAX_CROPS``.

        The photo; the frame's inner edge; both insets of the first outline (or edge quad); the
        deeper inset of each further one. Measured on the evaluation's 3,300 photos, every crop
        described: the right work's best crop was an outline's inset in most combined photos, and
        without the bare outlines (frame and all) and the later regions' shallow insets, which the
        old policy (each region bare and with both insets, up to 8) also described, the right work
        left the shortlist in 1 photo (combined strong, no keypoints to verify it by) and entered
        it in 6 (combined strong), with 2.99 crops a photo instead of 4.76. Without any inset
        combined moderate top-1 fell from 95 to 85 %: the insets are what finds a framed work.
        """
        out = [rgb]
        first = True
        for region in regions:
            if region.how == "frame":
                out.append(region.crop)
                continue
            h, w = region.crop.shape[:2]
            for cut in INSETS if first else INSETS[-1:]:
                dy, dx = int(h * cut), int(w * cut)
                out.append(np.ascontiguousarray(region.crop[dy : h - dy, dx : w - dx]))
            first = False
        return out[:MAX_CROPS]

    def examine(self, rgb: RGB, exclude: Iterable[int] = ()) -> Examination:
        held_out = np.array(sorted({int(i) for i in exclude}), dtype=np.int64)
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        regions = locate(rgb)
        crops = self.crops(rgb, regions)
        seconds["locate"] = time.perf_counter() - started

        started = time.perf_counter()
        queries = self.data.projection(self.backbone_of().run(crops, texture=False).descriptor)
        k = self.settings.shortlist
        sharp = self._best(self.data.index.search_padded(queries, k, exclude=held_out))
        soft: dict[int, float] = {}
        for index in self.data.soft:
            for artwork_id, score in self._best(index.search_padded(queries, k, exclude=held_out)).items():
                soft[artwork_id] = max(score, soft.get(artwork_id, -np.inf))
        both = {i: max(s, soft.get(i, -np.inf)) for i, s in sharp.items()}
        chosen = [i for i, _ in sorted(sharp.items(), key=lambda kv: -kv[1])][:k]
        extra = [i for i, _ in sorted(soft.items(), key=lambda kv: -kv[1]) if i not in chosen][: k // 2]
        shortlist = [Candidate(i, both.get(i, soft.get(i, -np.inf))) for i in chosen + extra]
        seconds["shortlist"] = time.perf_counter() - started

        started = time.perf_counter()
        verified = self._verify(rgb, regions, shortlist)
        seconds["verify"] = time.perf_counter() - started
        return Examination(shortlist, verified, regions, seconds)

    def _best(self, found: tuple[np.ndarray, np.ndarray]) -> dict[int, float]:
        """Each served work's best score over the crops' searches."""
        best: dict[int, float] = {}
        for row_scores, row_ids in zip(*found, strict=True):
            for score, artwork_id in zip(row_scores, row_ids, strict=True):
                if artwork_id < 0 or (self.served is not None and int(artwork_id) not in self.served):
                    continue
                if score > best.get(int(artwork_id), -np.inf):
                    best[int(artwork_id)] = float(score)
        return best

    def _verify(self, rgb: RGB, regions: list[Region], shortlist: list[Candidate]) -> list[Candidate]:
        """Inliers of each shortlisted work, best first; stops early once one is beyond doubt.

        The photo's keypoints are matched first; the most specific crop's (rectified, frame cut)
        only where the photo's did not reach the threshold. Pairs fewer than half the threshold
        cannot matter (``needed``), and a candidate at ``SURE`` × the threshold ends the search:
        the works after it count 0 inliers, so its margin over them is taken, not checked (in the
        evaluation, photos of works outside the collection reached at most 56 inliers, below
        ``SURE`` × the threshold = 70; every figure in bench/RESULTS.md includes this early stop).
        """
        needed = max(self.settings.min_inliers // 2, 8)
        sure = SURE * self.settings.min_inliers
        views: list[Callable[[], LocalFeatures]] = [
            lambda: describe(rgb, QUERY_KEYPOINTS, max(FEATURE_SIZE, max(rgb.shape[:2])))
        ]
        if regions:
            views.append(lambda: describe(regions[0].crop, STORED_KEYPOINTS, FEATURE_SIZE))
        described: dict[int, LocalFeatures] = {}
        verified: list[Candidate] = []
        for position, candidate in enumerate(shortlist):
            stored = self.data.local(candidate.artwork_id)
            inliers = 0
            for view, make in enumerate(views):
                if stored is None or inliers >= self.settings.min_inliers:  # this view settled it
                    break
                if view not in described:
                    described[view] = make()
                inliers = max(inliers, match(described[view], stored, needed).inliers)
            verified.append(Candidate(candidate.artwork_id, candidate.similarity, inliers))
            if inliers >= sure:
                verified += [Candidate(c.artwork_id, c.similarity, 0) for c in shortlist[position + 1 :]]
                break
        verified.sort(key=lambda c: (-c.inliers, -c.similarity))
        return verified

    def verdict(self, examination: Examination) -> Recognition | None:
        """The recognised work, or None below the calibrated threshold."""
        best = examination.best
        if best is None or not recognised(best.inliers, examination.runner_up, self.settings):
            return None
        return Recognition(best.artwork_id, round(confidence(best.inliers, self.settings), 4), best.inliers)

    def recognise(self, rgb: RGB, exclude: Iterable[int] = ()) -> Recognition | None:
        return self.verdict(self.examine(rgb, exclude))
