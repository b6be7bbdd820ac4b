"""Text → image search with an image–text model, and a clear refusal without one."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from transformers import AutoTokenizer, CLIPModel

from asterism.api.app import create_app
from asterism.collection import Collection
from asterism.config import Settings
from asterism.embed.base import Affinity
from asterism.recommend.service import Service
from asterism.recommend.start import NeedsModel

import checkpointgen


def test_pictures_found_by_a_description(settings: Settings, shared_data: Path, tmp_path: Path) -> None:
    clip = checkpointgen.tiny_clip(tmp_path / "tiny-clip")
    models = settings.models.model_copy(update={"clip_path": clip, "conceptual": "text+clip"})
    with Collection(settings.model_copy(update={"models": models})) as collection:
        collection.ingest("sample", shared_data / "aic-paintings", limit=10)
        collection.build()
        found = collection.search_pictures("a stormy sea at night", limit=5)
        service = collection.service()
        # the same ranking computed independently: the text tower of the checkpoint against the
        # image-text part of each stored conceptual vector ([√½·text | √½·image])
        model = CLIPModel.from_pretrained(str(clip))
        tokens = AutoTokenizer.from_pretrained(str(clip))(["a stormy sea at night"], return_tensors="pt")
        with torch.inference_mode():
            text = model.get_text_features(**tokens)
        text = getattr(text, "pooler_output", text)[0].numpy()
        text /= np.linalg.norm(text)
        stored = service.searcher.vectors[Affinity.CONCEPTUAL]
        image_part = stored.vectors[:, -len(text) :]
        expected = [int(stored.ids[i]) for i in np.argsort(-(image_part @ text), kind="stable")[:5]]
        assert [work.id for work, _ in found] == expected
        assert all(a >= b for (_, a), (_, b) in itertools.pairwise(found))
        with TestClient(create_app(collection.settings, service=service, ui=None)) as client:
            body = client.get("/v1/search", params={"q": "a stormy sea at night", "by": "picture"}).json()
            assert [hit["id"] for hit in body["results"][:5]] == expected and body["results"][0][
                "match"
            ] == "picture"


def test_without_an_image_text_model_the_search_says_what_to_pull(service: Service, built: Settings) -> None:
    with pytest.raises(NeedsModel, match="asterism models pull"):
        service.search_pictures("a stormy sea")
    with TestClient(create_app(built, service=service, ui=None)) as client:
        refused = client.get("/v1/search", params={"q": "a stormy sea", "by": "picture"})
        assert refused.status_code == 422 and "models pull" in refused.json()["detail"]
        words = client.get("/v1/search", params={"q": "monet"}).json()["results"]
        assert words and {hit["match"] for hit in words} == {"title"}
