"""``asterism eval recognition``: simulated phone photos of the collection's works, recognised or not.

Each chosen work is "photographed" (``photos.py``: frame, wall, perspective,
rotation, glare, colour, blur, JPEG, occlusion, low resolution — each alone
and all combined, at mild / moderate / strong), encoded as a JPEG and sent
through the upload path's own decoder, then through the recogniser. Two
kinds of works are photographed:

- **known** works, in the collection: the question is whether the right work
  comes first (top-1), among the first five (top-5), and is *recognised*
  (first, and above the threshold);
- **unknown** works, held out of the collection for the run (the work and
  every copy of its picture — same file or same perceptual hash — are
  excluded from the search, so no trace of them can be found): anything
  recognised is a false recognition.

The threshold is then chosen on these photos: the smallest inlier count at
which unknown works are "recognised" at most ``FALSE_RATE`` of the time, raised
if need be to where the displayed confidence reaches one half. The confidence
is a logistic curve P(right | inliers) fitted over the photos the margin rule
lets through (its base rate is this run's mix of known and unknown works: 60 : 40
by default). ``write`` puts threshold and curve in ``<home>/asterism.toml``.
"""

from __future__ import annotations

import io
import math
import time
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from asterism.config import RecogniseSettings
from asterism.embed.base import RGB
from asterism.eval.photos import STRENGTHS, TRANSFORMS, photograph
from asterism.recognise.recogniser import Recogniser, recognised
from asterism.recommend.service import Service
from asterism.shapes import Artwork

FALSE_RATE = 0.01  # photos of works not in the collection that may be "recognised"
SOURCE_PIXELS = 1024  # the stored picture is photographed at about this size
CONDITIONS: tuple[tuple[str, str], ...] = tuple(
    (transform, strength) for transform in (*TRANSFORMS, "combined") for strength in STRENGTHS
)


@dataclass(frozen=True)
class Shot:
    """One simulated photo and what recognition made of it."""

    transform: str
    strength: str
    work: int
    known: bool
    rank: int | None  # position of the work among the verified candidates (known works), None if absent
    best: int | None  # the best verified candidate
    inliers: int  # the best candidate's inliers
    runner_up: int  # the second-best candidate's inliers
    seconds: float


def copies_of(works: Sequence[Artwork]) -> dict[int, frozenset[int]]:
    """Each work's id with every work sharing its picture's file or perceptual hash."""
    by_key: dict[str, set[int]] = defaultdict(set)
    for work in works:
        if work.image is not None and work.id is not None:
            by_key["sha:" + work.image.sha256].add(work.id)
            if work.image.phash:
                by_key["phash:" + work.image.phash].add(work.id)
    out: dict[int, frozenset[int]] = {}
    for work in works:
        if work.image is None or work.id is None:
            continue
        group = set(by_key["sha:" + work.image.sha256])
        if work.image.phash:
            group |= by_key["phash:" + work.image.phash]
        out[work.id] = frozenset(group)
    return out


def _source(service: Service, work: Artwork) -> RGB:
    with Image.open(service.picture(work)) as im:
        im.draft("RGB", (SOURCE_PIXELS, SOURCE_PIXELS))
        picture = im.convert("RGB")
    picture.thumbnail((SOURCE_PIXELS, SOURCE_PIXELS))
    return np.asarray(picture, dtype=np.uint8)


def _upload(service: Service, photo: RGB) -> RGB:
    """The photo as a phone sends it (JPEG) and as the server reads it (the upload decoder)."""
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=90)
    return np.asarray(service.starts.decode(buffer.getvalue()), dtype=np.uint8)


