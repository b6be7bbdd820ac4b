"""Real license and rights statements, each with its normalised id and the default policy's decision.

Every row is a string as a source publishes it, with where it came from: a
recording under ``shared/data`` (named by its path there), or the page of the
URI or licence itself. The decision is what ``LicenseSettings()`` (public
domain, CC0, CC BY, CC BY-SA; unknown refused) does with that id: a row
failing here is a work served against its licence, or one withheld for nothing.
"""

from __future__ import annotations

import pytest

from asterism.config import LicenseSettings
from asterism.normalize.licenses import is_servable, license_label, normalize_license
from asterism.sources import aic, met

DEFAULT = LicenseSettings()
GERMAN_PD = (
    'Die <a href="//de.wikipedia.org/wiki/Regelschutzfrist" title="Regelschutzfrist">Regelschutzfrist</a> für '
    "das von dieser Datei gezeigte Werk ist nach den Maßstäben des deutschen, österreichischen und "
    "schweizerischen Urheberrechts (70 Jahre nach dem Tod des Urhebers) vermutlich abgelaufen. Es ist daher "
    'vermutlich <b><a href="//de.wikipedia.org/wiki/Gemeinfreiheit" title="Gemeinfreiheit">gemeinfrei</a></b>.'
)
YCBA_IN_COPYRIGHT = (
    "In Copyright. Items in this collection are protected by copyright and/or related rights. . Copyright for "
    "some material in this collection is held by Yale University. While these materials may be used for "
    "non-commercial purposes without seeking permission from Yale University as the copyright holder, to "
    "verify the copyright status of individual items and reproduction of digital materials, please contact"
)
YCBA_METADATA = (
    "Metadata describing Yale Center for British Art collections is public domain under CC0. Copyright or other "
    "restrictions may apply to cultural works or images of those works in this record."
)
RS = "http://rightsstatements.org/vocab/{}/1.0/"  # each statement's page: https://rightsstatements.org/page/{}/1.0/

