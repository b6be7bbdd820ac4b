"""License normalisation, the serving policy and the attribution line."""

from __future__ import annotations

import pytest

from asterism.normalize.licenses import attribution, is_servable, license_family, normalize_license

ALLOWED = ["public-domain", "CC0", "CC-BY", "CC-BY-SA"]


@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        ("CC0", None, "CC0-1.0"),
        ("Public domain", None, "public-domain"),
        ("PD-old-100", None, "public-domain"),
        ("CC BY-SA 3.0", None, "CC-BY-SA-3.0"),
        ("CC BY-SA 2.0 fr", None, "CC-BY-SA-2.0-FR"),
        ("Creative Commons Attribution-Share Alike 4.0", None, "CC-BY-SA-4.0"),
        ("CC BY 2.5", None, "CC-BY-2.5"),
        ("CC BY-NC 4.0", None, "CC-BY-NC-4.0"),
        ("Creative Commons Attribution-NonCommercial-NoDerivs 3.0", None, "CC-BY-NC-ND-3.0"),
        ("whatever", "https://creativecommons.org/licenses/by-sa/2.0/fr/", "CC-BY-SA-2.0-FR"),
        ("whatever", "https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
        ("Not public domain (isPublicDomain=false)", None, "other"),
        ("© 2001 the artist, all rights reserved", None, "other"),
        ("unknown", None, "unknown"),
        ("", None, "unknown"),
    ],
)
def test_normalize(text: str, url: str | None, expected: str) -> None:
    assert normalize_license(text, url) == expected


def test_policy_keeps_permissive_and_explains_the_rest() -> None:
    for license_id in ("public-domain", "CC0-1.0", "CC-BY-4.0", "CC-BY-SA-2.0-FR"):
        assert is_servable(license_id, ALLOWED) == (True, None)
    ok, reason = is_servable("CC-BY-NC-4.0", ALLOWED)
    assert not ok and reason is not None and "CC-BY-NC" in reason
    ok, reason = is_servable("unknown", ALLOWED)
    assert not ok and reason is not None and "license unknown" in reason
    assert is_servable("unknown", ALLOWED, allow_unknown=True) == (True, None)
    assert license_family("CC-BY-NC-ND-3.0") == "CC-BY-NC-ND"


def test_attribution_line() -> None:
    line = attribution("Claude Monet", "Water Lilies", "1906", "Art Institute of Chicago", "CC0-1.0")
    assert line == "Claude Monet – Water Lilies (1906) – Art Institute of Chicago – CC0 1.0"
    assert attribution(None, None, None, "My folder", "CC-BY-SA-3.0") == (
        "Unknown artist – Untitled – My folder – CC BY-SA 3.0"
    )
