"""Museum date strings to an integer year range.

Catalogues write dates for people, not machines: "c. 1505", "1870/80",
"1868–70", "16th century", "ca. 1525–1504 B.C.", "early 17th century",
"1855, reworked 1857–59", "1890s", "Date unknown". The historical affinity
needs numbers, so this module turns such text into ``(start, end)`` years
(negative for BCE) and widens circa dates by their uncertainty. Anything it
cannot read gives ``(None, None)`` rather than a guess.
"""

from __future__ import annotations

import re

CIRCA_SPREAD = 5  # "c. 1505" -> 1500..1510
DASHES = "\u2013\u2014\u2012\u2212-"

_CIRCA = re.compile(r"(?<![.\w])(?:c|ca|circa|approx|about|around)\b\.?\s*(?=-?\d)", re.I)
_CENTURY_SPAN = re.compile(
    r"(\d{1,2})(st|nd|rd|th)\s*[/\u2013\u2014-]\s*(?=\d{1,2}(?:st|nd|rd|th)[\s-]+century)", re.I
)
_ERA_BC = re.compile(r"\b(?:b\.?\s?c\.?(?:e\.?)?|bce)(?![a-z])", re.I)
_ERA_AD = re.compile(r"\b(?:a\.?\s?d\.?|c\.?e\.?)(?![a-z])", re.I)
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "twenty-first": 21,
}  # fmt: skip
_CENTURY = re.compile(
    r"(?P<part>early|mid|middle|late|first half of|second half of|1st half of|2nd half of|"
    r"first quarter of|last quarter of)?[\s-]*(?:the\s+)?"
    r"(?P<num>\d{1,2})(?:st|nd|rd|th)?[\s-]+(?:century|cent\.?|c\.)"
    r"(?:\s*(?P<era>b\.?\s?c\.?(?:e\.?)?|bce|a\.?d\.?|ce))?",
    re.I,
)
_MILLENNIUM = re.compile(
    r"(?P<num>\d)(?:st|nd|rd|th)[\s-]+millennium(?:\s*(?P<era>b\.?c\.?(?:e\.?)?|bce))?", re.I
)
_DECADE = re.compile(r"(?P<part>early|mid|late)?[\s-]*(?P<year>\d{3}0)\s?'?s\b", re.I)
_YEAR = r"-?\d{1,4}"
_RANGE = re.compile(
    rf"(?P<a>{_YEAR})\s*(?P<sep>[/{DASHES}]|\bto\b|\band\b)\s*(?:(?:c|ca|circa)\.?\s*)?(?P<b>\d{{1,4}})(?!\d)",
    re.I,
)
_SINGLE = re.compile(rf"(?<![\d])(?P<a>{_YEAR})(?![\d])")
_FLOAT_YEAR = re.compile(r"^\s*(-?\d{1,4})\.0+\s*$")


def _expand_short(first: int, second_text: str) -> int:
    """ "1870/80" -> 1880, "1868-70" -> 1870, "1605/10" -> 1610; longer ends stand as written."""
    second = int(second_text)
    digits = len(second_text)
    if first >= 0 and digits < len(str(first)):
        scale: int = 10**digits
        candidate = first - first % scale + second
        if candidate < first:
            candidate += scale
        return candidate
    return second


def _century_range(number: int, part: str | None, bce: bool) -> tuple[int, int]:
    start, end = (number - 1) * 100 + 1, number * 100
    part = (part or "").lower()
    if part == "early":
        end = start + 32
    elif part in ("mid", "middle"):
        start, end = start + 32, start + 66
    elif part == "late":
        start = start + 66
    elif part in ("first half of", "1st half of"):
        end = start + 49
    elif part in ("second half of", "2nd half of"):
        start = start + 50
    elif part == "first quarter of":
        end = start + 24
    elif part == "last quarter of":
        start = start + 75
    if bce:
        return -end, -start
    return start, end


def _clean(text: str) -> str:
    text = text.strip()
    text = re.sub(r"\([^)]*\)", " ", text)  # periods, dynasties, remarks in parentheses
    return re.sub(r"\s+", " ", text).strip()


