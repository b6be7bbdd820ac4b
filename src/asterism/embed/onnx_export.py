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

An int8 tower (``precision="int8"``, the ``models.tower_precision`` setting)
is the fp32 export passed through ORT's dynamic quantisation: MatMul and Gemm
weights int8 per output channel, activations quantised to uint8 per call. On
this machine's cores (AVX-512 VNNI) that is the lever the fp32 tower lacked:
ViT-B/32 tower 19 ms against 51 ms (0.4x), by ``bench/clip_upload.py`` and
RESULTS.md. Per-tensor weights ran as fast and were a little further from
fp32 (min cosine 0.99982 against 0.99986); unsigned weights ran at 42 ms and
``reduce_range`` at 80 ms (both leave the VNNI int8 kernels); ORT's
quantisation pre-processing (shape inference + fusions before quantising)
added 14 s and no measurable speed. It is cached beside the fp32 file under
its own name (export version + ``int8``), made once (B/32: ~4 s beyond the
export), and not trusted either: at every construction it runs beside torch
on the same random batch, and is accepted only if every row's cosine with
torch is at least ``MIN_COSINE``. Int8 changes the vectors, so the bound is
a cosine, not ``TOLERANCE``: 0.99 keeps an upload's vector within ~8° of the
fp32 one, far less than the gap between a picture and its nearest other
work. Measured on the random-weight ViT-B/32 of real size: 0.9998 against
torch, and 0.9998 against fp32 on the sample paintings. Random weights are
the kind case: trained CLIP towers carry a few activation channels of very
large magnitude, which per-call uint8 activations resolve coarsely, so a real
checkpoint will sit lower; how much was not measured here (no real weights on
this machine). That is what the check at every start is for: a tower below
the bound logs a warning and the fp32 ORT tower runs instead (not torch: the
fp32 file has passed its own check by then), and the int8 file is removed.
The identity does not name the precision: an accepted int8 vector is within
the bound of the fp32 one, and a start that falls back must not re-embed the
collection.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch

from asterism.embed.base import ModelInfo, l2_normalise

EXPORT_VERSION = "1"  # bump when the exported graph changes (inputs, outputs, opset)
OPSET = 17
TOLERANCE = 1e-4  # on unit vectors; observed ~1e-6 for CLIP and SigLIP (float32 both sides)
CHECK_BATCH = 2  # differs from the traced batch (1) on purpose
MIN_COSINE = 0.99  # int8 against torch, every row; measured 0.9998 on random ViT-B/32 (see above)

Precision = Literal["fp32", "int8"]

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


@dataclass(frozen=True)
class Tower:
    """An ORT session running the image tower, and the precision it runs at."""

    session: Any
    precision: Precision


def cache_path(cache_dir: Path, info: ModelInfo, precision: Precision = "fp32") -> Path:
    """Where a checkpoint's image tower export lives (the identity made file-name safe)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{info.id}-{info.version}")
    suffix = "" if precision == "fp32" else f"-{precision}"
    return Path(cache_dir) / f"{stem}-image-v{EXPORT_VERSION}{suffix}.onnx"


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
    # No spin-waiting after a run: ORT's idle threads otherwise keep a core busy for a while, and
    # what follows a model call in a request (keypoints, matching, FAISS, ranking) runs on that
    # core. Measured on the recognition path (2 cores, 30 simulated photos): its backbone-and-search
    # step 88.7 → 76.4 ms p50 with spinning off, the rest unchanged.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class _Reference:
    """The torch tower's output on the fixed random check batch, computed once per start."""

    def __init__(self, tower: torch.nn.Module, size: int) -> None:
        self.pixels: npt.NDArray[np.float32] = (
            np.random.default_rng(0).standard_normal((CHECK_BATCH, 3, size, size)).astype(np.float32)
        )
        with torch.inference_mode():
            self.expected: npt.NDArray[np.float32] = tower(torch.from_numpy(self.pixels)).float().numpy()

    def found(self, session: Any) -> npt.NDArray[np.float32] | None:
        """The session's normalised output on the batch, or None if its shape is wrong."""
        found: npt.NDArray[np.float32] = session.run(None, {"pixels": self.pixels})[0]
        return l2_normalise(found) if found.shape == self.expected.shape else None


def difference(session: Any, tower: torch.nn.Module, size: int) -> float:
    """Max abs difference of the normalised ORT and torch features on a fixed random batch."""
    return _difference(session, _Reference(tower, size))


def _difference(session: Any, reference: _Reference) -> float:
    found = reference.found(session)
    if found is None:
        return float("inf")
    return float(np.abs(found - l2_normalise(reference.expected)).max())


def cosines(session: Any, tower: torch.nn.Module, size: int) -> npt.NDArray[np.float32]:
    """Each row's cosine between the ORT and torch features on the fixed random batch."""
    return _cosines(session, _Reference(tower, size))


def _cosines(session: Any, reference: _Reference) -> npt.NDArray[np.float32]:
    found = reference.found(session)
    if found is None:
        return np.full(CHECK_BATCH, -np.inf, np.float32)
    out: npt.NDArray[np.float32] = (found * l2_normalise(reference.expected)).sum(axis=1)
    return out


def _checked(model: bytes | str, reference: _Reference, threads: int) -> tuple[Any, str]:
    """A session over ``model`` (bytes or a file) if it loads and matches torch, else None and why."""
    try:
        session = cpu_session(model, threads)
        diff = _difference(session, reference)
    except Exception as exc:  # ORT raises its own exception types for unreadable models
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"
    if not diff <= TOLERANCE:
        return None, f"max abs difference {diff:.2e} > {TOLERANCE:.0e}"
    return session, ""


