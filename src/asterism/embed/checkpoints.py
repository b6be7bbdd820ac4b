"""Optional vision-language and vision models from a local checkpoint folder: CLIP and DINOv2.

Both load through ``transformers`` from a folder saved by ``save_pretrained``
(``config.json`` + weights; for CLIP also the tokenizer files and, usually,
``preprocessor_config.json``). OpenAI CLIP and OpenCLIP/LAION checkpoints
published in that format (e.g. ``laion/CLIP-ViT-B-32-laion2B-s34B-b79K``)
load the same way. Native ``open_clip`` ``.pt`` files are not read: the
``open_clip_torch`` package depends on torchvision, which would pull a CUDA
build of torch (see the README's torch note); convert them once with
``transformers``' conversion script instead.

Nothing is downloaded: ``local_files_only`` everywhere. Preprocessing is
Pillow + NumPy (resize the short side, centre-crop, normalise), read from the
checkpoint's ``preprocessor_config.json`` when present. A checkpoint's
identity (``ModelInfo``) is its folder name plus a digest of its config and
its weight files (size, first and last MiB: no full read of a 600 MB file at
every start), so pointing the settings at another checkpoint re-embeds.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from asterism.embed.base import RGB, ModelInfo, Vectors, l2_normalise

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
FINGERPRINT = 1 << 20  # bytes read from each end of a weight file for its identity


class CheckpointError(ValueError):
    """The configured checkpoint folder is missing or is not the expected kind of model."""


@dataclass(frozen=True)
class Preprocess:
    """Short side to ``size``, centre crop ``size``², scale to [0, 1], normalise per channel."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __call__(self, images: Sequence[RGB]) -> npt.NDArray[np.float32]:
        batch = np.stack([self._one(image) for image in images]).astype(np.float32) / np.float32(255)
        normalised = (batch - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        out: npt.NDArray[np.float32] = np.ascontiguousarray(normalised.transpose(0, 3, 1, 2), np.float32)
        return out

    def _one(self, image: RGB) -> RGB:
        picture = Image.fromarray(image)
        width, height = picture.size
        scale = self.size / min(width, height)
        resized = picture.resize(
            (max(self.size, round(width * scale)), max(self.size, round(height * scale))),
            Image.Resampling.BICUBIC,
        )
        left = (resized.width - self.size) // 2
        top = (resized.height - self.size) // 2
        return np.asarray(resized.crop((left, top, left + self.size, top + self.size)), dtype=np.uint8)


def checkpoint_info(kind: str, path: Path, dim: int) -> ModelInfo:
    """Identity of a checkpoint folder without loading it: name + digest of config and weight sizes."""
    folder = Path(path)
    config = folder / "config.json"
    if not config.is_file():
        raise CheckpointError(f"{folder} is not a model checkpoint folder (no config.json)")
    digest = hashlib.sha256(config.read_bytes())
    for weights in sorted(p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
        with weights.open("rb") as handle:  # head and tail: cheap, and differs for other weights
            digest.update(handle.read(FINGERPRINT))
            handle.seek(max(0, weights.stat().st_size - FINGERPRINT))
            digest.update(handle.read(FINGERPRINT))
    return ModelInfo(f"{kind}:{folder.name}", digest.hexdigest()[:12], dim)


def _config(path: Path) -> dict[str, Any]:
    config = Path(path) / "config.json"
    if not config.is_file():
        raise CheckpointError(f"{path} is not a model checkpoint folder (no config.json)")
    loaded: dict[str, Any] = json.loads(config.read_text())
    return loaded


def clip_info(path: Path) -> ModelInfo:
    """A CLIP checkpoint's identity and vector size, read from its config (no weights loaded)."""
    return checkpoint_info("clip", path, int(_config(path).get("projection_dim", 512)))


def dinov2_info(path: Path) -> ModelInfo:
    """A DINOv2 checkpoint's identity; its vector is class token ‖ mean patch token."""
    return checkpoint_info("dinov2", path, 2 * int(_config(path).get("hidden_size", 768)))


def _preprocess(folder: Path, default_size: int, mean: Any, std: Any) -> Preprocess:
    """The checkpoint's own preprocessing settings where it ships them."""
    config_file = folder / "preprocessor_config.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    crop = config.get("crop_size", default_size)
    size = int(crop.get("height", default_size) if isinstance(crop, dict) else crop)
    return Preprocess(
        size, tuple(config.get("image_mean", mean))[:3], tuple(config.get("image_std", std))[:3]
    )


def _load(model_class: Any, folder: Path, model_type: str, name: str) -> Any:
    """``from_pretrained`` that refuses another architecture or missing weights (transformers only warns)."""
    found = _config(folder).get("model_type")
    if found != model_type:
        raise CheckpointError(f"{folder} holds a {found!r} model, not a {name} checkpoint")
    try:
        model, info = model_class.from_pretrained(
            str(folder), local_files_only=True, output_loading_info=True
        )
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"cannot load a {name} checkpoint from {folder}: {exc}") from exc
    if info.get("missing_keys"):
        missing = sorted(info["missing_keys"])
        raise CheckpointError(f"{name} checkpoint {folder} lacks weights: {', '.join(missing[:5])}")
    return model


def _offline() -> None:
    """Never reach a model hub, and keep transformers' own progress bars off our terminal."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]


class Clip:
    """A CLIP model: images and texts into one joint space (the conceptual affinity's option)."""

    def __init__(self, path: Path, *, threads: int = 2, batch_size: int = 16) -> None:
        _offline()
        import torch
        from transformers import AutoTokenizer, CLIPModel

        folder = Path(path)
        model = _load(CLIPModel, folder, "clip", "CLIP")
        torch.set_num_threads(threads)
        self._torch = torch
        self._model = model.eval()
        self._tokenizer: Any = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self._max_tokens = int(model.config.text_config.max_position_embeddings)
        self._batch_size = batch_size
        vision_size = int(model.config.vision_config.image_size)
        self.preprocess = _preprocess(folder, vision_size, CLIP_MEAN, CLIP_STD)
        self.info = clip_info(folder)

    @staticmethod
    def _pooled(output: Any) -> Any:
        """``get_*_features`` returns a tensor in older transformers, a model output in newer ones."""
        return output if hasattr(output, "detach") else output.pooler_output

    def embed_images(self, images: Sequence[RGB]) -> Vectors:
        rows = []
        with self._torch.inference_mode():
            for start in range(0, len(images), self._batch_size):
                pixels = self._torch.from_numpy(self.preprocess(images[start : start + self._batch_size]))
                output = self._model.get_image_features(pixel_values=pixels)
                rows.append(self._pooled(output).float().numpy())
        return _stack(rows, self.info.dim)

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        rows = []
        with self._torch.inference_mode():
            for start in range(0, len(texts), self._batch_size):
                tokens = self._tokenizer(
                    list(texts[start : start + self._batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=self._max_tokens,
                    return_tensors="pt",
                )
                output = self._model.get_text_features(
                    input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]
                )
                rows.append(self._pooled(output).float().numpy())
        out = _stack(rows, self.info.dim)
        out[[not text.strip() for text in texts]] = 0.0
        return out


class Dinov2:
    """DINOv2 image features (class token ‖ mean patch token): a stronger texture/structure signal."""

    def __init__(self, path: Path, *, threads: int = 2, batch_size: int = 8) -> None:
        _offline()
        import torch
        from transformers import Dinov2Model

        folder = Path(path)
        model = _load(Dinov2Model, folder, "dinov2", "DINOv2")
        torch.set_num_threads(threads)
        self._torch = torch
        self._model = model.eval()
        self._batch_size = batch_size
        self.preprocess = _preprocess(
            folder, min(224, int(model.config.image_size)), IMAGENET_MEAN, IMAGENET_STD
        )
        self.info = dinov2_info(folder)

    def embed_images(self, images: Sequence[RGB]) -> Vectors:
        rows = []
        with self._torch.inference_mode():
            for start in range(0, len(images), self._batch_size):
                pixels = self._torch.from_numpy(self.preprocess(images[start : start + self._batch_size]))
                hidden = self._model(pixel_values=pixels).last_hidden_state
                features = self._torch.cat([hidden[:, 0], hidden[:, 1:].mean(dim=1)], dim=1)
                rows.append(features.float().numpy())
        return _stack(rows, self.info.dim)


def _stack(rows: list[npt.NDArray[np.float32]], dim: int) -> Vectors:
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    return l2_normalise(np.concatenate(rows))
