"""The int8 image tower on ONNX Runtime: quantised once, cached, checked against torch, or fp32."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from asterism.embed import onnx_export
from asterism.embed.checkpoints import Clip, clip_info

import checkpointgen


def picture(seed: int, shape: tuple[int, int] = (60, 90)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return checkpointgen.tiny_clip(tmp_path_factory.mktemp("ckpt") / "tiny-clip")


@pytest.fixture(scope="module")
def on_torch(clip_folder: Path) -> Clip:
    return Clip(clip_folder, threads=1, runtime="torch")


class Quantisations:
    """Counts int8 quantisations (the real one runs; only counted)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = onnx_export.quantise

        def counting(model: bytes | str, output: Path) -> None:
            self.count += 1
            real(model, output)

        monkeypatch.setattr(onnx_export, "quantise", counting)


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)  # both unit rows


def test_the_int8_tower_is_built_cached_reused_and_close_to_torch(
    clip_folder: Path, on_torch: Clip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quantisations = Quantisations(monkeypatch)
    first = Clip(clip_folder, threads=1, cache_dir=tmp_path, precision="int8")
    assert (first.runtime, first.precision) == ("onnx", "int8") and quantisations.count == 1
    int8_file = onnx_export.cache_path(tmp_path, first.info, "int8")
    fp32_file = onnx_export.cache_path(tmp_path, first.info)
    assert int8_file != fp32_file and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [int8_file.name, fp32_file.name]
    )  # both cached, no temporary left behind
    assert int8_file.stat().st_size < fp32_file.stat().st_size  # int8 weights (tiny: graph overhead too)
    written = int8_file.stat().st_mtime_ns

    second = Clip(clip_folder, threads=1, cache_dir=tmp_path, precision="int8")
    assert second.precision == "int8" and quantisations.count == 1
    assert int8_file.stat().st_mtime_ns == written

    images = [picture(seed, (50 + seed, 70)) for seed in range(6)]
    int8_vectors, torch_vectors = second.embed_images(images), on_torch.embed_images(images)
    assert np.allclose(np.linalg.norm(int8_vectors, axis=1), 1, atol=1e-5)
    assert cosines(int8_vectors, torch_vectors).min() >= onnx_export.MIN_COSINE
    assert np.abs(int8_vectors - torch_vectors).max() > 0  # really quantised, not the fp32 graph
    assert second.info == on_torch.info  # the precision is not part of the identity
    fp32 = Clip(clip_folder, threads=1, cache_dir=tmp_path)
    assert fp32.precision == "fp32"
    assert np.abs(fp32.embed_images(images) - torch_vectors).max() <= 1e-4


def test_a_corrupt_int8_cache_file_is_replaced(
    clip_folder: Path, on_torch: Clip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    int8_file = onnx_export.cache_path(tmp_path, clip_info(clip_folder), "int8")
    tmp_path.mkdir(exist_ok=True)
    int8_file.write_bytes(b"not an onnx model")
    quantisations = Quantisations(monkeypatch)
    clip = Clip(clip_folder, threads=1, cache_dir=tmp_path, precision="int8")
    assert clip.precision == "int8" and quantisations.count == 1
    assert int8_file.read_bytes() != b"not an onnx model"
    assert Clip(clip_folder, threads=1, cache_dir=tmp_path, precision="int8").precision == "int8"
    assert quantisations.count == 1  # the replacement is trusted at the next start
    # A truncated int8 file (a copy cut short) does not load: quantised again.
    int8_file.write_bytes(int8_file.read_bytes()[:1000])
    again = Clip(clip_folder, threads=1, cache_dir=tmp_path, precision="int8")
    assert again.precision == "int8" and quantisations.count == 2
    image = [picture(7)]
    assert cosines(again.embed_images(image), on_torch.embed_images(image)).min() >= onnx_export.MIN_COSINE
    # A well-formed int8 tower of other weights (same name and shapes) loads but fails the bound.
    other = checkpointgen.tiny_clip(tmp_path / "other" / "tiny-clip", seed=1)
    Clip(other, threads=1, cache_dir=tmp_path / "other-cache", precision="int8")
    int8_file.write_bytes(
        onnx_export.cache_path(tmp_path / "other-cache", clip_info(other), "int8").read_bytes()
    )
    assert Clip(clip_folder, threads=1, cache_dir=tmp_path, precision="int8").precision == "int8"
    assert quantisations.count == 4  # the other checkpoint's, then ours again


def test_an_int8_tower_that_fails_its_check_falls_back_to_fp32_onnx_not_torch(
    clip_folder: Path,
    on_torch: Clip,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    Clip(clip_folder, threads=1, cache_dir=tmp_path, precision="int8")  # a good int8 file is cached
    int8_file = onnx_export.cache_path(tmp_path, clip_info(clip_folder), "int8")
    assert int8_file.is_file()
    monkeypatch.setattr(onnx_export, "MIN_COSINE", 1.5)  # no cosine reaches it
    with caplog.at_level(logging.WARNING, logger="asterism.embed.onnx_export"):
        clip = Clip(clip_folder, threads=1, cache_dir=tmp_path, precision="int8")
    assert (clip.runtime, clip.precision) == ("onnx", "fp32")
    assert "int8" in caplog.text and "running the fp32 ONNX tower" in caplog.text
    assert not int8_file.exists()  # nothing cached that a later start would trust
    assert onnx_export.cache_path(tmp_path, clip.info).is_file()  # the fp32 file stays
    images = [picture(seed) for seed in range(3)]
    assert np.abs(clip.embed_images(images) - on_torch.embed_images(images)).max() <= 1e-4  # fp32 itself

    caplog.clear()  # without a cache too: quantised in memory, rejected, fp32
    with caplog.at_level(logging.WARNING, logger="asterism.embed.onnx_export"):
        uncached = Clip(clip_folder, threads=1, precision="int8")
    assert (uncached.runtime, uncached.precision) == ("onnx", "fp32") and "int8" in caplog.text


def test_the_quantiser_leaves_the_root_logger_as_it_was(clip_folder: Path, tmp_path: Path) -> None:
    filters = list(logging.getLogger().filters)
    Clip(clip_folder, threads=1, cache_dir=tmp_path, precision="int8")
    assert logging.getLogger().filters == filters
    with pytest.raises(ValueError, match="precision"):
        Clip(clip_folder, precision="fp16")
