"""Facts drawn beside the reasons (swatches, layouts, dates) agree with the phrases and the data."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from asterism.embed.base import Affinity
from asterism.embed.formal import LUMA_GRID, analyse, assemble, layout_for, part_similarities
from asterism.embed.historical import InferredHistory
from asterism.normalize.dates import date_midpoint
from asterism.recommend import figures as figures_module
from asterism.recommend.explain import Side, formal_reasons, historical_reasons
from asterism.recommend.figures import dates, figures, layouts, lightness_grid, span
from asterism.recommend.query import Query
from asterism.recommend.service import Service
from asterism.shapes import Artwork, Recommendation, RecommendationPage

PAIR = re.compile(r"(#[0-9a-f]{6})~(#[0-9a-f]{6})")


def monet(service: Service) -> int:
    works = sorted(service.catalogue.records.values(), key=lambda a: a.id or 0)
    return next(a.id for a in works if a.artist_name == "Claude Monet" and a.id is not None)


def colour_phrase(item: Recommendation) -> str | None:
    return next((r for r in item.formal.reasons if r.startswith("shared colours")), None)


def composition_value(item: Recommendation) -> float | None:
    for reason in item.formal.reasons:
        found = re.search(r"similar composition \(([-\d.]+)\)", reason)
        if found:
            return float(found.group(1))
    return None


def assert_consistent(page: RecommendationPage) -> dict[str, int]:
    """Every figure of every result agrees with its phrase; counts of what was really checked."""
    checked = {"colours": 0, "no colours": 0, "composition": 0, "gaps": 0}
    for item in page.results:
        assert item.conceptual.colours is None and item.conceptual.layouts is None
        assert item.conceptual.dates is None and item.formal.dates is None
        assert item.historical.colours is None and item.historical.layouts is None
        phrase = colour_phrase(item)
        if phrase is None:
            assert item.formal.colours is None
            checked["no colours"] += 1
        else:
            assert item.formal.colours is not None
            assert [(c.start_hex, c.result_hex) for c in item.formal.colours] == PAIR.findall(phrase)
            for colour in item.formal.colours:
                assert colour.name in phrase and 0 < colour.start_share <= 1 and 0 < colour.result_share <= 1
            checked["colours"] += 1
        drawn = item.formal.layouts
        assert drawn is not None
        for grid in (drawn.start, drawn.result):
            assert len(grid) == LUMA_GRID and all(len(row) == LUMA_GRID for row in grid)
            assert all(0.0 <= v <= 1.0 for row in grid for v in row)
        value = composition_value(item)
        if value is not None:
            assert f"{drawn.similarity:.2f}" == f"{value:.2f}"
            checked["composition"] += 1
        for reason in item.historical.reasons:
            said = 0 if reason == "same year" else None
            if m := re.match(r"dated (\d+) years apart", reason):
                said = int(m.group(1))
            if said is not None:
                assert item.historical.dates is not None and item.historical.dates.gap == said
                checked["gaps"] += 1
    return checked


def test_figures_by_id_match_the_phrases_and_the_records(service: Service) -> None:
    start_id = monet(service)
    start = service.catalogue.get(start_id)
    assert start is not None and start.image is not None
    page = service.recommend(Query(artwork_id=start_id, k=30))
    checked = assert_consistent(page)
    assert checked["colours"] > 0 and checked["gaps"] > 0  # the checks above really ran

    features = service.database.features
    start_palette = dict(features.image_features([start.image.sha256])[start.image.sha256].palette)
    first_layout = page.results[0].formal.layouts
    assert first_layout is not None
    start_formal = service.searcher.vector(Affinity.FORMAL, start_id)
    assert start_formal is not None
    assert first_layout.start == lightness_grid(start_formal, service.layout)  # read once for the page
    for item in page.results:
        assert item.formal.layouts is not None and item.formal.layouts.start == first_layout.start
        assert item.artwork.id is not None
        stored = service.searcher.vector(Affinity.FORMAL, item.artwork.id)
        assert stored is not None and item.formal.layouts.result == lightness_grid(stored, service.layout)
        parts = part_similarities(start_formal, stored, service.layout)
        assert item.formal.layouts.similarity == round(parts["composition"], 4)
        assert item.artwork.image is not None
        palette = dict(
            features.image_features([item.artwork.image.sha256])[item.artwork.image.sha256].palette
        )
        for colour in item.formal.colours or []:  # shares are the palettes' own, not invented
            assert colour.start_share == round(start_palette[colour.start_hex], 4)
            assert colour.result_share == round(palette[colour.result_hex], 4)
        shown = item.historical.dates
        assert shown is not None and shown.start is not None and not shown.start.inferred
        assert (shown.start.start, shown.start.end) == (start.date_start, start.date_end)
        art = item.artwork
        if art.date_start is None and art.date_end is None:
            assert shown.result is None and shown.gap is None
        else:
            assert shown.result is not None and shown.gap is not None
            assert shown.result.start == min(y for y in (art.date_start, art.date_end) if y is not None)
            a, b = (
                date_midpoint(start.date_start, start.date_end),
                date_midpoint(art.date_start, art.date_end),
            )
            assert a is not None and b is not None and shown.gap == round(abs(a - b))


def test_the_starts_grid_is_computed_once_a_page(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every result draws the start's grid beside its own: computed per result, it was a third of
    the figures' cost. A counting wrapper (the real function underneath) tells how often the
    start's vector is read into a grid for one page: once, not once per result."""
    start_id = monet(service)
    start_formal = service.searcher.vector(Affinity.FORMAL, start_id)
    assert start_formal is not None
    calls: list[bool] = []

    def counted(formal: np.ndarray, layout: object) -> list[list[float]] | None:
        calls.append(bool(np.array_equal(formal, start_formal)))
        return lightness_grid(formal, layout)  # type: ignore[arg-type]

    monkeypatch.setattr(figures_module, "lightness_grid", counted)
    page = service.recommend(Query(artwork_id=start_id, k=12))
    assert len(page.results) > 3 and all(item.formal.layouts is not None for item in page.results)
    assert sum(calls) == 1 and len(calls) == 1 + len(page.results)