# (verbatim text, license URL given beside it or None, normalised id, served by the default policy)
TABLE: list[tuple[str | None, str | None, str, bool]] = [
    # --- Wikimedia Commons extmetadata, api-recordings/commons/attribution.har
    ("CC0", None, "CC0-1.0", True),  # LicenseShortName
    ("cc0", None, "CC0-1.0", True),  # License
    ("Creative Commons Zero, Public Domain Dedication", None, "CC0-1.0", True),  # UsageTerms
    ("CC0", "http://creativecommons.org/publicdomain/zero/1.0/deed.en", "CC0-1.0", True),  # + LicenseUrl
    ("True", None, "other", False),  # Copyrighted: a flag alone licenses nothing
    # --- api-recordings/commons/fileinfo.har and fileData-getFileData-.har
    ("CC BY-SA 3.0", None, "CC-BY-SA-3.0", True),
    ("cc-by-sa-3.0", None, "CC-BY-SA-3.0", True),
    ("Creative Commons Attribution-Share Alike 3.0", None, "CC-BY-SA-3.0", True),
    ("CC BY-SA 3.0", "https://creativecommons.org/licenses/by-sa/3.0", "CC-BY-SA-3.0", True),
    ("CC BY-SA 2.0 fr", None, "CC-BY-SA-2.0-FR", True),
    ("cc-by-sa-2.0-fr", None, "CC-BY-SA-2.0-FR", True),
    ("Creative Commons Attribution-Share Alike 2.0 fr", None, "CC-BY-SA-2.0-FR", True),
    # "deed.en" after the version is the deed's language, not a port ("de" would make it German)
    ("CC BY-SA 2.0 fr", "https://creativecommons.org/licenses/by-sa/2.0/fr/deed.en", "CC-BY-SA-2.0-FR", True),
    (
        "PD-alt-100",
        "//de.wikipedia.org/wiki/Datei:1_FC_Bamberg_-_1_FC_N%C3%BCrnberg_1901.jpg",
        "public-domain",
        True,
    ),
    (GERMAN_PD, None, "public-domain", True),  # UsageTerms of PD-alt-100, HTML and all
    # --- AIC: is_public_domain true in api-recordings/aic/artworks/*.json, as the AIC source words it
    (aic.PUBLIC_DOMAIN, None, "public-domain", True),
    (aic.NOT_PUBLIC, None, "other", False),
    (None, None, "unknown", False),  # copyright_notice: null (every recorded artwork)
    # AIC copyright_notice of works not in the public domain (api.artic.edu/api/v1/artworks responses)
    ("© The Art Institute of Chicago", None, "other", False),
    (
        "© 2018 The Arshile Gorky Foundation / The Artists Rights Society (ARS), New York",
        None,
        "other",
        False,
    ),
    # --- The Met: isPublicDomain true in api-recordings/met/*.yml, as the Met source words it
    (met.PUBLIC_DOMAIN, None, "public-domain", True),
    (met.NOT_PUBLIC, None, "other", False),
    ("", None, "unknown", False),  # rightsAndReproduction: "" in the recorded objects
    # --- the sample folders
    ("unknown", None, "unknown", False),  # aic-objects/metadata.csv, every row
    ("Public domain", None, "public-domain", True),  # public-art/records.jsonl, every record
    (
        "CC0 (public-domain work, Art Institute of Chicago open access)",
        None,
        "CC0-1.0",
        True,
    ),  # sources/samples.py
    # --- IIIF manifests in iiif/ (license / rights / requiredStatement / metadata)
    ("http://creativecommons.org/licenses/by-nc-sa/4.0/deed.de", None, "CC-BY-NC-SA-4.0", False),  # BSB
    (RS.format("NoC-US"), None, "RS-NoC-US", False),  # Getty van Dyck, canvas license
    ("https://creativecommons.org/licenses/by-sa/4.0/", None, "CC-BY-SA-4.0", True),  # Ghent poster
    (
        '<a href="https://creativecommons.org/publicdomain/mark/1.0/">'
        "https://creativecommons.org/publicdomain/mark/1.0/</a>",
        None,
        "public-domain",
        True,
    ),  # NLW: an HTML string, not a URI
    ("https://www.si.edu/termsofuse", None, "other", False),  # Smithsonian: a terms-of-use page
    ("http://creativecommons.org/licenses/by-nc/4.0/", None, "CC-BY-NC-4.0", False),  # Wellcome, e-codices
    ("http://creativecommons.org/publicdomain/mark/1.0/", None, "public-domain", True),  # Europeana license
    (
        "Uusi Aura, nr: 274A - 1909-11-26 - https://www.europeana.eu/portal/record/9200301/"
        "BibliographicResource_3000126341277.html. National Library of Finland. Public Domain Mark - "
        "http://creativecommons.org/publicdomain/mark/1.0/",
        None,
        "public-domain",
        True,
    ),  # Europeana attribution
    ("https://creativecommons.org/publicdomain/zero/1.0/", None, "CC0-1.0", True),  # YCBA Turner, rights
    (
        "No Copyright: You can copy, modify, distribute and perform the work, even for commercial purposes, "
        "all without asking permission. (CC0 1.0)",
        None,
        "CC0-1.0",
        True,
    ),  # YCBA Turner, canvas "Image Use Rights"
    ("Public Domain", None, "public-domain", True),  # YCBA Turner, "Copyright Statement"
    (YCBA_METADATA, None, "other", False),  # YCBA: CC0 is for the metadata; images "may" be restricted
    ("http://creativecommons.org/licenses/by/4.0", None, "CC-BY-4.0", True),  # Kranenburgh (LDmax), no slash
    (
        '<span>Terms of use: <a href="https://creativecommons.org/licenses/by-nc/4.0/">CC-BY-NC 4.0</a>. For more '
        'information, please see <a href="https://digital.bodleian.ox.ac.uk/terms/">'
        "https://digital.bodleian.ox.ac.uk/terms/</a></span>",
        None,
        "CC-BY-NC-4.0",
        False,
    ),  # Bodleian requiredStatement
    ("Photo: © Bodleian Libraries, University of Oxford", None, "other", False),  # Bodleian "Access Rights"
    (YCBA_IN_COPYRIGHT, None, "RS-InC", False),  # YCBA archives, "Copyright Statement"
    # --- RightsStatements.org URIs (https://rightsstatements.org/page/1.0/)
    (RS.format("InC"), None, "RS-InC", False),
    (RS.format("InC-OW-EU"), None, "RS-InC-OW-EU", False),
    (RS.format("InC-EDU"), None, "RS-InC-EDU", False),
    (RS.format("InC-NC"), None, "RS-InC-NC", False),
    (RS.format("InC-RUU"), None, "RS-InC-RUU", False),
    (RS.format("NoC-CR"), None, "RS-NoC-CR", False),
    (RS.format("NoC-NC"), None, "RS-NoC-NC", False),
    (RS.format("NoC-OKLR"), None, "RS-NoC-OKLR", False),
    ("http://rightsstatements.org/page/NoC-US/1.0/?language=en", None, "RS-NoC-US", False),  # the page form
    (RS.format("CNE"), None, "unknown", False),  # Copyright Not Evaluated: unknown, as allow_unknown means
    (RS.format("UND"), None, "unknown", False),
    (RS.format("NKC"), None, "RS-NKC", False),
    ("In Copyright - Educational Use Permitted", None, "RS-InC-EDU", False),  # the statements' English labels
    ("No Copyright - Non-Commercial Use Only", None, "RS-NoC-NC", False),
    ("Copyright Not Evaluated", None, "unknown", False),
    ("No Known Copyright", None, "RS-NKC", False),
    # --- Creative Commons licence URIs and deed titles (each URI's own page at creativecommons.org)
    ("https://creativecommons.org/licenses/by-nd/4.0/", None, "CC-BY-ND-4.0", False),
    ("https://creativecommons.org/licenses/by-nc-nd/4.0/legalcode", None, "CC-BY-NC-ND-4.0", False),
    ("https://creativecommons.org/licenses/by/3.0/de/", None, "CC-BY-3.0-DE", True),
    ("https://creativecommons.org/licenses/by-sa/3.0/deed.en", None, "CC-BY-SA-3.0", True),
    ("https://creativecommons.org/licenses/by-nd-nc/1.0/", None, "CC-BY-NC-ND-1.0", False),  # 1.0's order
    ("https://creativecommons.org/licenses/by-nc/2.0/fr/", None, "CC-BY-NC-2.0-FR", False),
    ("Attribution-NoDerivatives 4.0 International", None, "CC-BY-ND-4.0", False),  # licenses/by-nd/4.0/
    ("Creative Commons Attribution-NoDerivs 3.0 Unported License", None, "CC-BY-ND-3.0", False),
    (
        "Creative Commons Attribution-No Derivative Works 3.0",
        None,
        "CC-BY-ND-3.0",
        False,
    ),  # was read as CC BY
    (
        "Creative Commons Attribution-Noncommercial-No Derivative Works 3.0 United States License",
        None,
        "CC-BY-NC-ND-3.0",
        False,
    ),  # licenses/by-nc-nd/3.0/us/
    ("Attribution-NonCommercial-ShareAlike 4.0 International", None, "CC-BY-NC-SA-4.0", False),
    ("CC BY-ND 4.0", None, "CC-BY-ND-4.0", False),
    ("CC BY-NC 4.0", None, "CC-BY-NC-4.0", False),
    ("CC BY-NC-SA 2.0", None, "CC-BY-NC-SA-2.0", False),
    ("CC BY 4.0", None, "CC-BY-4.0", True),
    ("CC BY-SA 3.0 de", None, "CC-BY-SA-3.0-DE", True),  # licenses/by-sa/3.0/de/
    # --- Flickr's licence names (flickr.photos.licenses.getInfo: www.flickr.com/services/api/)
    ("All Rights Reserved", None, "other", False),
    (
        "Attribution-NonCommercial-ShareAlike License",
        "http://creativecommons.org/licenses/by-nc-sa/2.0/",
        "CC-BY-NC-SA-2.0",
        False,
    ),
    ("Attribution-NoDerivs License", None, "CC-BY-ND", False),
    ("Attribution License", None, "CC-BY", True),
    ("No known copyright restrictions", "http://flickr.com/commons/usage/", "RS-NKC", False),
    ("United States Government Work", "http://www.usa.gov/copyright.shtml", "RS-NoC-US", False),
    # --- Commons' GFDL tag (commons.wikimedia.org/wiki/Template:GFDL)
    ("GFDL", None, "GFDL", False),
]


