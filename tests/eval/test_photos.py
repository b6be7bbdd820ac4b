"""The phone-photo simulator on synthetic pictures and a real sample painting."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from asterism.eval.photos import STRENGTHS, TRANSFORMS, photograph

# Transforms that keep the picture's geometry, so the photo can be compared pixel for pixel.
SAME_SHAPE = [t for t in TRANSFORMS if t not in ("frame", "wall")]
MAGENTA = np.array([230, 20, 200], np.uint8)


def picture(height: int = 300, width: int = 400) -> np.ndarray:
    """A textured picture: smooth gradients, hard-edged shapes and fine detail."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.stack([xx * 255 / width, yy * 255 / height, (xx + yy) * 127 / (width + height)], -1)
    img[60:140, 80:200] = (30, 140, 60)
    cv2.circle(img, (300, 200), 60, (200, 40, 40), -1)
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def flat(colour: np.ndarray, height: int = 300, width: int = 400) -> np.ndarray:
    return np.broadcast_to(colour, (height, width, 3)).copy()


def is_magenta(img: np.ndarray) -> np.ndarray:
    return np.all(np.abs(img.astype(int) - MAGENTA.astype(int)) < 40, axis=-1)


def difference(photo: np.ndarray, original: np.ndarray) -> float:
    return float(np.abs(photo.astype(float) - original.astype(float)).mean())


@pytest.mark.parametrize("transform", [*TRANSFORMS, "combined"])
def test_shape_dtype_and_determinism(transform: str) -> None:
    img = picture()
    first = photograph(img, transform, STRENGTHS["moderate"], np.random.default_rng(1))
    again = photograph(img, transform, STRENGTHS["moderate"], np.random.default_rng(1))
    other = photograph(img, transform, STRENGTHS["moderate"], np.random.default_rng(2))
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3
    assert abs(max(first.shape[:2]) - max(img.shape[:2])) <= 1
    assert np.array_equal(first, again)
    if transform not in ("jpeg", "lowres"):  # the two transforms without a random draw
        assert not np.array_equal(first, other)
    if transform in SAME_SHAPE:
        assert first.shape == img.shape


@pytest.mark.parametrize("transform", SAME_SHAPE)
def test_every_transform_changes_more_when_stronger(transform: str) -> None:
    img = picture()
    for seed in range(3):  # the same draws at each strength, so only the strength differs
        diffs = [
            difference(photograph(img, transform, s, np.random.default_rng(seed)), img)
            for s in STRENGTHS.values()
        ]
        assert diffs[0] > 0.2, diffs
        assert diffs[0] < diffs[2], diffs
        assert diffs[0] <= diffs[1] * 1.05 and diffs[1] <= diffs[2] * 1.05, diffs


def test_wall_shrinks_the_picture_in_the_photo() -> None:
    img = flat(MAGENTA)
    for seed in range(3):
        shares = [
            is_magenta(photograph(img, "wall", s, np.random.default_rng(seed))).mean()
            for s in STRENGTHS.values()
        ]
        assert 0.5 < shares[0] < 0.9, shares  # about 85 % for the framed work, less the frame
        assert shares[2] < 0.4, shares  # about 35 %, less the frame
        assert shares[0] > shares[1] > shares[2], shares


def test_frame_adds_a_border_unlike_the_picture() -> None:
    img = flat(MAGENTA)
    for seed in range(5):
        photo = photograph(img, "frame", STRENGTHS["moderate"], np.random.default_rng(seed))
        magenta = is_magenta(photo)
        edge = np.concatenate(
            [magenta[:3].ravel(), magenta[-3:].ravel(), magenta[:, :3].ravel(), magenta[:, -3:].ravel()]
        )
        assert not edge.any()
        h, w = magenta.shape
        assert magenta[h // 2, w // 2] and 0.5 < magenta.mean() < 0.95
        frame = photo[:3].reshape(-1, 3).astype(float)
        assert frame.std(axis=0).max() > 1.0  # textured, not a flat colour


def test_combined_on_a_real_painting(shared_data: Path) -> None:
    path = sorted((shared_data / "aic-paintings" / "images").glob("*.jpg"))[0]
    img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    for name, s in STRENGTHS.items():
        photo = photograph(img, "combined", s, np.random.default_rng(11))
        assert photo.dtype == np.uint8 and abs(max(photo.shape[:2]) - max(img.shape[:2])) <= 1, name
        small = cv2.resize(img, (photo.shape[1], photo.shape[0]), interpolation=cv2.INTER_AREA)
        assert difference(photo, small) > 10, name


def test_unknown_transform_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown transform"):
        photograph(picture(), "fisheye", 0.5, np.random.default_rng(0))
