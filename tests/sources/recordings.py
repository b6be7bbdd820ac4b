"""Readers for the recorded responses: VCR cassettes (Met) and HAR files (Commons)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import yaml


class _CassetteLoader(yaml.SafeLoader):
    """SafeLoader plus Ruby VCR's ``!binary`` (base64) bodies."""


_CassetteLoader.add_constructor(
    "!binary", lambda loader, node: base64.b64decode("".join(str(loader.construct_scalar(node)).split()))
)


def cassette(path: Path) -> list[tuple[str, int, Any]]:
    """(uri, status, parsed JSON body) of every interaction in a VCR cassette."""
    document = yaml.load(path.read_text(), Loader=_CassetteLoader)
    out = []
    for interaction in document["http_interactions"]:
        body = interaction["response"]["body"]["string"]
        text = body.decode() if isinstance(body, bytes) else body
        out.append(
            (interaction["request"]["uri"], interaction["response"]["status"]["code"], json.loads(text))
        )
    return out


def har(path: Path) -> list[tuple[str, Any]]:
    """(url, parsed JSON body) of every entry of a HAR file."""
    entries = json.loads(path.read_text())["log"]["entries"]
    return [(e["request"]["url"], json.loads(e["response"]["content"]["text"])) for e in entries]
