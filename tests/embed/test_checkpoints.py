"""CLIP, SigLIP and DINOv2 from a local checkpoint: the real loaders, on tiny random models built here."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from asterism.embed import onnx_export
from asterism.embed.backbone import EfficientNetLite0
from asterism.embed.checkpoints import CheckpointError, Clip, Dinov2, clip_info, dinov2_info, image_text_info
from asterism.embed.conceptual import ConceptEncoder, concept_info
from asterism.embed.featurize import ImageFeaturizer
from asterism.embed.formal import part_similarities

import checkpointgen


def picture(seed: int, shape: tuple[int, int] = (60, 90)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return checkpointgen.tiny_clip(tmp_path_factory.mktemp("ckpt") / "tiny-clip")


def test_clip_embeds_images_and_texts_into_one_unit_space(clip_folder: Path) -> None:
    clip = Clip(clip_folder, threads=1)
    assert clip.info == clip_info(clip_folder) and clip.info.dim == 16
    images = clip.embed_images([picture(1), picture(1), picture(2)])
    assert images.shape == (3, 16)
    assert np.allclose(np.linalg.norm(images, axis=1), 1, atol=1e-5)
    assert np.allclose(images[0], images[1]) and not np.allclose(images[0], images[2])
    texts = clip.embed_texts(["boats in a harbour", "", "a very long description " * 40])
    assert texts.shape == (3, 16)
    assert np.allclose(np.linalg.norm(texts[[0, 2]], axis=1), 1, atol=1e-5)
    assert not texts[1].any()  # nothing to say: no direction rather than an invented one


def test_checkpoint_identity_follows_the_weights(clip_folder: Path, tmp_path: Path) -> None:
    other = checkpointgen.tiny_clip(tmp_path / "tiny-clip", seed=1)  # same name and config, new weights
    assert clip_info(other).id == clip_info(clip_folder).id
    assert clip_info(other).version != clip_info(clip_folder).version
    assert clip_info(clip_folder) == clip_info(clip_folder)


def test_missing_or_wrong_checkpoints_fail_clearly(tmp_path: Path, clip_folder: Path) -> None:
    with pytest.raises(CheckpointError, match=r"no config\.json"):
        clip_info(tmp_path)
    dino = checkpointgen.tiny_dinov2(tmp_path / "dino")
    with pytest.raises(CheckpointError, match="CLIP"):
        Clip(dino)
    with pytest.raises(CheckpointError, match="DINOv2"):
        Dinov2(clip_folder)


def test_concept_encoder_modes(clip_folder: Path) -> None:
    clip = Clip(clip_folder, threads=1)

    class Words:  # a deterministic text encoder: a bag of hashed words, for the text half
        info = concept_info("text", clip.info, None)

        def embed_texts(self, texts: list[str]) -> np.ndarray:
            rows = np.zeros((len(texts), 8), np.float32)
            for i, text in enumerate(texts):
                for word in text.split():
                    rows[i, sum(map(ord, word)) % 8] += 1
            norms = np.linalg.norm(rows, axis=1, keepdims=True)
            return rows / np.maximum(norms, 1e-12)

    documents = ["boats harbour", "boats harbour"]
    only_clip = ConceptEncoder("clip", concept_info("clip", Words.info, clip.info), clip=clip)
    with_picture, without = only_clip.encode(documents, [picture(3), None])
    assert np.allclose(with_picture, clip.embed_images([picture(3)])[0], atol=1e-6)
    assert np.allclose(without, clip.embed_texts(["boats harbour"])[0], atol=1e-6)
    both_info = concept_info("text+clip", ModelInfoLike(8), clip.info)
    both = ConceptEncoder("text+clip", both_info, Words(), clip).encode(documents, [picture(3), None])
    assert both.shape == (2, 8 + 16) and np.allclose(np.linalg.norm(both, axis=1), 1, atol=1e-5)
    assert np.allclose(both[0, :8], both[1, :8])  # same words: same text half
    with pytest.raises(ValueError, match="CLIP checkpoint"):
        ConceptEncoder("clip", both_info)
    with pytest.raises(ValueError, match="clip_path"):
        concept_info("clip", both_info, None)


def ModelInfoLike(dim: int):  # type: ignore[no-untyped-def]
    from asterism.embed.base import ModelInfo

    return ModelInfo("words", "1", dim)


def test_dinov2_joins_the_texture_part(tmp_path: Path) -> None:
    folder = checkpointgen.tiny_dinov2(tmp_path / "tiny-dino")
    dino = Dinov2(folder, threads=1)
    assert dino.info == dinov2_info(folder) and dino.info.dim == 64
    plain = ImageFeaturizer(EfficientNetLite0(threads=1))
    featurizer = ImageFeaturizer(EfficientNetLite0(threads=1), extra=dino)
    assert featurizer.layout.dim == plain.layout.dim + 64
    assert dino.info.key in featurizer.info.version and featurizer.info != plain.info
    a, b, a_again = featurizer([picture(4, (120, 160)), picture(5, (120, 160)), picture(4, (120, 160))])
    assert np.isclose(np.linalg.norm(a.formal), 1, atol=1e-5)
    same = part_similarities(a.formal, a_again.formal, featurizer.layout)
    assert all(np.isclose(value, 1, atol=1e-4) for value in same.values())
    assert part_similarities(a.formal, b.formal, featurizer.layout)["texture"] < 0.999


# ----------------------------------------------------------------- SigLIP


@pytest.fixture(scope="module")
def siglip_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return checkpointgen.tiny_siglip(tmp_path_factory.mktemp("ckpt") / "tiny-siglip")


def test_siglip_embeds_images_and_texts_into_one_unit_space(siglip_folder: Path) -> None:
    siglip = Clip(siglip_folder, threads=1)
    assert siglip.family.name == "siglip" and siglip.info == image_text_info(siglip_folder)
    assert siglip.info.dim == 32
    images = siglip.embed_images([picture(1), picture(1), picture(2)])
    assert images.shape == (3, 32)
    assert np.allclose(np.linalg.norm(images, axis=1), 1, atol=1e-5)
    assert np.allclose(images[0], images[1]) and not np.allclose(images[0], images[2])
    texts = siglip.embed_texts(["boats in a harbour", "", "a very long description " * 40])
    assert texts.shape == (3, 32)  # same width as the images: one space
    assert np.allclose(np.linalg.norm(texts[[0, 2]], axis=1), 1, atol=1e-5)
    assert not texts[1].any()
    assert not np.allclose(texts[0], texts[2])


def test_siglip_text_vector_does_not_depend_on_the_batch(siglip_folder: Path) -> None:
    """SigLIP pools the last position: padded to the batch's longest, a text's vector would change
    with its neighbours; padded to max_position_embeddings, unmasked, as trained, it does not."""
    siglip = Clip(siglip_folder, threads=1, runtime="torch")
    alone = siglip.embed_texts(["a b"])
    together = siglip.embed_texts(["a b", "c d e f g h i j k"])
    assert np.allclose(alone[0], together[0], atol=1e-6)
    assert np.allclose(siglip.embed_texts(["A B"]), alone, atol=1e-6)  # lowercased, as SigLIP 2 trained


def test_siglip_preprocessing_matches_transformers(siglip_folder: Path) -> None:
    """Squash to the square (no crop), the checkpoint's mean/std: what SiglipImageProcessor does."""
    from transformers.models.siglip.image_processing_pil_siglip import SiglipImageProcessorPil

    siglip = Clip(siglip_folder, threads=1, runtime="torch")
    assert not siglip.preprocess.crop and siglip.preprocess.mean == (0.5, 0.5, 0.5)
    reference = SiglipImageProcessorPil.from_pretrained(str(siglip_folder))
    images = [picture(6, (60, 90)), picture(7, (100, 41))]
    expected = np.stack([reference(image, return_tensors="np")["pixel_values"][0] for image in images])
    assert np.abs(siglip.preprocess(images) - expected).max() < 1e-5