def test_the_drawn_layout_is_the_pictures_light_and_dark(service: Service) -> None:
    """The start's grid is its picture's 12×12 lightness: its lightest cell is light in the picture."""
    start_id = monet(service)
    start = service.catalogue.get(start_id)
    assert start is not None
    page = service.recommend(Query(artwork_id=start_id, k=3))
    drawn = page.results[0].formal.layouts
    assert drawn is not None
    with Image.open(service.picture(start)) as im:
        lab_light = analyse(np.asarray(im.convert("RGB"))).lab[..., 0]
    cells = lab_light[:60, :60].reshape(LUMA_GRID, 5, LUMA_GRID, 5).mean(axis=(1, 3))
    grid = np.asarray(drawn.start)
    # Same order of cells from dark to light (up to the clipping at ±2 standard deviations).
    inside = (grid > 0.0) & (grid < 1.0)
    assert inside.sum() > 100
    correlation = np.corrcoef(grid[inside], cells[inside])[0, 1]
    assert correlation > 0.95, correlation


def test_figures_of_an_upload_come_from_the_picture_and_its_inferred_period(service: Service) -> None:
    start = service.catalogue.get(monet(service))
    assert start is not None and start.image is not None
    original = Image.open(service.settings.paths.file(start.image.path)).convert("RGB")
    buffer = io.BytesIO()
    original.resize((original.width // 2, original.height // 2)).save(buffer, "JPEG", quality=80)
    page = service.recommend(Query(image=buffer.getvalue(), k=20, recognise=False))
    assert page.start_id is None and page.inferred_history
    checked = assert_consistent(page)
    assert checked["colours"] > 0
    period = re.search(r"(-?\d+)–(-?\d+) \(inferred\)", page.inferred_history)
    assert period is not None
    for item in page.results:
        shown = item.historical.dates
        assert shown is not None and shown.start is not None and shown.start.inferred
        assert (shown.start.start, shown.start.end) == (int(period.group(1)), int(period.group(2)))


def side(artwork: Artwork | None = None, **facts: object) -> Side:
    return Side(artwork, **facts)  # type: ignore[arg-type]


def work(date_start: int | None, date_end: int | None) -> Artwork:
    return Artwork(source="local", source_id="x", title="x", date_start=date_start, date_end=date_end)


def test_dates_are_absent_when_unknown_and_an_upload_has_none_unless_inferred() -> None:
    dated, undated = side(work(1870, 1874)), side(work(None, None))
    assert dates(undated, undated) is None
    one_sided = dates(dated, undated)
    assert one_sided is not None and one_sided.result is None and one_sided.gap is None
    assert span(None, 1901) == span(1901, None) and span(1901, None) is not None
    both = dates(dated, side(work(1901, None)))
    assert both is not None and both.gap == 29  # midpoint 1872 to 1901, as "dated 29 years apart"
    assert "dated 29 years apart" in historical_reasons(dated, side(work(1901, None)), None)

    upload = side(None)
    assert dates(upload, dated) is not None and dates(upload, dated).start is None  # type: ignore[union-attr]
    guess = InferredHistory(np.zeros(4, np.float32), 1860, 1890, None, 0.0, None, confidence=0.6)
    inferred = dates(side(None, inferred=guess), dated)
    assert inferred is not None and inferred.start is not None and inferred.start.inferred
    assert (inferred.start.start, inferred.start.end, inferred.gap) == (1860, 1890, 3)
    unsure = InferredHistory(np.zeros(4, np.float32), 1860, 1890, None, 0.0, None, confidence=0.0)
    no_date = dates(side(None, inferred=unsure), dated)
    assert no_date is not None and no_date.start is None  # no confidence: no date drawn


def test_layouts_read_back_the_composition_part_and_only_when_there_is_one() -> None:
    light_left = np.zeros((96, 96, 3), np.uint8)
    light_left[:, :48] = 230
    tinted = light_left.copy()
    tinted[..., 1:] //= 3  # the same layout of light and dark in red: another palette
    parts = [analyse(light_left), analyse(tinted)]
    texture = np.random.default_rng(0).random((2, 16)).astype(np.float32)
    layout = layout_for(16)
    vectors = assemble(parts, texture, layout)
    grid = lightness_grid(vectors[0], layout)
    assert grid is not None
    assert all(row[0] > 0.7 and row[-1] < 0.3 for row in grid)  # light on the left, dark on the right
    drawn = layouts(side(formal=vectors[0]), side(formal=vectors[1]), layout)
    assert drawn is not None and drawn.start == grid
    said = formal_reasons(side(formal=vectors[0]), side(formal=vectors[1]), layout)
    assert any(f"composition ({drawn.similarity:.2f})" in r for r in said)

    no_composition = layout_for(16, (1.0, 0.0, 1.0))
    flat = assemble(parts, texture, no_composition)
    assert lightness_grid(flat[0], no_composition) is None  # built with weight 0: nothing to draw
    assert lightness_grid(np.ones(7, np.float32), layout) is None  # another model's vector
    assert layouts(side(formal=None), side(formal=vectors[1]), layout) is None
    assert figures(Affinity.CONCEPTUAL, side(), side(), layout) == {}


def test_swatches_are_the_phrase_pairs_with_their_shares() -> None:
    a = side(palette=[("#151610", 0.4), ("#c8b27a", 0.3), ("#ffffff", 0.05)])
    b = side(palette=[("#171717", 0.5), ("#cbb07c", 0.2), ("#2a4f9a", 0.3)])
    found = figures(Affinity.FORMAL, a, b, layout_for(16))["colours"]
    assert found is not None
    phrase = next(r for r in formal_reasons(a, b, layout_for(16)) if r.startswith("shared colours"))
    assert [(c.start_hex, c.result_hex) for c in found] == PAIR.findall(phrase)
    assert [(c.start_share, c.result_share) for c in found] == [(0.4, 0.5), (0.3, 0.2)]
    assert found[0].name == "black" and "black" in phrase
    assert figures(Affinity.FORMAL, a, side(palette=[("#2a4f9a", 1.0)]), layout_for(16))["colours"] is None
