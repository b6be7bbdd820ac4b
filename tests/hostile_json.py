"""Hostile JSON from a seeded ``random.Random``, written as text: what ``json.dumps`` cannot say.

Values a client can send where a number, a string or an object is expected: NaN and Infinity
literals, numbers of 20,000 digits or beyond a double, lone surrogates and direction overrides,
arrays and objects nested 20,000 deep, wrong types, invalid escapes; recommendation options
present or not, valid or just out of range, with extra and duplicate keys; and text-level damage
(BOM, UTF-16, padding, truncation, raw invalid UTF-8). Built as JSON *text* because the point is
what a parser receives. Used by ``hostile_http.py``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from hostile_tiff import span


def odd_json(rng: random.Random) -> str:
    """One JSON value an attacker might send where a number, string or object is expected."""
    depth, n = span(rng, 1, 20_000), span(rng, 1, 20_000)
    return rng.choice((
        "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "-0", "1" + "0" * n, "-" + "9" * n,
        "0." + "0" * n + "1", "18446744073709551617", "2.5", "true", "null", '""', '"10"', '" 10 "',
        '"\\u0000"', '"\\ud800"', '"\\udfff\\ud800x"', '"' + "\\u202e" * n + '"', '"' + "a" * n + '"',
        "[]", "{}", "[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth, '"\\x41"', "'s'", "01",
        "0x10", ".5", "+1", "1_000", '"é\u0301\u200b"', '{"__proto__": {"k": 1}}', "[1,2,", "{",
    ))  # fmt: skip


def number(rng: random.Random, low: float, high: float, integer: bool = True) -> str:
    """A value for a numeric field: in range, just outside it, or odd."""
    roll = rng.random()
    if roll < 0.45:
        return str(rng.randint(int(low), int(high))) if integer else repr(rng.uniform(low, high))
    if roll < 0.7:
        return str(rng.choice((low - 1, high + 1, -(2**63), 2**63, 2**64, 1e308, -1e-9)))
    return odd_json(rng)


def obj(fields: Sequence[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in fields) + "}"


def string_list(rng: random.Random) -> str:
    items = [
        json.dumps(rng.choice(("aic", "CC0", "Painting", "", "x" * 300, "\u202e")))
        for _ in range(span(rng, 1, 5000))
    ]
    return "[" + ",".join(items) + "]" if rng.random() < 0.8 else odd_json(rng)


def work(rng: random.Random, ids: Sequence[int]) -> str:
    """An artwork name: a real id or ref, a missing one, or an odd value."""
    roll = rng.random()
    if roll < 0.5 and ids:
        return str(rng.choice(ids))
    if roll < 0.7:
        return json.dumps(rng.choice(("aic:27992", "aic:", ":", "aic:..", "local:a/../../b", "a" * 301)))
    return odd_json(rng)


def options(rng: random.Random) -> list[tuple[str, str]]:
    """Recommendation options, each present or not, valid or hostile."""
    fields: list[tuple[str, str]] = []
    if rng.random() < 0.5:
        fields.append(("k", number(rng, 1, 100)))
    if rng.random() < 0.3:
        fields.append(("page", number(rng, 0, 50)))
    for name in ("diversity", "alpha", "beta"):
        if rng.random() < 0.15:
            fields.append((name, number(rng, 0, 1, integer=False)))
    if rng.random() < 0.3:
        names = ["formal", "conceptual", "historical", *(["colour"] if rng.random() < 0.2 else [])]
        fields.append(
            ("weights", obj([(n, number(rng, 0, 100, False)) for n in names if rng.random() < 0.7]))
        )
    if rng.random() < 0.25:
        parts = [("date_from", number(rng, -10000, 3000)), ("date_to", number(rng, -10000, 3000))]
        parts += [(n, string_list(rng)) for n in ("sources", "licenses", "classifications")]
        parts += [("has_image", rng.choice(("true", "false", "1", '"yes"'))), ("extra", "1")]
        fields.append(("filters", obj(rng.sample(parts, rng.randrange(1, len(parts) + 1)))))
    if rng.random() < 0.1:
        fields.append((rng.choice(("extra", "", "\u202e", "k" * 500, "__class__")), odd_json(rng)))
    if fields and rng.random() < 0.15:
        fields.append((*rng.choice(fields)[:1], odd_json(rng)))  # a duplicate key, the last one odd
    return fields


def mangle(rng: random.Random, text: str) -> bytes:
    """Text-level damage to a JSON body: BOM, UTF-16, padding, truncation, raw bad UTF-8, wrapping."""
    roll = rng.random()
    if roll < 0.7:
        return text.encode()
    op = rng.randrange(6)
    if op == 0:
        return b"\xef\xbb\xbf" + text.encode()
    if op == 1:
        return text.encode("utf-16")
    if op == 2:
        return (" " * span(rng, 1, 100_000) + text).encode()
    if op == 3:
        return text.encode()[: rng.randrange(max(1, len(text)))]
    if op == 4:
        return text.encode().replace(b'"', b'"\xff\xfe\xc0\xaf', 1)
    return f"[{text}]".encode()
