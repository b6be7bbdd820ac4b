"""Bring your own vectors: an imported space serves an affinity; uploads without its model are refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from asterism.api.app import create_app
from asterism.cli.main import app
from asterism.collection import Collection
from asterism.config import Settings, load_settings
from asterism.embed.base import Affinity
from asterism.embed.checkpoints import Clip, image_text_info
from asterism.embed.featurize import read_rgb
from asterism.eval.runner import evaluate
from asterism.recommend.start import NeedsModel
from asterism.stages.spaces import ImportRefused

import checkpointgen

WORKS = 14


@pytest.fixture
def collection(settings: Settings, shared_data: Path) -> Collection:
    opened = Collection(settings)
    opened.ingest("sample", shared_data / "aic-paintings", limit=WORKS)
    opened.build()
    return opened


def vectors_for(collection: Collection, dim: int = 16) -> tuple[list[str], np.ndarray, dict[int, np.ndarray]]:
    """Random vectors, half keyed by the work's name and half by its image's sha256, plus two strays."""
    works = sorted(collection.service().catalogue.records.values(), key=lambda a: a.id or 0)
    rng = np.random.default_rng(3)
    keys, rows, expected = [], [], {}
    for n, work in enumerate(works):
        vector = rng.normal(size=dim).astype(np.float32)
        assert work.image is not None and work.id is not None
        keys.append(
            work.ref
            if n % 2
            else hashlib.sha256(collection.home.file(work.image.path).read_bytes()).hexdigest()
        )
        rows.append(vector)
        expected[work.id] = vector / np.linalg.norm(vector)
    keys += ["aic:404404", "f" * 64]
    rows += [rng.normal(size=dim).astype(np.float32)] * 2
    return keys, np.stack(rows), expected


def test_an_imported_space_serves_an_affinity(collection: Collection, tmp_path: Path) -> None:
    keys, matrix, expected = vectors_for(collection)
    np.save(tmp_path / "v.npy", matrix)
    (tmp_path / "ids.txt").write_text("\n".join(keys) + "\n")
    report = collection.import_vectors(tmp_path / "v.npy", "openclip", ids=tmp_path / "ids.txt",
                                       model="openclip-vit-b-32", serve="conceptual")  # fmt: skip
    assert (report.rows, report.dim, report.works) == (WORKS + 2, 16, WORKS)
    assert report.unmatched == ["aic:404404", "f" * 64]
    assert load_settings(home=collection.home.root).models.spaces == {"conceptual": "openclip"}
    built = collection.build()
    assert built.index is not None and built.index.built["conceptual"].startswith("rebuilt")
    service = collection.service()
    for work, vector in expected.items():
        assert np.allclose(service.searcher.vector(Affinity.CONCEPTUAL, work), vector, atol=1e-6)
    page = collection.recommend(
        artwork_id=min(expected), weights={"formal": 0, "conceptual": 1, "historical": 0}, alpha=1, beta=0
    )
    by_space = sorted(expected, key=lambda w: -float(expected[w] @ expected[min(expected)]))[1:4]
    assert [r.artwork.id for r in page.results[:3]] == by_space
    picture = collection.home.file(service.catalogue.records[min(expected)].image.path)  # type: ignore[union-attr]
    with pytest.raises(NeedsModel, match="asterism models pull openclip-vit-b-32"):
        collection.recommend(image_path=picture, recognise=False)  # read by image: needs the space's model
    recognised = collection.recommend(image_path=picture)  # a stored work's picture needs no model at all
    assert recognised.start_kind == "recognised" and recognised.start_id == min(expected)
    with TestClient(create_app(collection.settings, service=service, ui=None)) as client:
        refused = client.post(
            "/v1/recommendations",
            files={"image": ("p.jpg", picture.read_bytes(), "image/jpeg")},
            data={"recognise": "false"},
        )
        assert refused.status_code == 422 and "openclip-vit-b-32" in refused.json()["detail"]
    # The evaluation may let a covered work's own imported vector stand in for its upload's, and says so.
    summary = evaluate(service, by_image=6, by_id=False).summary()
    assert summary["stand_ins"] == {"conceptual": "openclip-vit-b-32"} and summary["queries"]["image"] == 6
    assert set(summary["held_out_shown"]["image"].values()) == {0}
    collection.close()


def test_parquet_and_bad_files(collection: Collection, tmp_path: Path) -> None:
    keys, matrix, expected = vectors_for(collection, dim=8)
    refs = [k for k in keys if ":" in k]
    table = pa.table({"ref": refs, "vector": [matrix[keys.index(r)].tolist() for r in refs]})
    pq.write_table(table, tmp_path / "v.parquet")
    report = collection.import_vectors(tmp_path / "v.parquet", "museum")
    assert report.works == len(refs) - 1 and report.unmatched == ["aic:404404"]
    np.save(tmp_path / "short.npy", matrix[:3])
    (tmp_path / "ids.txt").write_text("\n".join(keys))
    with pytest.raises(ImportRefused, match="3 vectors but"):
        collection.import_vectors(tmp_path / "short.npy", "x", ids=tmp_path / "ids.txt")
    with pytest.raises(ImportRefused, match="needs --ids"):
        collection.import_vectors(tmp_path / "short.npy", "x")
    (tmp_path / "strays.txt").write_text("\n".join(["aic:1", "aic:2", "aic:3"]))
    with pytest.raises(ImportRefused, match="none of its 3 rows"):
        collection.import_vectors(tmp_path / "short.npy", "x", ids=tmp_path / "strays.txt")
    with pytest.raises(ImportRefused, match="space name"):
        collection.import_vectors(tmp_path / "v.parquet", "Not OK!")
    result = CliRunner().invoke(app, ["--home", str(collection.home.root), "vectors", "import",
                                      str(tmp_path / "short.npy"), "--space", "x", "--ids", str(tmp_path / "ids.txt")])  # fmt: skip
    assert result.exit_code == 2 and "3 vectors but" in result.stderr
    ok = CliRunner().invoke(app, ["--home", str(collection.home.root), "vectors", "import",
                                  str(tmp_path / "v.parquet"), "--space", "museum2"])  # fmt: skip
    assert ok.exit_code == 0 and f"{len(refs) - 1} works covered" in ok.stdout
    assert json.dumps(sorted(expected))  # the works exist
    collection.close()


def test_an_upload_joins_the_space_through_the_model_that_made_it(
    settings: Settings, shared_data: Path, tmp_path: Path
) -> None:
    """With the space's own model active, an upload is embedded by it instead of being refused."""
    clip_folder = checkpointgen.tiny_clip(tmp_path / "tiny-clip")
    models = settings.models.model_copy(update={"clip_path": clip_folder, "conceptual": "text+clip"})
    with Collection(settings.model_copy(update={"models": models})) as collection:
        collection.ingest("sample", shared_data / "aic-paintings", limit=8)
        collection.build()
        works = sorted(collection.service().catalogue.records.values(), key=lambda a: a.id or 0)
        clip = Clip(clip_folder)
        pictures = [read_rgb(collection.home.file(w.image.path)) for w in works]  # type: ignore[union-attr]
        np.save(tmp_path / "v.npy", clip.embed_images(pictures))
        (tmp_path / "ids.txt").write_text("\n".join(w.ref for w in works))
        collection.import_vectors(tmp_path / "v.npy", "tiny", ids=tmp_path / "ids.txt",
                                  model=image_text_info(clip_folder).key, serve="conceptual")  # fmt: skip
        collection.build()
        service = collection.service()
        assert Affinity.CONCEPTUAL in service.starts.space_encoders
        found = 0
        for work in works:
            start = service.starts.from_image(service.picture(work).read_bytes(), ocr=False)
            assert len(start.vectors[Affinity.CONCEPTUAL]) == clip.info.dim
            nearest = service.searcher.search({Affinity.CONCEPTUAL: start.vectors[Affinity.CONCEPTUAL]},
                                              {Affinity.CONCEPTUAL: 1.0}, k=1)  # fmt: skip
            found += nearest[0].id == work.id
        assert found >= len(works) - 1  # the same picture through the same model finds its own vector
