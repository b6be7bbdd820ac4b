"""Prose explanations: grounding on hand-written reasons, the template, and a real OpenAI-compatible server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from asterism.config import ProseSettings
from asterism.recommend.grounding import Allowed, Vocabulary, ungrounded
from asterism.recommend.prose import Narrator
from asterism.recommend.prose_writers import (
    ChatWriter,
    Facts,
    ProseError,
    TemplateWriter,
    Work,
    chat_url,
    prompt,
)
from chatserver import NONSENSE, ChatServer

ALTARPIECE = Facts(
    Work(1, "Saint Michael", "Bartolomé Bermejo", "1468", 1468, 1468),
    Work(2, "Saint George and the Dragon", "Pedro Berruguete", "c. 1490", 1485, 1495),
    formal=("similar palette (0.81)", "shared colours: gold, dark red (#c0a040~#c2a244, #701010~#721212)"),
    conceptual=(
        "both about saints",
        "both classed as painting",
        "both show altar (recognised in the images)",
    ),
    historical=("both Spain", "both 15th century", "dated 22 years apart"),
)
NAMES = Vocabulary(names=frozenset({"rembrandt", "goya", "amsterdam", "spain", "bermejo", "berruguete"}))


def problems(text: str, facts: Facts = ALTARPIECE) -> list[str]:
    return ungrounded(text, facts.allowed(), NAMES)


# ---------------------------------------------------------------- grounding


def test_grounded_sentences_pass() -> None:
    for text in (
        "Both are Spanish altarpiece panels of the late 1400s; the gold ground and the saint's dark red mantle carry over.",
        "Both saints stand before an altar, painted in Spain in the fifteenth century.",
        "Painted in 1468 and around 1490, the two share gold and dark red.",
        "Like “Saint Michael”, this panel by Pedro Berruguete is a 15th-century painting of saints.",
    ):
        assert problems(text) == [], text


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Both recall Rembrandt in their light.", "name 'Rembrandt'"),
        ("Rembrandt would have admired them.", "name 'Rembrandt'"),  # a known name opening a sentence
        ("Both were painted in Amsterdam.", "name 'Amsterdam'"),
        ("Both are Italian.", "name 'Italian'"),
        ("Both are from the 1700s.", "date '1700s'"),
        ("Both date from 1642.", "date '1642'"),
        ("Both are 17th-century works.", "date '17' century"),
        ("Both are from the eighteenth century.", "date 'eighteenth' century"),
        ("Both share deep blue skies.", "colour 'blue'"),
        ("Both glow with golden and purplish light.", "colour 'purplish'"),
        ("A violin lies at the saint's feet.", "object 'violin'"),
        ("Both show a church and a sword.", "object 'church'"),
    ],
)
def test_ungrounded_names_are_caught(text: str, named: str) -> None:
    assert named in problems(text)


def test_openers_and_demonyms() -> None:
    jan_both = Vocabulary(
        names=frozenset({"both", "spain"})
    )  # Jan Both painted: "Both" still opens sentences
    assert ungrounded("Both are Spanish.", ALTARPIECE.allowed(), jan_both) == []
    dutch = Allowed.of(["both Netherlands", "both Impressionism"])
    assert ungrounded("Both are Dutch and Impressionist.", dutch, NAMES) == []
    assert ungrounded("Both are French.", dutch, NAMES) == ["name 'French'"]


def test_dates_by_range_and_named_century() -> None:
    facts = Facts(None, Work(3, "Harbour", None, "1870–1875", 1870, 1875), historical=("both 19th century",))
    assert problems("Painted in the 1870s, in 1872, in the 19th century.", facts) == []
    assert problems("Painted in the 1880s.", facts) == ["date '1880s'"]


def test_template_is_grounded_and_deterministic() -> None:
    text = TemplateWriter().write(ALTARPIECE)
    assert text == TemplateWriter().write(ALTARPIECE)
    assert "Spain" in text and "gold, dark red" in text and "#" not in text and "0.81" not in text
    assert problems(text) == []
    assert (
        TemplateWriter().write(Facts(None, Work(5)))
        == "They are alike overall, with no single shared feature to name."
    )
    influence = Facts(Work(1), Work(2), historical=("Claude Monet was influenced by Eugène Boudin",))
    assert TemplateWriter().write(influence) == "Claude Monet was influenced by Eugène Boudin."


def test_prompt_holds_only_the_facts() -> None:
    system, user = prompt(ALTARPIECE)
    assert system["role"] == "system" and user["role"] == "user"
    assert "“Saint Michael” by Bartolomé Bermejo (1468)" in user["content"]
    assert "- history: both 15th century" in user["content"]
    assert "- look: shared colours: gold, dark red" in user["content"]  # codes and numbers left out
    assert "#" not in user["content"] and "0.81" not in user["content"]
    upload = prompt(Facts(None, Work(2, "Harbour")))[1]["content"]
    assert "First work: an uploaded picture." in upload and "nothing named" in upload


def test_chat_url() -> None:
    assert chat_url("http://h:11434/v1") == "http://h:11434/v1/chat/completions"
    assert chat_url("http://h:8080/") == "http://h:8080/v1/chat/completions"
    assert chat_url("http://h/v1/chat/completions") == "http://h/v1/chat/completions"


# ---------------------------------------------------------------- against a local server


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with ChatServer() as running:
        yield running


def settings_for(server: ChatServer, **changes: object) -> ProseSettings:
    return ProseSettings.model_validate(
        {"endpoint": server.url, "model": "tiny", "timeout": 2.0, "budget": 2.0, **changes}
    )


def test_good_answer_is_accepted(server: ChatServer) -> None:
    server.mode, server.text = "text", "Both are Spanish saints of the 1400s, in gold and dark red."
    narrator = Narrator(settings_for(server, api_key="k3y"))
    [prose] = narrator.page([ALTARPIECE], NAMES)
    assert (prose.source, prose.text) == ("model", server.text)
    body = server.requests[0]["body"]
    assert body["model"] == "tiny" and body["stream"] is False and body["messages"] == prompt(ALTARPIECE)
    assert body["temperature"] == 0.2 and body["max_tokens"] == 120
    assert server.requests[0]["auth"] == "Bearer k3y"


def test_streaming_is_assembled(server: ChatServer) -> None:
    writer = ChatWriter(settings_for(server, stream=True))
    text = writer.write(ALTARPIECE)
    assert server.requests[0]["body"]["stream"] is True
    assert text.startswith("They share this: both Spain; both 15th century;") and text.endswith(".")
    assert ungrounded(text, ALTARPIECE.allowed(), NAMES) == []
    [prose] = Narrator(settings_for(server, stream=True)).page([ALTARPIECE], NAMES)
    assert prose == prose.__class__(text, "model")


def test_slow_endpoint_gives_the_template_within_the_budget(server: ChatServer) -> None:
    server.mode, server.delay = "slow", 1.5
    narrator = Narrator(settings_for(server, timeout=5.0, budget=0.3))
    started = time.perf_counter()
    [prose] = narrator.page([ALTARPIECE], NAMES)
    assert time.perf_counter() - started < 1.0
    assert prose.source == "template" and "budget" in prose.note
    assert prose.text == TemplateWriter().write(ALTARPIECE)
    time.sleep(1.6)  # the late answer lands in the cache: the next page has it without asking
    [again] = narrator.page([ALTARPIECE], NAMES)
    assert again.source == "model" and server.count == 1


def test_writer_timeout_is_an_error(server: ChatServer) -> None:
    server.mode, server.delay = "slow", 1.0
    with pytest.raises(ProseError, match="Timeout"):
        ChatWriter(settings_for(server, timeout=0.2)).write(ALTARPIECE)
    [prose] = Narrator(settings_for(server, timeout=0.2, budget=2.0)).page([ALTARPIECE], NAMES)
    assert prose.source == "template" and "Timeout" in prose.note


def test_server_error_gives_the_template(server: ChatServer) -> None:
    server.mode = "error"
    with pytest.raises(ProseError, match="HTTP 500"):
        ChatWriter(settings_for(server)).write(ALTARPIECE)
    narrator = Narrator(settings_for(server))
    [prose] = narrator.page([ALTARPIECE], NAMES)
    assert prose.source == "template" and "HTTP 500" in prose.note
    narrator.page([ALTARPIECE], NAMES)
    assert server.count == 3  # an error is not cached: asked again


@pytest.mark.parametrize("stream", [False, True])
def test_nonsense_is_rejected_and_remembered(server: ChatServer, stream: bool) -> None:
    server.mode = "nonsense"
    narrator = Narrator(settings_for(server, stream=stream))
    [prose] = narrator.page([ALTARPIECE], NAMES)
    assert prose.source == "template" and prose.text == TemplateWriter().write(ALTARPIECE)
    for named in (
        "name 'Rembrandt'",
        "name 'Amsterdam'",
        "date '1642'",
        "colour 'ultramarine'",
        "object 'violin'",
    ):
        assert named in prose.note, NONSENSE
    [again] = narrator.page([ALTARPIECE], NAMES)
    assert again.source == "template" and server.count == 1  # the rejection is cached too


def test_cache_by_start_result_reasons_and_model(server: ChatServer) -> None:
    narrator = Narrator(settings_for(server))
    first = narrator.page([ALTARPIECE], NAMES)
    assert narrator.page([ALTARPIECE], NAMES) == first and server.count == 1
    other_reasons = Facts(ALTARPIECE.start, ALTARPIECE.result, historical=("both Spain",))
    other_start = Facts(
        Work(9, "Saint Michael"),
        ALTARPIECE.result,
        ALTARPIECE.formal,
        ALTARPIECE.conceptual,
        ALTARPIECE.historical,
    )
    narrator.page([other_reasons, other_start], NAMES)
    assert server.count == 3
    other_model = Narrator(settings_for(server, model="bigger"), cache=narrator.cache)
    other_model.page([ALTARPIECE], NAMES)
    assert server.count == 4 and server.requests[-1]["body"]["model"] == "bigger"


def test_template_without_an_endpoint() -> None:
    narrator = Narrator(ProseSettings())
    assert narrator.writer is None
    [prose] = narrator.page([ALTARPIECE], NAMES)
    assert prose.source == "template" and prose.note == ""


def test_a_page_waits_once_for_all(server: ChatServer) -> None:
    server.mode, server.delay = "slow", 0.6
    narrator = Narrator(settings_for(server, budget=1.5, concurrency=4))
    pages = [Facts(ALTARPIECE.start, Work(10 + i, f"Work {i}"), historical=("both Spain",)) for i in range(4)]
    started = time.perf_counter()
    found = narrator.page(pages, NAMES)
    assert time.perf_counter() - started < 1.4  # four calls at once, not one after another
    assert [p.source for p in found] == ["model"] * 4
