"""Artist display strings: the forms AIC, the Met and Commons use."""

from __future__ import annotations

import pytest

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


# Real artist strings, read from /work/shared/data (paths relative to it), and what they mean:
# (display, name, qualifier, nationality, birth, death, aliases, notes).
Case = tuple[str, str, str | None, str | None, int | None, int | None, list[str], list[str]]
REAL: list[Case] = [
    # The issue's own example (not in the shared data): the parenthetical is another name, not a culture.
    ("Jacometto (Jacometto Veneziano)", "Jacometto", None, None, None, None, ["Jacometto Veneziano"], []),
    # aic-paintings/artworks.json
    ("Berthe Morisot (French, 1841–1895)", "Berthe Morisot", None, "French", 1841, 1895, [], []),
    ("El Greco (Doménikos Theotokópoulos; Greek, active in Spain, 1541–1614)",
     "El Greco", None, "Greek", 1541, 1614, ["Doménikos Theotokópoulos"], []),
    ("Fra Bartolommeo (Baccio della Porta; Italian, 1472-1517)",
     "Fra Bartolommeo", None, "Italian", 1472, 1517, ["Baccio della Porta"], []),
    ("Girolamo da Carpi (Girolamo Sellari; Italian, c. 1501–1556)",
     "Girolamo da Carpi", None, "Italian", 1501, 1556, ["Girolamo Sellari"], []),
    ("Jean Baptiste Belin I (Blin de Fontenay; French, 1653-1715)",
     "Jean Baptiste Belin I", None, "French", 1653, 1715, ["Blin de Fontenay"], []),
    ("Jean Hey (Master of Moulins; Netherlandish, active in France, c. 1480-c.1504)",
     "Jean Hey", None, "Netherlandish", 1480, 1504, ["Master of Moulins"], []),
    ("August (Ágost) Canzi (Austrian, 1808-1866)", "August Canzi", None, "Austrian", 1808, 1866, ["Ágost Canzi"], []),
    ("Félix Edouard Vallotton (French, born Switzerland, 1865–1925)",
     "Félix Edouard Vallotton", None, "French", 1865, 1925, [], []),
    ("Hans Memling (Netherlandish, c. 1430–1494)", "Hans Memling", None, "Netherlandish", 1430, 1494, [], []),
    ("Salomon van Ruysdael (Dutch, about 1602–1670)", "Salomon van Ruysdael", None, "Dutch", 1602, 1670, [], []),
    ("Carlo Crivelli (Italian, 1430/35–before 1495)", "Carlo Crivelli", None, "Italian", 1430, 1495, [], []),
    ("James Forbes (Scottish, 1800–after 1870)", "James Forbes", None, "Scottish", 1800, 1870, [], []),
    ("Andrea Vaccaro (Italian, 1598/1604-1670)", "Andrea Vaccaro", None, "Italian", 1598, 1670, [], []),
    ("Attributed to Raffaello Botticini (Italian, 1477–c.1520)",
     "Raffaello Botticini", "attributed to", "Italian", 1477, 1520, [], []),
    ("Attributed to Martin Schaffner (German, 1477/78–1546/49)",
     "Martin Schaffner", "attributed to", "German", 1477, 1546, [], []),
    ("Bartolomeo di Giovanni (Italian, active c. 1465-1501)", "Bartolomeo di Giovanni", None, "Italian", None, None, [], []),
    ("Martín de Soria (Spanish, active 1449–87)", "Martín de Soria", None, "Spanish", None, None, [], []),
    ("Bernat Martorell (Spanish, active from 1427–died 1452)", "Bernat Martorell", None, "Spanish", None, 1452, [], []),
    ("Vergós Workshop (Spanish, documented 1439–1503)", "Vergós Workshop", None, "Spanish", None, None, [], []),
    ("Master of Pulkau (Bavarian or Austrian, active c. 1505–1520)",
     "Master of Pulkau", None, "Bavarian or Austrian", None, None, [], []),
    ("Monogrammist PG (Germany, active c. 1525–50)", "Monogrammist PG", None, "Germany", None, None, [], []),
    ("Master Alejo (active Spain, c. 1485–1516)", "Master Alejo", None, None, None, None, [], []),
    ("Master of the Worcester Carrying of the Cross (active c. 1400–c. 1450)",
     "Master of the Worcester Carrying of the Cross", None, None, None, None, [], []),
    ("Artist unknown (French, 19th century)", "Artist unknown", None, "French", None, None, [], []),
    ("Follower of the Master of Saint Veronica (German, active c. 1395–1420)",
     "the Master of Saint Veronica", "follower of", "German", None, None, [], []),
    ("School of Johann Liss, the younger (German, c. 1597-1631)",
     "Johann Liss, the younger", "school of", "German", 1597, 1631, [], []),
    ("Joos de Momper, II (Flemish, 1564-1635)", "Joos de Momper, II", None, "Flemish", 1564, 1635, [], []),
    ("Paul Sérusier  (French, 1864–1927)", "Paul Sérusier", None, "French", 1864, 1927, [], []),
    ("After Jacobo Bassano (Italian, c. 1510-1592)", "Jacobo Bassano", "after", "Italian", 1510, 1592, [], []),
    ("Workshop of Apollonio di Giovanni (Italian, 1415/17-1465)\nMarco del Buono Giamberti (Italian, 1403-1489)",
     "Apollonio di Giovanni", "workshop of", "Italian", 1415, 1465, [], []),
    ("Jacob Cornelisz. van Oostsanen (Netherlandish, c. 1470/75–by 1533)\n"
     "or Workshop of Jacob Cornelisz. van Oostsanen (Netherlandish, c. 1470/75–by 1533)",
     "Jacob Cornelisz. van Oostsanen", None, "Netherlandish", 1470, 1533, [], []),
    # public-art/records.jsonl
    ("Sakai Hōitsu (Japanese, 1761–1828)", "Sakai Hōitsu", None, "Japanese", 1761, 1828, [], []),
    ("Hans van Coninxloo (I)", "Hans van Coninxloo", None, None, None, None, [], ["I"]),
    ("Ernst van Schayck (II)", "Ernst van Schayck", None, None, None, None, [], ["II"]),
    ("Master of 1486-1487", "Master of 1486-1487", None, None, None, None, [], []),
    ("Ruth Hart (American, active c. 1845–1850)\nGuilford, Connecticut, United States",
     "Ruth Hart", None, "American", None, None, [], []),
    ("Hannah Johnson (American, 1770–1848)\nPossibly Bozrah, New London County, Connecticut, United States",
     "Hannah Johnson", None, "American", 1770, 1848, [], []),
    ("Artist unknown (American, 17th–18th century)\nNew York area", "Artist unknown", None, "American", None, None, [], []),
    ("Attributed to Richard Hicks Bridgens\nEnglish, 1785-1846\nMade by Edward Holmes Baldock\nEnglish, 1777-1845\n"
     "London, England", "Richard Hicks Bridgens", "attributed to", "English", 1785, 1846, [], []),
    ("After a design by Justus van Egmont (Flemish, 1601–1674)\n"
     "Woven at the workshop of Willem van Leefdael (Netherlandish, 1632–1688)\nBrussels",
     "Justus van Egmont", "after a design by", "Flemish", 1601, 1674, [], []),
    # public-art/README.md (the artist field "as the source spells it")
    ("Rembrandt (Rembrandt van Rijn)", "Rembrandt", None, None, None, None, ["Rembrandt van Rijn"], []),
    # aic-objects/metadata.csv
    ("Ancient Greek", "Ancient Greek", None, None, None, None, [], []),
    ("Follower of Frans Hals", "Frans Hals", "follower of", None, None, None, [], []),
    ("Israhel van Meckenem, the younger", "Israhel van Meckenem, the younger", None, None, None, None, [], []),
    # api-recordings/aic/artworks/20.json, 9.json, 25.json, 19.json
    ("Charles Meryon\nFrench, 1821-1868", "Charles Meryon", None, "French", 1821, 1868, [], []),
    ("David Dalhoff Neal\nAmerican, 1838\u20131915", "David Dalhoff Neal", None, "American", 1838, 1915, [], []),
    ("Lucas Emil Vorsterman (Flemish, 1595-1675)\nafter Jan Lievens (Dutch, 1607-1674)",
     "Lucas Emil Vorsterman", None, "Flemish", 1595, 1675, [], []),
    ("Giovanni Battista Piranesi (Italian, 1720-1778)\n"
     "published by Francesco (Italian, 1758-1810) and Pietro Piranesi (Italian, born 1758/9)",
     "Giovanni Battista Piranesi", None, "Italian", 1720, 1778, [], []),
    # api-recordings/met/MetMuseum_object_for_a_known_object_id_…yml: artistDisplayName + " (" +
    # artistDisplayBio + ")", as asterism.sources.met builds artist_display
    ("Vincent van Gogh (Dutch, Zundert 1853–1890 Auvers-sur-Oise)", "Vincent van Gogh", None, "Dutch", 1853, 1890, [], []),
    # api-recordings/commons/fileinfo.har (extmetadata Artist)
    ("Rama & Musée Bolo", "Rama & Musée Bolo", None, None, None, None, [], []),
    # iiif/v3-manifest-cookbook-0032-gulf-stream.json, v2-manifest-smithsonian-npg-michelle-obama.json
    ("Winslow Homer (1836–1910)", "Winslow Homer", None, None, 1836, 1910, [], []),
    ("Amy Sherald, born 1973", "Amy Sherald", None, None, 1973, None, [], []),
    # knowledge/PainterPalette.csv
    ("Il Sassetta (Stefano di Giovanni)", "Il Sassetta", None, None, None, None, ["Stefano di Giovanni"], []),
    ("Giovanni (Nino) Costa", "Giovanni Costa", None, None, None, None, ["Nino Costa"], []),
    ("Petro Kholodny (Elder)", "Petro Kholodny", None, None, None, None, [], ["Elder"]),
    ("George Inness (1825-1894)", "George Inness", None, None, 1825, 1894, [], []),
]  # fmt: skip


