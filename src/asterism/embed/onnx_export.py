"""The image tower of a CLIP or SigLIP checkpoint on ONNX Runtime: export once, cache, check, or fall back.

An upload waits for one picture's image embedding, and on 2 cores ONNX
Runtime runs a ViT image tower faster than eager torch, as it does the CNN
backbone (``backbone.py``). ``bench/clip_upload.py``, one picture at a time,
2 threads: ViT-B/32 tower 53–61 ms on ORT against 91–102 ms on torch (0.6x),
ViT-L/14 785 against 883 ms (0.9x); and torch's p95 collapses (to ~2 s for
B/32) whenever other work takes a core, ORT's much less. So the tower (vision
transformer + projection, exactly ``get_image_features``) is exported with
``torch.onnx`` and run by ORT; the text tower stays on torch (search queries
are short and rare).

The export uses the TorchScript exporter (``dynamo=False``), as the backbone
does: the dynamo exporter needs ``onnxscript``, which is not installed.
Opset 17, one dynamic axis (the batch). The export is traced at batch 1 and
checked at batch 2, so a batch size frozen into the graph would fail the
check rather than the first batched call. ORT's transformer fusions
(``onnxruntime.transformers.optimizer``, attention + LayerNorm + QuickGelu)
were tried on ViT-B/32 and gave nothing measurable: at 50 tokens the tower
is bound by its dense layers, which ORT already runs near the cores' fp32 peak.

The ``.onnx`` file is cached under ``cache_dir`` keyed by the checkpoint's
identity (family, folder name, weight digest) and an export version, so it is
made once per checkpoint (ViT-B/32: 5–10 s; ViT-L/14: ~23 s). A cached file is
not trusted: every construction runs it and the torch model on the same
random batch and compares the L2-normalised outputs (max abs diff ≤
``TOLERANCE``). A file that does not load or does not match (truncated, or
another model's) is exported again and replaced; an export that fails or does
not match logs a warning and the caller runs the tower on torch. A start from
the cache, check included, took ~1.2 s for ViT-B/32 and ~8 s for ViT-L/14.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from asterism.embed.base import ModelInfo, l2_normalise

EXPORT_VERSION = "1"  # bump when the exported graph changes (inputs, outputs, opset)
OPSET = 17
TOLERANCE = 1e-4  # on unit vectors; observed ~1e-6 for CLIP and SigLIP (float32 both sides)
CHECK_BATCH = 2  # differs from the traced batch (1) on purpose

log = logging.getLogger(__name__)


class ImageTower(torch.nn.Module):
    """Pixels in, joint-space image features out (not normalised): the model's ``get_image_features``."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        output = self.model.get_image_features(pixel_values=pixels)
        features: torch.Tensor = output if isinstance(output, torch.Tensor) else output.pooler_output
        return features


def cache_path(cache_dir: Path, info: ModelInfo) -> Path:
    """Where a checkpoint's image tower export lives (the identity made file-name safe)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{info.id}-{info.version}")
    return Path(cache_dir) / f"{stem}-image-v{EXPORT_VERSION}.onnx"


def export_image_tower(tower: torch.nn.Module, size: int) -> bytes:
    """The tower as an ONNX model (input ``pixels`` (n, 3, size, size), output ``features``)."""
    buffer = io.BytesIO()
    # The legacy exporter warns that it is legacy, and the tracer about Python booleans taken from
    # tensors in transformers' shape checks (constant for a fixed input size): noise here.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), torch.inference_mode(False):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            tower,
            (torch.zeros(1, 3, size, size),),
            buffer,  # type: ignore[arg-type]  # the TorchScript exporter writes to file objects too
            input_names=["pixels"],
            output_names=["features"],
            dynamic_axes={"pixels": {0: "batch"}, "features": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return buffer.getvalue()


def cpu_session(model: bytes | str, threads: int) -> Any:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads (one inter-op: requests bring their own)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def difference(session: Any, tower: torch.nn.Module, size: int) -> float:
    """Max abs difference of the normalised ORT and torch features on a fixed random batch."""
    pixels: npt.NDArray[np.float32] = (
        np.random.default_rng(0).standard_normal((CHECK_BATCH, 3, size, size)).astype(np.float32)
    )
    with torch.inference_mode():
        expected = tower(torch.from_numpy(pixels)).float().numpy()
    found = session.run(None, {"pixels": pixels})[0]
    if found.shape != expected.shape:
        return float("inf")
    return float(np.abs(l2_normalise(found) - l2_normalise(expected)).max())


def _checked(model: bytes | str, tower: torch.nn.Module, size: int, threads: int) -> tuple[Any, str]:
    """A session over ``model`` (bytes or a file) if it loads and matches torch, else None and why."""
    try:
        session = cpu_session(model, threads)
        diff = difference(session, tower, size)
    except Exception as exc:  # ORT raises its own exception types for unreadable models
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"
    if not diff <= TOLERANCE:
        return None, f"max abs difference {diff:.2e} > {TOLERANCE:.0e}"
    return session, ""


def image_tower_session(
    tower: torch.nn.Module, size: int, info: ModelInfo, *, threads: int = 2, cache_dir: Path | None = None
) -> Any | None:
    """An ORT session running ``tower``, checked against it; None (and a warning) to stay on torch."""
    path = cache_path(cache_dir, info) if cache_dir is not None else None
    if path is not None and path.is_file():
        session, problem = _checked(str(path), tower, size, threads)  # by path: no 1 GB bytes copy
        if session is not None:
            return session
        log.info("cached ONNX image tower %s is not usable (%s): exporting again", path, problem)
    try:
        model = export_image_tower(tower, size)
    except Exception as exc:  # the exporter raises many kinds; any of them means "stay on torch"
        log.warning("%s: ONNX export of the image tower failed (%s); running it on torch", info.key, exc)
        return None
    session, problem = _checked(model, tower, size, threads)
    if session is None:
        log.warning("%s: ONNX image tower does not match torch (%s); running it on torch", info.key, problem)
        if path is not None:
            path.unlink(missing_ok=True)  # never leave a file a later start would try again
        return None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(model)
        temporary.replace(
            path
        )  # written beside it, then renamed over it: no half-written .onnx under its name
    return session