def parse_date(text: str | int | float | None) -> tuple[int | None, int | None]:
    """(start, end) years for a catalogue date; (None, None) when it says nothing usable.

    The first dated phrase wins: "1855, reworked 1857–59" is dated by 1855 to 1859 because
    later phrases only extend the end year.
    """
    if text is None:
        return None, None
    if isinstance(text, int | float):
        return (int(text), int(text))
    raw = str(text).strip()
    if not raw:
        return None, None
    float_year = _FLOAT_YEAR.match(raw)
    if float_year:
        year = int(float_year.group(1))
        return year, year
    result = _parse(_clean(raw))
    if result == (None, None) and "(" in raw:
        # "Edo period (1615–1868)": the only dates are in the parentheses.
        inner = " ".join(re.findall(r"\(([^)]*)\)", raw))
        result = _parse(inner)
    return result


def _parse(cleaned: str) -> tuple[int | None, int | None]:
    if re.search(r"\b(unknown|undated|n\.\s?d\.?)\b", cleaned, re.I) and not re.search(r"\d", cleaned):
        return None, None
    cleaned = _CENTURY_SPAN.sub(r"\1\2 century - ", cleaned)
    bce = bool(_ERA_BC.search(cleaned))
    circa = bool(_CIRCA.search(cleaned))
    spread = CIRCA_SPREAD if circa else 0
    body = _ERA_BC.sub(" ", cleaned)
    body = _ERA_AD.sub(" ", body)

    result = _century_or_millennium(cleaned)
    if result is None:
        result = _decade(body)
    if result is None:
        result = _years(body, bce)
    if result is None:
        return None, None
    start, end = result
    if start > end:
        start, end = end, start
    return start - spread, end + spread


def _century_or_millennium(text: str) -> tuple[int, int] | None:
    lowered = text.lower()
    for word, number in _ORDINAL_WORDS.items():
        lowered = re.sub(rf"\b{word}\b(?=[\s-]+(?:century|millennium))", f"{number}th", lowered)
    found = list(_CENTURY.finditer(lowered))
    if found:
        text_bc = bool(_ERA_BC.search(lowered))
        ranges = [
            _century_range(int(m["num"]), m["part"], bool(m["era"] and _ERA_BC.match(m["era"])) or text_bc)
            for m in found
            if 1 <= int(m["num"]) <= 21
        ]
        if ranges:
            return min(r[0] for r in ranges), max(r[1] for r in ranges)
    millennium = _MILLENNIUM.search(lowered)
    if millennium:
        number = int(millennium["num"])
        if millennium["era"] or _ERA_BC.search(lowered):
            return -number * 1000, -(number - 1) * 1000 - 1
        return (number - 1) * 1000 + 1, number * 1000
    return None


def _decade(text: str) -> tuple[int, int] | None:
    match = _DECADE.search(text)
    if not match:
        return None
    year = int(match["year"])
    part = (match["part"] or "").lower()
    if part == "early":
        return year, year + 3
    if part == "mid":
        return year + 3, year + 6
    if part == "late":
        return year + 6, year + 9
    return year, year + 9


def _years(text: str, bce: bool) -> tuple[int, int] | None:
    first_range = _RANGE.search(text)
    first_single = _SINGLE.search(text)
    if first_single is None:
        return None
    if first_range is not None and first_range.start() <= first_single.start():
        a = int(first_range["a"])
        b_text = first_range["b"]
        if bce:
            start, end = -abs(a), -int(b_text)
        else:
            start, end = a, _expand_short(a, b_text)
        tail_from = first_range.end()
    else:
        a = int(first_single["a"])
        start = end = -abs(a) if bce else a
        tail_from = first_single.end()
    # Later phrases ("reworked 1857–59") only push the end.
    if not bce:
        for later in re.finditer(
            r"(?<!\d)(\d{4})(?:\s*[/" + DASHES + r"]\s*(\d{1,4}))?(?!\d)", text[tail_from:]
        ):
            year = int(later.group(1))
            if later.group(2):
                year = _expand_short(year, later.group(2))
            if end <= year <= end + 100:
                end = year
    return start, end


def date_midpoint(start: int | None, end: int | None) -> float | None:
    if start is None and end is None:
        return None
    if start is None:
        return float(end)  # type: ignore[arg-type]
    if end is None:
        return float(start)
    return (start + end) / 2


def decade_of(year: int | float | None) -> int | None:
    """1874 -> 1870; -455 -> -460 (the decade containing the year)."""
    if year is None:
        return None
    return int(year // 10 * 10)


def century_label(year: int | float | None) -> str | None:
    """1874 -> "19th century"; -455 -> "5th century BCE"."""
    if year is None:
        return None
    year = int(year)
    number = (abs(year) - 1) // 100 + 1 if year != 0 else 1
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix} century" + (" BCE" if year < 0 else "")