@pytest.mark.parametrize("case", REAL, ids=[c[0].split("\n")[0][:50] for c in REAL])
def test_real_artist_strings(case: Case) -> None:
    display, name, qualifier, nationality, birth, death, aliases, notes = case
    info = parse_artist(display)
    assert (info.name, info.qualifier, info.nationality, info.birth_year, info.death_year) == (
        name,
        qualifier,
        nationality,
        birth,
        death,
    )
    assert (info.aliases, info.notes) == (aliases, notes)
    assert info.display == display


def test_real_strings_cover_enough_sources() -> None:
    assert len(REAL) >= 30
    assert sum(bool("(" in c[0] and c[6]) for c in REAL) >= 8  # parentheticals that are other names


def test_alias_never_becomes_a_culture() -> None:
    info = parse_artist("Jacometto (Jacometto Veneziano)")
    assert info.nationality is None and info.aliases == ["Jacometto Veneziano"]
    assert artist_key("Jacometto (Jacometto Veneziano)") == "jacometto"
    assert artist_key("Rembrandt (Rembrandt van Rijn)") == artist_key("Rembrandt")


def test_forms_of_names_and_nationalities() -> None:
    """Forms museums use that the shared data happens not to hold (constructed, not recorded)."""
    guercino = parse_artist("Guercino (Giovanni Francesco Barbieri, called Il Guercino)")
    assert guercino.name == "Guercino" and guercino.nationality is None
    assert guercino.aliases == ["Giovanni Francesco Barbieri", "Il Guercino"]
    assert parse_artist("Guercino (called Il Guercino)\nItalian, 1591–1666").aliases == ["Il Guercino"]
    assert parse_bio("Flemish ?") == ("Flemish", None, None)
    assert parse_bio("French and American") == ("French and American", None, None)
    assert parse_bio("American, born Germany, 1900–1980") == ("American", 1900, 1980)
    assert parse_bio("Japanese, 1760–1849") == ("Japanese", 1760, 1849)
    assert parse_bio("Ancient Greek") == ("Ancient Greek", None, None)
    assert parse_bio("Greek, 545–530 BCE") == ("Greek", -545, -530)
    assert parse_bio("Dutch, active 1620s") == ("Dutch", None, None)
    assert parse_bio("Italian, died 1600") == ("Italian", None, 1600)
    assert parse_bio("Guilford, Connecticut, United States") == (None, None, None)
    for unknown in ("possibly", "?", "active in Rome", "codirectors, 1711–22"):
        info = parse_artist(f"Some Painter ({unknown})")
        assert (info.name, info.nationality, info.aliases, info.notes) == (
            "Some Painter",
            None,
            [],
            [unknown],
        )
