"""CLIP and DINOv2 from a local checkpoint: the real loaders, on tiny random models built here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asterism.embed.backbone import EfficientNetLite0
from asterism.embed.checkpoints import CheckpointError, Clip, Dinov2, clip_info, dinov2_info
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
