"""Artist display strings: the forms AIC, the Met and Commons use."""

from __future__ import annotations

from asterism.normalize.artists import artist_key, parse_artist, parse_bio


def test_aic_display_string() -> None:
    info = parse_artist("Berthe Morisot (French, 1841–1895)")
    assert (info.name, info.nationality, info.birth_year, info.death_year) == (
        "Berthe Morisot",
        "French",
        1841,
        1895,
    )
    assert info.qualifier is None


def test_qualifier_is_split_off() -> None:
    info = parse_artist("Attributed to Anthony van Dyck (Flemish, 1599–1641)")
    assert info.name == "Anthony van Dyck"
    assert info.qualifier == "attributed to"
    assert info.nationality == "Flemish"


def test_two_line_style() -> None:
    info = parse_artist("Claude Monet\nFrench, 1840-1926")
    assert (info.name, info.nationality, info.birth_year, info.death_year) == (
        "Claude Monet",
        "French",
        1840,
        1926,
    )


def test_cultures_and_active_years() -> None:
    assert parse_artist("Ancient Greek").name == "Ancient Greek"
    workshop = parse_artist("Workshop of Hans Memling (Netherlandish, active 1465–1494)")
    assert workshop.name == "Hans Memling" and workshop.birth_year is None
    assert parse_bio("American, born 1950") == ("American", 1950, None)
    assert parse_artist("").name == ""


def test_artist_key_matches_spellings_of_one_person() -> None:
    assert artist_key("Monet, Claude") == artist_key("Claude Monet (French, 1840–1926)") == "claude monet"
    assert artist_key("Attributed to Édouard Manet") == artist_key("Edouard Manet")
    assert artist_key("Rembrandt van Rijn") != artist_key("Claude Monet")