def shoot(
    service: Service,
    recogniser: Recogniser,
    *,
    works: int = 40,
    unknown: int = 20,
    seed: int = 0,
    conditions: Sequence[tuple[str, str]] = CONDITIONS,
) -> list[Shot]:
    """Photograph ``works`` known and ``unknown`` held-out works under every condition; recognise each."""
    pool = sorted(
        (a for a in service.catalogue.records.values() if a.image is not None), key=lambda a: a.id or 0
    )
    if len(pool) < 2:
        raise ValueError("recognition needs at least two works with pictures")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pool))
    unknown = min(unknown, len(pool) // 2)
    chosen_unknown = [pool[i] for i in order[:unknown]]
    chosen_known = [pool[i] for i in order[unknown : unknown + works]]
    held = copies_of(pool)
    shots: list[Shot] = []
    for work, known in [*((w, True) for w in chosen_known), *((w, False) for w in chosen_unknown)]:
        assert work.id is not None
        source = _source(service, work)
        exclude = frozenset() if known else held.get(work.id, frozenset({work.id}))
        for transform, strength in conditions:
            salt = zlib.crc32(f"{seed}:{work.id}:{transform}:{strength}".encode())
            photo = photograph(source, transform, STRENGTHS[strength], np.random.default_rng(salt))
            started = time.perf_counter()
            rgb = _upload(service, photo)
            examined = recogniser.examine(rgb, exclude=exclude)
            seconds = time.perf_counter() - started
            ids = [c.artwork_id for c in examined.verified]
            best = examined.best
            shots.append(
                Shot(
                    transform, strength, work.id, known,
                    ids.index(work.id) if known and work.id in ids else None,
                    best.artwork_id if best else None, best.inliers if best else 0, examined.runner_up,
                    seconds,
                )
            )  # fmt: skip
    return shots


def threshold(shots: Sequence[Shot], margin: float, false_rate: float = FALSE_RATE, floor: int = 8) -> int:
    """The smallest inlier count at which photos of unknown works are recognised at most ``false_rate``
    (under the margin rule: the best must also have ``margin`` × the runner-up's inliers)."""
    unknown = [s for s in shots if not s.known]
    if not unknown:
        return floor
    clear = np.array([s.inliers if s.inliers >= margin * s.runner_up else 0 for s in unknown])
    for t in range(floor, int(clear.max()) + 2):
        if float((clear >= t).mean()) <= false_rate:
            return t
    return int(clear.max()) + 1


def said(shot: Shot, settings: RecogniseSettings) -> bool:
    """Whether the recogniser would answer this photo with its best candidate."""
    return shot.best is not None and recognised(shot.inliers, shot.runner_up, settings)


def right(shot: Shot) -> bool:
    return shot.known and shot.best == shot.work


def fit_confidence(shots: Sequence[Shot], iterations: int = 50) -> tuple[float, float]:
    """(slope, centre) of the logistic P(right | inliers), by Newton's method on the log-likelihood."""
    x = np.array([s.inliers for s in shots], dtype=np.float64)
    y = np.array([right(s) for s in shots], dtype=np.float64)
    if y.all() or not y.any():
        return 0.25, float(np.median(x))
    scale = max(float(x.std()), 1.0)
    features = np.stack([np.ones_like(x), x / scale], axis=1)
    w = np.zeros(2)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(features @ w, -50, 50)))
        gradient = features.T @ (y - p) - 1e-3 * w  # a little ridge: separable data stays finite
        hessian = (features.T * (p * (1 - p))) @ features + 1e-3 * np.eye(2)
        w += np.linalg.solve(hessian, gradient)
    slope = float(w[1] / scale)
    return max(slope, 1e-3), float(-w[0] / w[1] * scale) if w[1] else float(np.median(x))


def halves(shots: Sequence[Shot], seed: int = 0) -> tuple[frozenset[int], frozenset[int]]:
    """The unknown works split in two, seeded: one half chooses the threshold, the other tests it."""
    works = sorted({s.work for s in shots if not s.known})
    order = np.random.default_rng(seed).permutation(len(works))
    cut = (len(works) + 1) // 2
    return frozenset(works[i] for i in order[:cut]), frozenset(works[i] for i in order[cut:])


def summarise(shots: Sequence[Shot], settings: RecogniseSettings) -> dict[str, Any]:
    """Per condition: top-1, top-5, recognised, wrong and false-recognition rates and latency.

    The threshold is chosen on photos of half the unknown works, and its false-recognition rate
    is reported on the other half (works it never saw), as the relevance figures are reported on
    artists the tuning never saw; the rate over every unknown photo is given beside it.
    """
    choosing, testing = halves(shots)
    chooses = [s for s in shots if s.known or s.work in choosing]  # the testing half is never read here
    clear = [s for s in chooses if s.best is not None and s.inliers >= settings.margin * s.runner_up]
    slope, centre = fit_confidence(clear or chooses)  # P(right | inliers) where the margin rule lets it speak
    false_rate = threshold(chooses, settings.margin)
    chosen = max(false_rate, math.ceil(centre))  # and never "recognised" at a confidence below one half
    at = settings.model_copy(update={"min_inliers": chosen})
    rows = []
    for transform, strength in dict.fromkeys((s.transform, s.strength) for s in shots):
        group = [s for s in shots if (s.transform, s.strength) == (transform, strength)]
        known = [s for s in group if s.known]
        unknown = [s for s in group if not s.known]
        rows.append({
            "transform": transform, "strength": strength, "known": len(known), "unknown": len(unknown),
            "top1": _share(known, lambda s: s.rank == 0),
            "top5": _share(known, lambda s: s.rank is not None and s.rank < 5),
            "recognised": _share(known, lambda s: right(s) and said(s, at)),
            "wrong": _share(known, lambda s: not right(s) and said(s, at)),
            "false_recognitions": _share(unknown, lambda s: said(s, at)),
            "p50_ms": round(1000 * float(np.median([s.seconds for s in group])), 1),
            "p95_ms": round(1000 * float(np.percentile([s.seconds for s in group], 95)), 1),
        })  # fmt: skip
    unknown_all = [s for s in shots if not s.known]
    return {
        "photos": len(shots),
        "works": len({s.work for s in shots if s.known}),
        "unknown_works": len({s.work for s in shots if not s.known}),
        "threshold": {
            "min_inliers": chosen,
            "by_false_rate": false_rate,
            "false_rate_target": FALSE_RATE,
            "false_recognitions": _share(unknown_all, lambda s: said(s, at)),
            "false_recognitions_unseen": _share(
                [s for s in unknown_all if s.work in testing], lambda s: said(s, at)
            ),
            "margin": settings.margin,
            "in_use": settings.min_inliers,
        },
        "confidence": {"logit_slope": round(slope, 4), "logit_centre": round(centre, 2)},
        "conditions": rows,
        "shots": [asdict(s) for s in shots],
    }


