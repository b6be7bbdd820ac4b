"""``asterism recommend --prose``: a sentence per result, from a local OpenAI-compatible server or the template."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from asterism.cli.main import app
from asterism.config import Settings
from chatserver import ChatServer


def test_recommend_with_prose(built: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    args = ["--home", str(built.home), "recommend", "--id", "5", "--k", "6", "--prose", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    results = json.loads(result.stdout)["results"]
    assert [item["prose"]["source"] for item in results[:5]] == ["template"] * 5 and "prose" not in results[5]
    with ChatServer() as chat:
        monkeypatch.setenv("ASTERISM_PROSE__ENDPOINT", chat.url)
        monkeypatch.setenv("ASTERISM_PROSE__MAX_RESULTS", "2")
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        results = json.loads(result.stdout)["results"]
        assert [item["prose"]["source"] for item in results[:2]] == ["model"] * 2 and chat.count == 2
        text = runner.invoke(app, args[:-1])
        assert text.exit_code == 0 and "They share this: " in text.stdout
