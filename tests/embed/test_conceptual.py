"""The conceptual vector means what is shown: documents, OCR words, labels of uploads."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from asterism.embed.conceptual import MiniLM, concept_document, document_hash
from asterism.embed.featurize import ImageFeaturizer
from asterism.images.ocr import read_text, tesseract_available
from asterism.shapes import Artwork

import imagegen


def work(title: str, **fields: object) -> Artwork:
    return Artwork(source="local", source_id=title, title=title, **fields)  # type: ignore[arg-type]


def test_document_gathers_metadata_labels_and_ocr() -> None:
    artwork = work(
        "Boats in the harbour of Honfleur",
        classification="painting",
        medium="Oil on canvas",
        subjects=["harbors", "boats"],
        description="<p>Fishing boats at <b>low tide</b>.</p>",
    )
    document = concept_document(artwork, [("schooner", 0.6), ("dock", 0.2), ("tank", 0.01)], "HONFLEUR 1874")
    assert "Boats in the harbour of Honfleur." in document
    assert "Subjects: harbors, boats." in document
    assert "Fishing boats at low tide." in document  # markup stripped
    assert "schooner, dock" in document and "tank" not in document  # noise labels dropped
    assert "HONFLEUR 1874" in document


def test_image_of_text_gets_its_ocr_words_into_the_document() -> None:
    if not tesseract_available():
        raise AssertionError("tesseract-ocr must be installed for the suite (make system-deps)")
    image = Image.open(io.BytesIO(imagegen.text_image("HARBOUR BOATS EXHIBITION 1874"))).convert("RGB")
    words = read_text(image, languages="eng", min_confidence=60)
    document = concept_document(None, [], words)
    for word in ("HARBOUR", "BOATS", "EXHIBITION"):
        assert word in document


def test_upload_without_metadata_lands_near_works_showing_the_same_things(
    featurizer: ImageFeaturizer, minilm: MiniLM
) -> None:
    ship = work("A schooner at sea", subjects=["ships", "sea", "sailing"], classification="painting")
    vase = work("Amphora", subjects=["vessels", "ceramics", "terracotta"], classification="vessel")
    portrait = work("Portrait of a woman", subjects=["portraits", "women"], classification="painting")
    docs = [concept_document(a, []) for a in (ship, vase, portrait)]
    upload = concept_document(None, [("schooner", 0.7), ("yawl", 0.2)])
    vectors = minilm.embed_texts([*docs, upload])
    scores = vectors[:3] @ vectors[3]
    assert int(np.argmax(scores)) == 0


def test_empty_document_has_no_direction(minilm: MiniLM) -> None:
    vectors = minilm.embed_texts(["", "a harbour"])
    assert float(np.abs(vectors[0]).sum()) == 0.0
    assert abs(float(np.linalg.norm(vectors[1])) - 1.0) < 1e-5
    assert document_hash("a", minilm.info) != document_hash("b", minilm.info)