@pytest.mark.parametrize(("text", "url", "license_id", "served"), TABLE)
def test_statement(text: str | None, url: str | None, license_id: str, served: bool) -> None:
    assert normalize_license(text, url) == license_id
    ok, reason = is_servable(license_id, DEFAULT.allowed, allow_unknown=DEFAULT.allow_unknown)
    assert ok is served
    assert (reason is None) is served
    assert license_label(license_id, text).strip()


def test_table_is_big_and_varied() -> None:
    assert len(TABLE) >= 60
    assert len({row[2] for row in TABLE}) >= 30


@pytest.mark.parametrize(
    ("text", "url", "license_id", "served"), [r for r in TABLE if "NC" in r[2] or "ND" in r[2]]
)
def test_no_nc_or_nd_passes_a_policy_of_free_licences(
    text: str | None, url: str | None, license_id: str, served: bool
) -> None:
    """CC BY / BY-SA allowed, every family spelled in any case: still no NC or ND statement passes."""
    allowed = ["public-domain", "cc0", "cc-by", "CC-BY-SA", "CC-BY-SA-4.0"]
    assert not served
    assert is_servable(normalize_license(text, url), allowed) == (
        False,
        f"license {license_id} is not allowed for serving (allowed: {', '.join(allowed)})",
    )


def test_allow_unknown_serves_not_evaluated_but_nothing_restricted() -> None:
    for uri, ok in ((RS.format("CNE"), True), (RS.format("UND"), True), (RS.format("InC"), False)):
        assert is_servable(normalize_license(uri), DEFAULT.allowed, allow_unknown=True)[0] is ok


def test_a_rights_statement_is_served_once_listed() -> None:
    allowed = [*DEFAULT.allowed, "RS-NoC-US", "RS-NKC"]
    assert is_servable(normalize_license(RS.format("NoC-US")), allowed) == (True, None)
    assert is_servable(normalize_license("No known copyright restrictions"), allowed) == (True, None)
    assert license_label("RS-NoC-US") == "No Copyright - United States"
