"""Optional vision-language and vision models from a local checkpoint folder: CLIP, SigLIP, DINOv2.

All load through ``transformers`` from a folder saved by ``save_pretrained``
(``config.json`` + weights; for CLIP and SigLIP also the tokenizer files and,
usually, ``preprocessor_config.json``). OpenAI CLIP and OpenCLIP/LAION
checkpoints published in that format (e.g.
``laion/CLIP-ViT-B-32-laion2B-s34B-b79K``) load the same way. Native
``open_clip`` ``.pt`` files are not read: the ``open_clip_torch`` package
depends on torchvision, which would pull a CUDA build of torch (see the
README's torch note); convert them once with ``transformers``' conversion
script instead.

``Clip`` serves both image-text families, told apart by the checkpoint's
``model_type``, because they differ only in details that matter:

* CLIP resizes the short side and centre-crops; its text tower is causal and
  pools the end-of-text token, so texts are padded to the batch's longest and
  masked.
* SigLIP (``model_type: siglip``; SigLIP 2's fixed-resolution checkpoints
  such as ``google/siglip2-base-patch16-224`` declare it too) squashes the
  whole picture to a square, normalises with its own mean/std (0.5 in
  transformers' ``SiglipImageProcessor``), and its text tower pools the *last
  position*, which was trained padded on the right to
  ``max_position_embeddings`` with no attention mask (big_vision, open_clip).
  So texts are padded that way and only ``input_ids`` are passed: padding to
  the batch's longest or masking the padding would give each text a vector
  that depends on its neighbours in the batch. Texts are lowercased: SigLIP 2
  was trained on lowercased captions, and the Gemma tokenizer that its
  fixed-resolution checkpoints ship does not lowercase (SigLIP 1's tokenizer
  does, so there it changes nothing).
* SigLIP 2 NaFlex checkpoints (``model_type: siglip2``) are refused: their
  image tower takes patch sequences with ``spatial_shapes`` and a pixel mask,
  not a square picture, so neither this preprocessing nor the ONNX export
  applies.

The image tower runs on ONNX Runtime by default (``onnx_export``), the text
tower on torch: the image tower is what an upload waits for. The ORT tower
may run int8 (``precision="int8"``): 0.4x the fp32 tower's time on ViT-B/32
here, accepted at every start only within a cosine bound of torch.

Nothing is downloaded: ``local_files_only`` everywhere. Preprocessing is
Pillow + NumPy, read from the checkpoint's ``preprocessor_config.json`` when
present. A checkpoint's identity (``ModelInfo``) is its family, folder name
and a digest of its config and its weight files (size, first and last MiB: no
full read of a 600 MB file at every start), so pointing the settings at
another checkpoint re-embeds.
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
SIGLIP_MEAN = (0.5, 0.5, 0.5)  # transformers' SiglipImageProcessor defaults (IMAGENET_STANDARD_*)
SIGLIP_STD = (0.5, 0.5, 0.5)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
FINGERPRINT = 1 << 20  # bytes read from each end of a weight file for its identity


class CheckpointError(ValueError):
    """The configured checkpoint folder is missing or is not the expected kind of model."""


@dataclass(frozen=True)
class Preprocess:
    """Picture to normalised ``size``² pixels: crop (CLIP, DINOv2) or squash (SigLIP), then normalise.

    ``crop``: short side to ``size``, centre crop ``size``² (the tower never sees the edges of a
    long picture). Otherwise the whole picture is resized to ``size``², as SigLIP was trained.
    """

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    crop: bool = True
    resample: Image.Resampling = Image.Resampling.BICUBIC

    def __call__(self, images: Sequence[RGB]) -> npt.NDArray[np.float32]:
        batch = np.stack([self._one(image) for image in images]).astype(np.float32) / np.float32(255)
        normalised = (batch - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        out: npt.NDArray[np.float32] = np.ascontiguousarray(normalised.transpose(0, 3, 1, 2), np.float32)
        return out

    def _one(self, image: RGB) -> RGB:
        picture = Image.fromarray(image)
        if not self.crop:
            return np.asarray(picture.resize((self.size, self.size), self.resample), dtype=np.uint8)
        width, height = picture.size
        scale = self.size / min(width, height)
        resized = picture.resize(
            (max(self.size, round(width * scale)), max(self.size, round(height * scale))), self.resample
        )
        left = (resized.width - self.size) // 2
        top = (resized.height - self.size) // 2
        return np.asarray(resized.crop((left, top, left + self.size, top + self.size)), dtype=np.uint8)


@dataclass(frozen=True)
class Family:
    """What differs between image-text model families (see the module docstring)."""

    name: str  # the identity's prefix
    model_class: str  # in ``transformers``
    label: str  # for messages
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    crop: bool  # centre crop (CLIP) or squash the whole picture (SigLIP)
    pad_to_max: bool  # pad texts on the right to max_position_embeddings, no attention mask, lowercase

    def dim(self, config: dict[str, Any]) -> int:
        """The joint space's size from a raw config.json, with transformers' defaults for absent keys."""
        if self.name == "clip":
            return int(config.get("projection_dim", 512))
        return int(config.get("vision_config", {}).get("hidden_size", 768))

    def tower_dims(self, config: Any) -> tuple[int, int]:
        """The image and text features' sizes of a loaded model's config (they must agree)."""
        if self.name == "clip":
            return int(config.projection_dim), int(config.projection_dim)
        if not getattr(config.vision_config, "vision_use_head", True):
            return 0, int(config.text_config.projection_size)  # no pooling head: no image vector
        return int(config.vision_config.hidden_size), int(config.text_config.projection_size)


CLIP = Family("clip", "CLIPModel", "CLIP", CLIP_MEAN, CLIP_STD, crop=True, pad_to_max=False)
SIGLIP = Family("siglip", "SiglipModel", "SigLIP", SIGLIP_MEAN, SIGLIP_STD, crop=False, pad_to_max=True)
FAMILIES = {"clip": CLIP, "siglip": SIGLIP}


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


def family_of(path: Path) -> Family:
    """The image-text family of a checkpoint folder, from its ``model_type`` (no weights loaded)."""
    found = _config(path).get("model_type")
    if found == "siglip2":
        raise CheckpointError(
            f"{path} is a SigLIP 2 NaFlex checkpoint (model_type 'siglip2'), whose image tower takes "
            "patch sequences, not square pictures; use a fixed-resolution SigLIP 2 checkpoint "
            "(model_type 'siglip', e.g. google/siglip2-base-patch16-224)"
        )
    if found not in FAMILIES:
        raise CheckpointError(f"{path} holds a {found!r} model, not a CLIP or SigLIP checkpoint")
    return FAMILIES[found]


def image_text_info(path: Path) -> ModelInfo:
    """An image-text checkpoint's identity (``clip:…`` or ``siglip:…``) and vector size, from its config."""
    family = family_of(path)
    return checkpoint_info(family.name, path, family.dim(_config(path)))