def _checked_int8(model: bytes | str, reference: _Reference, threads: int) -> tuple[Any, str]:
    """A session over an int8 ``model`` if it loads and every row is within ``MIN_COSINE`` of torch."""
    try:
        session = cpu_session(model, threads)
        lowest = float(_cosines(session, reference).min())
    except Exception as exc:  # as in _checked
        return None, f"{type(exc).__name__}: {str(exc)[:200]}"
    if not lowest >= MIN_COSINE:
        return None, f"lowest cosine with torch {lowest:.5f} < {MIN_COSINE}"
    return session, ""


class _NoPreprocessingAdvice(logging.Filter):
    """Drops the quantiser's advice to pre-process first (measured: no faster here, 14 s more)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider to run pre-processing")


@contextlib.contextmanager
def _quiet_quantiser() -> Iterator[None]:
    """The quantiser logs through the root logger itself; only those records pass this filter."""
    root = logging.getLogger()
    advice = _NoPreprocessingAdvice()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)


def quantise(model: bytes | str, output: Path) -> None:
    """The fp32 tower (bytes or a file) dynamically quantised to int8, written to ``output``.

    Weights of MatMul and Gemm int8 per output channel; activations uint8, quantised per call.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source: Any = onnx.load_model_from_string(model) if isinstance(model, bytes) else model
    with _quiet_quantiser():
        quantize_dynamic(
            source,
            output,
            op_types_to_quantize=["MatMul", "Gemm"],
            per_channel=True,
            weight_type=QuantType.QInt8,
        )


def _write(path: Path, model: bytes) -> None:
    """``model`` under ``path``, written beside it then renamed over it: no half-written .onnx by its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(model)
    temporary.replace(path)


def _fp32_tower(
    reference: _Reference, tower: torch.nn.Module, size: int, info: ModelInfo, threads: int, path: Path | None
) -> tuple[Any, bytes | str]:
    """A checked fp32 session and its model (cached file's path, or export's bytes); None: torch."""
    if path is not None and path.is_file():
        session, problem = _checked(str(path), reference, threads)  # by path: no 1 GB bytes copy
        if session is not None:
            return session, str(path)
        log.info("cached ONNX image tower %s is not usable (%s): exporting again", path, problem)
    try:
        model = export_image_tower(tower, size)
    except Exception as exc:  # the exporter raises many kinds; any of them means "stay on torch"
        log.warning("%s: ONNX export of the image tower failed (%s); running it on torch", info.key, exc)
        return None, b""
    session, problem = _checked(model, reference, threads)
    if session is None:
        log.warning("%s: ONNX image tower does not match torch (%s); running it on torch", info.key, problem)
        if path is not None:
            path.unlink(missing_ok=True)  # never leave a file a later start would try again
        return None, b""
    if path is not None:
        _write(path, model)
    return session, model


def _int8_tower(
    reference: _Reference, fp32: bytes | str, info: ModelInfo, threads: int, path: Path | None
) -> tuple[Any, str]:
    """The fp32 model quantised and checked (and cached under ``path``), else None and why."""
    with tempfile.TemporaryDirectory(prefix="asterism-int8-") as scratch:
        quantised = Path(scratch) / "tower-int8.onnx"
        try:
            quantise(fp32, quantised)
        except Exception as exc:  # the quantiser raises many kinds; any of them means "stay on fp32"
            return None, f"quantisation failed ({type(exc).__name__}: {str(exc)[:200]})"
        session, problem = _checked_int8(str(quantised), reference, threads)
        if session is not None and path is not None:
            _write(path, quantised.read_bytes())
        return session, problem


def image_tower_session(
    tower: torch.nn.Module,
    size: int,
    info: ModelInfo,
    *,
    threads: int = 2,
    cache_dir: Path | None = None,
    precision: Precision = "fp32",
) -> Tower | None:
    """An ORT session running ``tower``, checked against it; None (and a warning) to stay on torch.

    ``precision="int8"`` gives the int8 tower if it passes its check, else (with a warning) fp32.
    """
    if precision not in ("fp32", "int8"):
        raise ValueError(f"unknown tower precision {precision!r} (fp32 or int8)")
    reference = _Reference(tower, size)
    path = cache_path(cache_dir, info) if cache_dir is not None else None
    int8_path = cache_path(cache_dir, info, "int8") if cache_dir is not None else None
    if precision == "int8" and int8_path is not None and int8_path.is_file():
        session, problem = _checked_int8(str(int8_path), reference, threads)
        if session is not None:
            return Tower(session, "int8")  # the fp32 file is not even opened: a faster start
        log.info("cached int8 ONNX image tower %s is not usable (%s): quantising again", int8_path, problem)
    fp32_session, fp32_model = _fp32_tower(reference, tower, size, info, threads, path)
    if fp32_session is None:
        return None
    if precision == "fp32":
        return Tower(fp32_session, "fp32")
    session, problem = _int8_tower(reference, fp32_model, info, threads, int8_path)
    if session is None:
        log.warning("%s: int8 ONNX image tower rejected (%s); running the fp32 ONNX tower", info.key, problem)
        if int8_path is not None:
            int8_path.unlink(missing_ok=True)  # never leave a file a later start would try again
        return Tower(fp32_session, "fp32")
    return Tower(session, "int8")