def test_siglip_and_clip_identities_differ(tmp_path: Path) -> None:
    clip = checkpointgen.tiny_clip(tmp_path / "clip" / "model")
    siglip = checkpointgen.tiny_siglip(tmp_path / "siglip" / "model")  # same folder name
    assert clip_info(clip).id == "clip:model" and clip_info(siglip).id == "siglip:model"
    assert image_text_info(clip) == clip_info(clip)
    assert clip_info(clip).key != clip_info(siglip).key


def test_siglip2_naflex_and_other_models_are_refused(tmp_path: Path) -> None:
    naflex = tmp_path / "naflex"
    naflex.mkdir()
    (naflex / "config.json").write_text(json.dumps({"model_type": "siglip2"}))
    with pytest.raises(CheckpointError, match="NaFlex"):
        clip_info(naflex)
    with pytest.raises(CheckpointError, match="NaFlex"):
        Clip(naflex)
    dino = checkpointgen.tiny_dinov2(tmp_path / "dino")
    with pytest.raises(CheckpointError, match="not a CLIP or SigLIP"):
        image_text_info(dino)


# ----------------------------------------------------------------- image tower on ONNX Runtime


class Exports:
    """Counts ONNX exports (monkeypatched over the real one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = onnx_export.export_image_tower

        def counting(*args: object) -> bytes:
            self.count += 1
            return real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(onnx_export, "export_image_tower", counting)


@pytest.mark.parametrize("family", ["clip", "siglip"])
def test_onnx_and_torch_image_towers_agree(
    family: str, clip_folder: Path, siglip_folder: Path, tmp_path: Path
) -> None:
    folder = clip_folder if family == "clip" else siglip_folder
    on_onnx = Clip(folder, threads=1, cache_dir=tmp_path)
    on_torch = Clip(folder, threads=1, runtime="torch")
    assert (on_onnx.runtime, on_torch.runtime) == ("onnx", "torch")
    assert on_onnx.info == on_torch.info  # the runtime is not part of the identity
    images = [picture(seed, (50 + seed, 70)) for seed in range(5)]
    assert np.abs(on_onnx.embed_images(images) - on_torch.embed_images(images)).max() <= 1e-4
    assert on_onnx.embed_images([]).shape == (0, on_onnx.info.dim)
    texts = ["boats", "a harbour at dusk"]  # the text tower is torch in both
    assert np.allclose(on_onnx.embed_texts(texts), on_torch.embed_texts(texts))


def test_the_cached_export_is_reused(
    clip_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = Exports(monkeypatch)
    first = Clip(clip_folder, threads=1, cache_dir=tmp_path)
    cached = onnx_export.cache_path(tmp_path, first.info)
    assert cached.is_file() and exports.count == 1
    written = cached.stat().st_mtime_ns
    second = Clip(clip_folder, threads=1, cache_dir=tmp_path)
    assert second.runtime == "onnx" and exports.count == 1 and cached.stat().st_mtime_ns == written
    assert [p.name for p in tmp_path.iterdir()] == [cached.name]  # no temporary left behind


def test_a_corrupt_or_foreign_cached_export_is_replaced(
    clip_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = clip_info(clip_folder)
    cached = onnx_export.cache_path(tmp_path, info)
    cached.write_bytes(b"not an onnx model")
    exports = Exports(monkeypatch)
    clip = Clip(clip_folder, threads=1, cache_dir=tmp_path)
    assert clip.runtime == "onnx" and exports.count == 1
    assert cached.read_bytes() != b"not an onnx model"
    # A well-formed export of other weights (same name and shapes) loads fine but does not match.
    other = checkpointgen.tiny_clip(tmp_path / "other" / "tiny-clip", seed=1)
    Clip(other, threads=1, cache_dir=tmp_path / "other-cache")
    cached.write_bytes(onnx_export.cache_path(tmp_path / "other-cache", clip_info(other)).read_bytes())
    again = Clip(clip_folder, threads=1, cache_dir=tmp_path)
    assert again.runtime == "onnx" and exports.count == 3
    torch_clip = Clip(clip_folder, threads=1, runtime="torch")
    assert np.abs(again.embed_images([picture(8)]) - torch_clip.embed_images([picture(8)])).max() <= 1e-4


def test_an_export_that_disagrees_falls_back_to_torch(
    clip_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(onnx_export, "TOLERANCE", -1.0)  # nothing can pass
    with caplog.at_level(logging.WARNING, logger="asterism.embed.onnx_export"):
        clip = Clip(clip_folder, threads=1, cache_dir=tmp_path)
    assert clip.runtime == "torch" and "running it on torch" in caplog.text
    assert not list(tmp_path.iterdir())  # nothing cached that a later start would trust
    assert np.allclose(np.linalg.norm(clip.embed_images([picture(9)]), axis=1), 1, atol=1e-5)

    def broken(*_args: object) -> bytes:
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(onnx_export, "export_image_tower", broken)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="asterism.embed.onnx_export"):
        assert Clip(clip_folder, threads=1).runtime == "torch"
    assert "unsupported operator" in caplog.text
    with pytest.raises(ValueError, match="runtime"):
        Clip(clip_folder, runtime="tensorrt")