def _share(shots: Sequence[Shot], test: Any) -> float | None:
    return round(sum(1 for s in shots if test(s)) / len(shots), 4) if shots else None


def markdown(summary: dict[str, Any]) -> str:
    t = summary["threshold"]
    lines = [
        "# Recognition of photographed works",
        "",
        f"{summary['photos']} simulated phone photos of {summary['works']} works in the collection and "
        f"{summary['unknown_works']} works held out of it (work and copies excluded from the search).",
        f"Threshold chosen on half the unknown works: **{t['min_inliers']} inliers** (margin {t['margin']}); "
        f"false recognitions on the other half {_pct(t['false_recognitions_unseen'], 2)}, on all "
        f"{_pct(t['false_recognitions'], 2)} (target ≤ {t['false_rate_target']:.0%}); in use: {t['in_use']}.",
        "",
        "| transform | strength | top-1 | top-5 | recognised | wrong | false (unknown) | p50 ms | p95 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary["conditions"]:
        cells = [_pct(r[k]) for k in ("top1", "top5", "recognised", "wrong", "false_recognitions")]
        lines.append(
            f"| {r['transform']} | {r['strength']} | "
            + " | ".join(cells)
            + f" | {r['p50_ms']} | {r['p95_ms']} |"
        )
    return "\n".join(lines) + "\n"


def _pct(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}%}"


def plots(summary: dict[str, Any], folder: Path) -> list[Path]:
    """Top-1 per transform and strength; best-candidate inliers of known vs unknown works with the threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = summary["conditions"]
    transforms = list(dict.fromkeys(r["transform"] for r in rows))
    strengths = list(dict.fromkeys(r["strength"] for r in rows))
    figure, axis = plt.subplots(figsize=(10, 4))
    width = 0.8 / max(len(strengths), 1)
    for i, strength in enumerate(strengths):
        values = [next((r["top1"] or 0 for r in rows if r["transform"] == t and r["strength"] == strength), 0)
                  for t in transforms]  # fmt: skip
        axis.bar(np.arange(len(transforms)) + i * width, values, width, label=strength)
    axis.set_xticks(np.arange(len(transforms)) + width * (len(strengths) - 1) / 2, transforms, rotation=30)
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("top-1")
    axis.legend()
    figure.tight_layout()
    paths = [folder / "recognition-top1.png"]
    figure.savefig(paths[0], dpi=100)
    plt.close(figure)
    shots = summary["shots"]
    figure, axis = plt.subplots(figsize=(8, 3.5))
    known = [s["inliers"] for s in shots if s["known"] and s["best"] == s["work"]]
    unknown = [s["inliers"] for s in shots if not s["known"]]
    bins = [float(b) for b in np.linspace(0, max([*known, *unknown, 1]), 40)]
    axis.hist(known, bins=bins, alpha=0.6, label="known work, right candidate")
    axis.hist(unknown, bins=bins, alpha=0.6, label="unknown work, best candidate")
    axis.axvline(summary["threshold"]["min_inliers"], color="black", linestyle="--", label="threshold")
    axis.set_xlabel("inliers")
    axis.set_yscale("log")
    axis.legend()
    figure.tight_layout()
    paths.append(folder / "recognition-inliers.png")
    figure.savefig(paths[1], dpi=100)
    plt.close(figure)
    return paths
