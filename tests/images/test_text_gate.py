"""The text gate passes pictures with lines of writing and skips paintings and flat pictures."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from asterism.images.text_gate import GATE_SIDE, gate_input, has_text, text_lines

import imagegen


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


@pytest.mark.parametrize(
    "words", ["HARBOUR BOATS EXHIBITION 1874", "Portrait of a Lady in a Garden", "gift of the estate"]
)
def test_dark_words_on_a_light_ground_pass(words: str) -> None:
    found = text_lines(opened(imagegen.text_image(words)))
    assert found.found and found.chars >= 5


def test_light_words_on_a_dark_ground_pass() -> None:
    assert has_text(ImageOps.invert(opened(imagegen.text_image("EVENING ON THE RIVER"))))


def test_a_caption_under_a_picture_passes() -> None:
    """A print: the picture, then a line of small type in the margin under it."""
    picture = imagegen.picture(7, (480, 360))
    sheet = Image.new("RGB", (480, 400), (245, 242, 235))
    sheet.paste(picture, (0, 0))
    font = ImageFont.load_default(size=16)
    ImageDraw.Draw(sheet).text((30, 372), "The Harbour at Dawn, etching, 1874", fill=(30, 30, 30), font=font)
    assert has_text(sheet)
    assert not has_text(picture)  # the same picture without its caption


@pytest.mark.parametrize("seed", range(8))
def test_generated_paintings_are_skipped(seed: int) -> None:
    assert not has_text(imagegen.picture(seed, (640, 480)))


@pytest.mark.parametrize(
    "picture",
    [
        Image.new("RGB", (800, 600), (120, 80, 40)),
        Image.new("L", (300, 300), 255),
        Image.fromarray(np.tile(np.linspace(0, 255, 640, dtype=np.uint8), (480, 1))),
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (480, 640), dtype=np.uint8)),
        Image.new("RGB", (6, 4), "white"),
    ],
    ids=["flat", "white", "gradient", "noise", "tiny"],
)
def test_flat_and_featureless_pictures_are_skipped(picture: Image.Image) -> None:
    assert not has_text(picture)


def test_sample_paintings_without_text_are_mostly_skipped(shared_data: Path) -> None:
    """Real paintings (the first 40 of the AIC sample): the gate must skip most, at a few ms each."""
    paths = sorted((shared_data / "aic-paintings" / "images").glob("*.jpg"))[:40]
    pictures = [opened(p.read_bytes()) for p in paths]
    started = time.perf_counter()
    passed = sum(has_text(p) for p in pictures)
    per_image = (time.perf_counter() - started) / len(pictures)
    assert passed <= len(pictures) // 4, f"{passed} of {len(pictures)} paintings passed the gate"
    assert per_image < 0.1  # ~10 ms on one loaded core; Tesseract takes 300-2000 ms


def test_the_gate_looks_at_a_bounded_copy() -> None:
    big = Image.new("RGB", (6000, 1500), "white")
    assert max(gate_input(big).shape) == GATE_SIDE
    small = Image.new("RGB", (300, 200), "white")
    assert gate_input(small).shape == (200, 300)  # never enlarged