def clip_info(path: Path) -> ModelInfo:
    """``image_text_info`` under its first name: the ``clip_path`` setting may name a SigLIP too."""
    return image_text_info(path)


def dinov2_info(path: Path) -> ModelInfo:
    """A DINOv2 checkpoint's identity; its vector is class token ‖ mean patch token."""
    return checkpoint_info("dinov2", path, 2 * int(_config(path).get("hidden_size", 768)))


def _preprocess(folder: Path, default_size: int, mean: Any, std: Any, *, crop: bool = True) -> Preprocess:
    """The checkpoint's own preprocessing settings where it ships them, the family's defaults otherwise.

    A crop family's input size is ``crop_size``; a squash family's is ``size`` (``height``/``width``).
    """
    config_file = folder / "preprocessor_config.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    setting = config.get("crop_size" if crop else "size", default_size)
    if isinstance(setting, dict):
        height = int(setting.get("height", default_size))
        if int(setting.get("width", height)) != height:
            raise CheckpointError(f"{folder}: non-square input size {setting} is not supported")
        setting = height
    if not config.get("do_normalize", True):
        mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    resample = Image.Resampling(int(config.get("resample", Image.Resampling.BICUBIC)))
    return Preprocess(
        int(setting),
        tuple(config.get("image_mean", mean))[:3],
        tuple(config.get("image_std", std))[:3],
        crop=crop,
        resample=resample,
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


def _pooled(output: Any) -> Any:
    """``get_*_features`` returns a tensor in older transformers, a model output in newer ones."""
    return output if hasattr(output, "detach") else output.pooler_output


class Clip:
    """A CLIP or SigLIP model: images and texts into one joint space (the conceptual affinity's option).

    ``runtime="onnx"`` (the default) runs the image tower on ONNX Runtime from an export cached
    in ``cache_dir`` and checked against torch at every start; ``"torch"``, or a failed export or
    check, runs it on torch. Both give the same vectors, so the identity does not name the runtime.
    ``precision="int8"`` runs a quantised ORT tower if it passes its own check (cosine with torch
    ≥ ``onnx_export.MIN_COSINE``), else the fp32 one; ``self.precision`` says which runs.
    """

    def __init__(
        self,
        path: Path,
        *,
        threads: int = 2,
        batch_size: int = 16,
        runtime: str = "onnx",
        cache_dir: Path | None = None,
        precision: str = "fp32",
    ) -> None:
        if runtime not in ("onnx", "torch"):
            raise ValueError(f"unknown runtime {runtime!r} (onnx or torch)")
        if precision not in ("fp32", "int8"):
            raise ValueError(f"unknown tower precision {precision!r} (fp32 or int8)")
        _offline()
        import torch
        import transformers

        folder = Path(path)
        self.family = family_of(folder)
        model = _load(
            getattr(transformers, self.family.model_class), folder, self.family.name, self.family.label
        )
        torch.set_num_threads(threads)
        self._torch = torch
        self._model = model.eval()
        self._tokenizer: Any = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self._max_tokens = int(model.config.text_config.max_position_embeddings)
        self._batch_size = batch_size
        vision_size = int(model.config.vision_config.image_size)
        self.preprocess = _preprocess(
            folder, vision_size, self.family.mean, self.family.std, crop=self.family.crop
        )
        if self.preprocess.size != vision_size:
            raise CheckpointError(
                f"{folder}: preprocessor size {self.preprocess.size} ≠ model's {vision_size}"
            )
        self.info = image_text_info(folder)
        if self.family.tower_dims(model.config) != (self.info.dim, self.info.dim):
            raise CheckpointError(
                f"{folder}: image and text features {self.family.tower_dims(model.config)} do not share "
                f"one {self.info.dim}-dimensional space"
            )
        if self.family.pad_to_max:
            self._tokenizer.padding_side = "right"  # as trained; the pooled last position is padding
        self._session: Any = None
        self.precision = "fp32"  # what the image tower runs at: int8 only on ORT, after its check
        if runtime == "onnx":
            from asterism.embed.onnx_export import ImageTower, image_tower_session

            tower = image_tower_session(
                ImageTower(model),
                vision_size,
                self.info,
                threads=threads,
                cache_dir=cache_dir,
                precision="int8" if precision == "int8" else "fp32",
            )
            if tower is not None:
                self._session, self.precision = tower.session, tower.precision
        if self._session is not None:
            model.vision_model = None  # ONNX Runtime holds its own copy: free torch's (350 MB for B/32)
        self.runtime = "onnx" if self._session is not None else "torch"

    def embed_images(self, images: Sequence[RGB]) -> Vectors:
        rows = []
        with self._torch.inference_mode():
            for start in range(0, len(images), self._batch_size):
                pixels = self.preprocess(images[start : start + self._batch_size])
                if self._session is not None:
                    rows.append(self._session.run(None, {"pixels": pixels})[0])
                else:
                    output = self._model.get_image_features(pixel_values=self._torch.from_numpy(pixels))
                    rows.append(_pooled(output).float().numpy())
        return _stack(rows, self.info.dim)

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        rows = []
        with self._torch.inference_mode():
            for start in range(0, len(texts), self._batch_size):
                batch = list(texts[start : start + self._batch_size])
                tokens = self._tokenizer(
                    [text.lower() for text in batch] if self.family.pad_to_max else batch,
                    padding="max_length" if self.family.pad_to_max else True,
                    truncation=True,
                    max_length=self._max_tokens,
                    return_tensors="pt",
                )
                mask = None if self.family.pad_to_max else tokens["attention_mask"]
                output = self._model.get_text_features(input_ids=tokens["input_ids"], attention_mask=mask)
                rows.append(_pooled(output).float().numpy())
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
