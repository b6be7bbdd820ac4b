"""Perceptual hashes group copies of one picture and separate different pictures."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from asterism.images.phash import PhashIndex, hamming, perceptual_hashes, phash

import imagegen


def test_resized_recompressed_copy_is_within_a_few_bits() -> None:
    original = imagegen.picture(1, (600, 400))
    copy = Image.open(io.BytesIO(imagegen.encode(original.resize((150, 100)), "JPEG", quality=60)))
    assert hamming(phash(original), phash(copy)) <= 4


def test_different_pictures_are_far_apart() -> None:
    distances = [hamming(phash(imagegen.picture(i)), phash(imagegen.picture(i + 100))) for i in range(20)]
    assert min(distances) > 8
    assert 20 < sum(distances) / len(distances) < 44  # random pairs sit near 32 bits


def test_index_finds_nearest_within_threshold_and_honours_exclusions() -> None:
    index: PhashIndex[str] = PhashIndex()
    index.add("a", perceptual_hashes(imagegen.picture(1, (600, 400))))
    index.add("b", perceptual_hashes(imagegen.picture(2, (600, 400))))
    query = perceptual_hashes(imagegen.picture(1, (600, 400)).resize((240, 160)))
    found = index.nearest(query)
    assert found is not None and found[0] == "a"
    assert index.nearest(query, exclude={"a"}) is None
    assert index.nearest(perceptual_hashes(imagegen.picture(3))) is None


def test_fine_hash_separates_lookalike_objects_of_the_sample(shared_data: Path) -> None:
    """Distinct terracotta heads on one backdrop pass the coarse check; the fine one rejects them."""
    import csv

    rows = {r["id"]: r for r in csv.DictReader((shared_data / "aic-objects" / "metadata.csv").open())}

    def hashes(object_id: str) -> tuple[str, str]:
        image = Image.open(shared_data / "aic-objects" / "images" / rows[object_id]["filename"]).convert(
            "RGB"
        )
        h = perceptual_hashes(image)
        return h.coarse, h.fine

    (c1, f1), (c2, f2) = hashes("373"), hashes("415")
    assert hamming(c1, c2) <= 8  # coarse alone would call them duplicates
    assert hamming(f1, f2) > 40
    index: PhashIndex[str] = PhashIndex()
    index.add(
        "373", perceptual_hashes(Image.open(shared_data / "aic-objects" / "images" / rows["373"]["filename"]))
    )
    other = Image.open(shared_data / "aic-objects" / "images" / rows["415"]["filename"])
    assert index.nearest(perceptual_hashes(other)) is None
