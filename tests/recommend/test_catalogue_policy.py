"""The catalogue judges every stored work by the license policy of now, from its verbatim statement.

Records here are what the store returns for works ingested earlier: an id,
a status decided at ingest, the verbatim statement and the id the parser of
that day gave it. The catalogue must not trust the old decision.
"""

from __future__ import annotations

from asterism.config import LicenseSettings
from asterism.recommend.catalogue import Catalogue
from asterism.shapes import Artwork, Status


def stored(
    artwork_id: int, license_text: str | None, license_id: str, status: Status = Status.ACTIVE
) -> Artwork:
    return Artwork(
        source="local", source_id=f"w{artwork_id}", id=artwork_id, license=license_text, license_id=license_id,
        status=status,
    )  # fmt: skip


def test_a_statement_misread_at_ingest_is_judged_by_what_it_says() -> None:
    works = [
        # Read as plain CC BY by the parser before ND was understood: active since.
        stored(1, "Creative Commons Attribution-No Derivative Works 3.0", "CC-BY"),
        stored(2, "CC BY 4.0", "CC-BY-4.0"),
        # The source's own flag (AIC's is_public_domain), worded by the source.
        stored(3, "Public domain (is_public_domain)", "public-domain"),
    ]
    catalogue = Catalogue(works, LicenseSettings())
    assert catalogue.ids.tolist() == [2, 3]
    assert "CC-BY-ND-3.0 is not allowed" in (catalogue.refusal(1) or "")
    assert catalogue.refusal("local:w1") == catalogue.refusal(1)
    assert catalogue.refusal(2) is None and catalogue.refusal(404) is None


def test_narrowing_unknown_and_families() -> None:
    works = [
        stored(1, "", "unknown"),  # served while license.allow_unknown was on
        stored(2, "CC BY-SA 2.0 fr", "CC-BY-SA-2.0-FR"),
        stored(3, "CC0", "CC0-1.0"),
    ]
    assert len(Catalogue(works, LicenseSettings(allow_unknown=True))) == 3
    narrowed = Catalogue(works, LicenseSettings(allowed=["CC0"], allow_unknown=False))
    assert narrowed.ids.tolist() == [3]
    assert "license unknown" in (narrowed.refusal(1) or "")
    assert "CC-BY-SA-2.0-FR" in (narrowed.refusal(2) or "")


def test_a_work_excluded_at_ingest_stays_withheld_with_a_way_forward() -> None:
    """Widening the policy cannot serve a work excluded at ingest: its picture was never fetched."""
    works = [stored(1, "CC BY-NC 4.0", "CC-BY-NC-4.0", Status.EXCLUDED)]
    narrow = Catalogue(works, LicenseSettings())
    assert len(narrow) == 0 and "CC-BY-NC-4.0 is not allowed" in (narrow.refusal(1) or "")
    wide = Catalogue(works, LicenseSettings(allowed=["CC-BY-NC"]))
    assert len(wide) == 0 and "ingest again" in (wide.refusal(1) or "")


def test_without_a_policy_the_stored_decision_stands() -> None:
    """Callers that pass no policy (evaluation over a fixed set) get exactly the active works."""
    works = [stored(1, "CC BY-NC 4.0", "CC-BY-NC-4.0"), stored(2, "x", "other", Status.EXCLUDED)]
    catalogue = Catalogue(works)
    assert catalogue.ids.tolist() == [1] and catalogue.withheld == {}
