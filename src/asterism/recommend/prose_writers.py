"""Who writes a result's prose: the facts it may use, the prompt, and the two writers.

``TemplateWriter`` (the default) turns the reasons into plain sentences, the same
every time. ``ChatWriter`` asks any OpenAI-compatible ``/v1/chat/completions``
endpoint (Ollama, llama.cpp server, vLLM), plain or streamed, with a prompt that
holds only the facts: the reasons of the three affinities and the two works'
titles, artists and dates. Checking, caching and time budgets are ``prose.py``'s.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import httpx

from asterism.config import ProseSettings
from asterism.recommend.grounding import Allowed
from asterism.shapes import Artwork

PROMPT_VERSION = "1"  # part of every cache key: a new prompt asks again
REJECTED = b"\x00"  # cached for facts whose model text failed grounding: the template, without asking again
MAX_CHARS = 500
SYSTEM = (
    "You explain to a museum visitor why one artwork was recommended after another. "
    "Write one or two short sentences (at most 50 words) in plain English. Use only the facts given: "
    "name no artist, place, date, period, colour or object that is not in them, and add no opinion. "
    "Do not mention scores. Reply with the sentences only."
)


@dataclass(frozen=True)
class Work:
    """One side as the facts name it: an id (None for an uploaded picture), title, artist and dates."""

    id: int | None
    title: str | None = None
    artist: str | None = None
    date: str | None = None
    date_start: int | None = None
    date_end: int | None = None

    @classmethod
    def of(cls, artwork: Artwork) -> Work:
        return cls(
            artwork.id, artwork.title or None, artwork.artist_name or artwork.artist_display, artwork.date_display,
            artwork.date_start, artwork.date_end,
        )  # fmt: skip

    def named(self) -> str:
        title = f"“{self.title}”" if self.title else "an untitled work"
        by = f" by {self.artist}" if self.artist else ""
        return f"{title}{by}{f' ({self.date})' if self.date else ''}"


@dataclass(frozen=True)
class Facts:
    """Everything prose may say about one result: the two works and the reasons of each affinity."""

    start: Work | None  # None: the start is an uploaded picture
    result: Work
    formal: tuple[str, ...] = ()
    conceptual: tuple[str, ...] = ()
    historical: tuple[str, ...] = ()

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.historical + self.conceptual + self.formal

    def allowed(self) -> Allowed:
        sides = [w for w in (self.start, self.result) if w is not None]
        texts = [x for w in sides for x in (w.title, w.artist, w.date) if x]
        return Allowed.of([*texts, *self.reasons], [(w.date_start, w.date_end) for w in sides])

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:32]


def plain(reason: str) -> str:
    """A reason without its numbers: "shared colours: red (#a01010~#a31512)" -> "shared colours: red"."""
    reason = re.sub(r"\s*\((?:#[0-9a-f]{6}~#[0-9a-f]{6}(?:,\s*)?)+\)", "", reason)
    return re.sub(r"\s*\(\d+\.\d+\)", "", reason).strip()


def prompt(facts: Facts) -> list[dict[str, str]]:
    """The chat messages: the instructions, then the facts and nothing else."""
    start = facts.start.named() if facts.start is not None else "an uploaded picture"
    lines = [f"First work: {start}.", f"Recommended work: {facts.result.named()}.", "What they share:"]
    for name, reasons in (
        ("history", facts.historical),
        ("subject", facts.conceptual),
        ("look", facts.formal),
    ):
        lines += [f"- {name}: {plain(r)}" for r in reasons]
    if not facts.reasons:
        lines.append("- nothing named: they are alike overall")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


class ProseError(Exception):
    """A model call that gave no usable text (HTTP error, timeout, malformed reply)."""


class ProseWriter(Protocol):
    model: str

    def write(self, facts: Facts) -> str: ...


_CLAUSES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^both from the (.+)$"), r"the \1"),
    (re.compile(r"^both (\d+\w\w century.*)$"), r"the \1"),
    (re.compile(r"^both about (.+)$"), r"subjects (\1)"),
    (re.compile(r"^both classed as (.+)$"), r"the classification \1"),
    (re.compile(r"^both show (.+?)(?: \(recognised in the images\))?$"), r"\1 in the picture"),
    (re.compile(r"^text in both images: (.+)$"), r"the words \1 written in the image"),
    (re.compile(r"^titles share (.+)$"), r"title words \1"),
    (re.compile(r"^(.+), as the picture looks \(inferred\)$"), r"\1 (as the picture looks)"),
    (re.compile(r"^both (.+)$"), r"\1"),
    (re.compile(r"^(?:also )?similar (.+)$"), r"a similar \1"),
    (re.compile(r"^shared colours: ([^,]+)$"), r"the colour \1"),
    (re.compile(r"^shared colours: (.+)$"), r"the colours \1"),
]


def _clause(reason: str) -> str:
    text = plain(reason)
    for pattern, replacement in _CLAUSES:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    return text


def _series(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class TemplateWriter:
    """Sentences from the reasons alone, deterministic: what the default and every fallback says."""

    model = "template"

    def write(self, facts: Facts) -> str:
        lead, shared, sentences = [], [], []
        for reason in facts.historical + facts.conceptual:
            if reason.startswith("same artist: "):
                lead.append(f"Both are by {reason.removeprefix('same artist: ')}.")
            elif re.search(r" (was influenced by|taught) |^both influenced by ", reason):
                sentences.append(reason[0].upper() + reason[1:] + ".")
            elif reason == "same year" or reason.startswith("dated "):
                sentences.append(
                    "Both are dated the same year." if reason == "same year" else f"They are {reason}."
                )
            else:
                shared.append(_clause(reason))
        if shared:
            lead.append(f"Shared: {_series(shared)}.")
        looks = [_clause(r) for r in facts.formal]
        if looks:
            sentences.append(f"They look alike: {_series(looks)}.")
        return " ".join(lead + sentences) or "They are alike overall, with no single shared feature to name."


class ChatWriter:
    """An OpenAI-compatible chat completions endpoint, plain or streamed (server-sent events)."""

    def __init__(self, settings: ProseSettings, transport: httpx.BaseTransport | None = None) -> None:
        if not settings.endpoint:
            raise ValueError("ChatWriter needs prose.endpoint")
        self.settings = settings
        self.model = settings.model
        self.url = chat_url(settings.endpoint)
        headers = {"Content-Type": "application/json"}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        self._client = httpx.Client(headers=headers, timeout=settings.timeout, transport=transport)

    def body(self, facts: Facts) -> dict[str, Any]:
        s = self.settings
        return {"model": s.model, "messages": prompt(facts), "temperature": s.temperature,
                "max_tokens": s.max_tokens, "stream": s.stream}  # fmt: skip

    def write(self, facts: Facts) -> str:
        deadline = time.monotonic() + self.settings.timeout
        try:
            if self.settings.stream:
                return tidy(self._streamed(self.body(facts), deadline))
            response = self._client.post(self.url, json=self.body(facts))
            if response.status_code != 200:
                raise ProseError(f"HTTP {response.status_code} from {self.url}: {response.text[:200]!r}")
            content = response.json()["choices"][0]["message"]["content"]
        except httpx.HTTPError as exc:
            raise ProseError(f"{type(exc).__name__} from {self.url}: {exc}") from None
        except (ValueError, LookupError, TypeError) as exc:  # not JSON, or not a chat completion
            raise ProseError(f"malformed reply from {self.url}: {exc!r}") from None
        if not isinstance(content, str):
            raise ProseError(f"malformed reply from {self.url}: content is {type(content).__name__}")
        return tidy(content)

    def _streamed(self, body: dict[str, Any], deadline: float) -> str:
        parts: list[str] = []
        with self._client.stream("POST", self.url, json=body) as response:
            if response.status_code != 200:
                raise ProseError(f"HTTP {response.status_code} from {self.url}")
            for line in response.iter_lines():
                if time.monotonic() > deadline:
                    raise ProseError(f"stream from {self.url} took over {self.settings.timeout:g} s")
                if not line.startswith("data:"):
                    continue  # comments, event names, keep-alives
                data = line.removeprefix("data:").strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                for choice in chunk.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content")
                    if isinstance(piece, str) and choice.get("index", 0) == 0:
                        parts.append(piece)
        return "".join(parts)

    def close(self) -> None:
        self._client.close()


def chat_url(endpoint: str) -> str:
    """``…/v1/chat/completions`` from a base URL given with or without ``/v1`` (or the full path)."""
    base = endpoint.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return f"{base}/chat/completions" if base.endswith("/v1") else f"{base}/v1/chat/completions"


def tidy(text: str) -> str:
    """One paragraph: a reasoning model's <think> block, wrapping quotes and extra space removed."""
    text = re.sub(r"<think>.*?</think>", "", text, flags=re.DOTALL)
    text = " ".join(text.split()).strip().strip('"“”').strip()
    if not text:
        raise ProseError("the model replied with no text")
    if len(text) > MAX_CHARS:
        raise ProseError(f"the model replied with {len(text)} characters (at most {MAX_CHARS})")
    return text
