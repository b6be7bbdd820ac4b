"""The formal vector means visual style: tested on real paintings and on pictures made here."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from asterism.embed.featurize import ImageFeaturizer
from asterism.embed.formal import FormalLayout, dominant_colours, part_similarities, reweight, srgb_to_lab


def rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def paintings(shared_data: Path, count: int) -> list[Image.Image]:
    items = json.loads((shared_data / "aic-paintings/artworks.json").read_text())[:count]
    return [
        Image.open(shared_data / f"aic-paintings/images/{item['id']}.jpg").convert("RGB") for item in items
    ]


def test_vectors_are_unit_length_and_parts_recompose(featurizer: ImageFeaturizer) -> None:
    a, b = (rgb(Image.effect_mandelbrot((200, 150), (-2, -1, 1, 1), n)) for n in (40, 90))
    fa, fb = featurizer([a, b])
    assert abs(np.linalg.norm(fa.formal) - 1) < 1e-5
    parts = part_similarities(fa.formal, fb.formal, featurizer.layout)
    weights = featurizer.layout.weights
    assert float(fa.formal @ fb.formal) == pytest.approx(
        sum(w * parts[n] for w, n in zip(weights, parts, strict=True)), abs=1e-5
    )


def test_same_painting_at_other_sizes_is_the_nearest_neighbour(
    featurizer: ImageFeaturizer, shared_data: Path
) -> None:
    originals = paintings(shared_data, 40)
    copies = []
    for image in originals:
        small = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        small.save(buffer, "JPEG", quality=70)
        copies.append(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    base = np.stack([f.formal for f in featurizer([rgb(i) for i in originals])])
    queries = np.stack([f.formal for f in featurizer([rgb(i) for i in copies])])
    nearest = (queries @ base.T).argmax(axis=1)
    assert (nearest == np.arange(len(originals))).all()


def test_greyscale_copy_stays_formally_close_but_far_in_palette(
    featurizer: ImageFeaturizer, shared_data: Path
) -> None:
    originals = paintings(shared_data, 40)
    colourful = max(
        originals, key=lambda im: float(np.abs(srgb_to_lab(rgb(im.resize((64, 64))))[..., 1:]).mean())
    )
    grey = ImageOps.grayscale(colourful).convert("RGB")
    features = featurizer([rgb(colourful), rgb(grey), *[rgb(i) for i in originals if i is not colourful]])
    original, copy, others = features[0].formal, features[1].formal, [f.formal for f in features[2:]]
    parts = part_similarities(original, copy, featurizer.layout)
    # Close overall: nearer than any other painting in the set ...
    assert float(original @ copy) > max(float(original @ o) for o in others)
    # ... because composition holds, while the palette part falls well below it.
    assert parts["composition"] > 0.95
    assert parts["palette"] < parts["composition"] - 0.3
    other_palettes = [part_similarities(original, o, featurizer.layout)["palette"] for o in others]
    assert parts["palette"] < float(np.median(other_palettes))


def test_same_colours_other_layout_is_similar_in_palette_not_composition(featurizer: ImageFeaturizer) -> None:
    def stripes(vertical: bool) -> np.ndarray:
        image = Image.new("RGB", (240, 160), "#1d3f8a")
        draw = ImageDraw.Draw(image)
        for i in range(0, 240 if vertical else 160, 40):
            box = (i, 0, i + 20, 160) if vertical else (0, i, 240, i + 20)
            draw.rectangle(box, fill="#d9a21b")
        return rgb(image)

    a, b = featurizer([stripes(True), stripes(False)])
    parts = part_similarities(a.formal, b.formal, featurizer.layout)
    assert parts["palette"] > 0.95
    assert parts["composition"] < 0.5
    assert max(parts, key=lambda name: parts[name]) == "palette"


def test_dominant_colours_are_the_colours_in_the_picture() -> None:
    image = Image.new("RGB", (64, 64), "#c81e1e")
    ImageDraw.Draw(image).rectangle((0, 32, 64, 64), fill="#1e3cc8")
    colours = dominant_colours(srgb_to_lab(rgb(image)))
    assert len(colours) == 2
    hexes = {hex_ for hex_, _ in colours}
    decoded = [tuple(int(h[i : i + 2], 16) for i in (1, 3, 5)) for h in hexes]
    assert any(r > 150 and b < 80 for r, _, b in decoded)  # the red half
    assert any(b > 150 and r < 80 for r, _, b in decoded)  # the blue half
    assert sum(share for _, share in colours) == pytest.approx(1.0, abs=0.01)


def test_query_time_part_weights_reweigh_the_dot_product() -> None:
    """Stored parts are √w-scaled; a re-weighted query scores Σ w'_p · cos_p against them."""
    rng = np.random.default_rng(1)
    layout = FormalLayout(dims=(5, 4, 7), weights=(0.2, 0.3, 0.5))

    def stored() -> np.ndarray:
        parts = [rng.normal(size=d) for d in layout.dims]
        return np.concatenate(
            [np.sqrt(w) * p / np.linalg.norm(p) for p, w in zip(parts, layout.weights, strict=True)]
        )

    a, b = stored(), stored()
    cos = part_similarities(a, b, layout)
    wanted = (0.0, 0.25, 0.75)
    assert float(reweight(a, layout, wanted) @ b) == pytest.approx(
        0.25 * cos["composition"] + 0.75 * cos["texture"]
    )
    assert float(reweight(a, layout, layout.weights) @ b) == pytest.approx(float(a @ b), abs=1e-6)
