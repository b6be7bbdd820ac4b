"""Can an upload afford a CLIP-class image tower? Per-picture latency, torch vs ONNX Runtime.

    .venv/bin/python bench/clip_upload.py [--data ../shared/data] [--count 40] [--large]

No real CLIP weights are on this machine (they are pulled by the user), and
latency does not depend on the weights' values, only on the architecture: so
a CLIP ViT-B/32 with *random* weights of the real sizes (vision: hidden 768,
12 layers, 12 heads, patch 32, 224 px; text: hidden 512, 12 layers, 8 heads,
77 tokens, 49,408-token vocabulary; projection 512) is saved to a temporary
folder with a CLIP preprocessor config and loaded by the product's own
``Clip`` loader, once per runtime. ``--large`` adds ViT-L/14 (1024 hidden, 24
layers, 16 heads, patch 14; text 768/12/12; projection 768).

Each upload is timed alone, one picture at a time, as the server handles it:
decode the JPEG bytes (``decode_image``, the upload path's decoder), then
``embed_images`` on the one picture (preprocess + image tower + normalise).
The runtimes take turns on every picture (so load from other work on the
machine hits them alike), after a warm-up. A third row runs torch on one
thread: with two OpenMP threads, torch slows down badly when anything else
competes for the two cores. A fourth row runs the int8 ONNX tower
(``precision="int8"``: dynamic quantisation of the fp32 export, checked
against torch at construction). Printed: a Markdown table of p50 and p95 per
runtime, the tower's own p50 and p95 (``embed_images`` minus a separate
timing of the preprocessing), the ONNX/torch and int8/fp32 ratios, the
one-time costs (export + check, then a start from the cache; quantising, then
an int8 start from the cache), the largest difference between the fp32 ONNX
and torch vectors, and the cosine between the int8 and fp32 ONNX vectors of
the same sample pictures (lowest and median).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from asterism.embed.checkpoints import CLIP_MEAN, CLIP_STD, Clip
from asterism.images.decode import decode_image

ARCHITECTURES: dict[str, dict[str, Any]] = {
    "ViT-B/32": {
        "vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                          "num_attention_heads": 12, "patch_size": 32, "image_size": 224},
        "text_config": {"hidden_size": 512, "intermediate_size": 2048, "num_hidden_layers": 12,
                        "num_attention_heads": 8, "max_position_embeddings": 77, "vocab_size": 49408},
        "projection_dim": 512,
    },
    "ViT-L/14": {
        "vision_config": {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24,
                          "num_attention_heads": 16, "patch_size": 14, "image_size": 224},
        "text_config": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                        "num_attention_heads": 12, "max_position_embeddings": 77, "vocab_size": 49408},
        "projection_dim": 768,
    },
}  # fmt: skip
MAX_PIXELS = 50_000_000
MAX_BYTES = 50 << 20
BUDGET_MS = 100.0  # p50 target for a whole upload with a CLIP-class model, 2 cores
OTHER_MODELS_MS = 50.0  # CNN backbone + MiniLM on the same upload path, measured


def random_clip(folder: Path, architecture: str) -> Path:
    """A randomly initialised CLIP of the real architecture, saved as a checkpoint folder."""
    import torch
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPConfig, CLIPModel, CLIPTokenizer

    torch.manual_seed(0)
    sizes = ARCHITECTURES[architecture]
    symbols = sorted(ByteLevel.alphabet())  # a byte vocabulary: enough to tokenize, sizes unaffected
    vocab = {
        t: i
        for i, t in enumerate([*symbols, *(f"{s}</w>" for s in symbols), "<|startoftext|>", "<|endoftext|>"])
    }
    text = sizes["text_config"] | {"bos_token_id": vocab["<|startoftext|>"], "eos_token_id": vocab["<|endoftext|>"],
                                   "pad_token_id": vocab["<|endoftext|>"]}  # fmt: skip
    config = CLIPConfig(
        text_config=text, vision_config=sizes["vision_config"], projection_dim=sizes["projection_dim"]
    )
    CLIPModel(config).save_pretrained(folder)
    CLIPTokenizer(vocab=vocab, merges=[]).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(
        json.dumps({"crop_size": {"height": 224, "width": 224}, "size": {"shortest_edge": 224},
                    "image_mean": list(CLIP_MEAN), "image_std": list(CLIP_STD), "resample": 3})
    )  # fmt: skip
    return folder


def timed(function: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = function(*args)
    return result, (time.perf_counter() - start) * 1000


def decode(data: bytes) -> np.ndarray:
    """What the upload path does first: safe decode to an RGB array."""
    return np.asarray(decode_image(data, max_pixels=MAX_PIXELS, max_bytes=MAX_BYTES).image)


def run(architecture: str, pictures: list[bytes], warmup: int, threads: int) -> tuple[list[str], str]:
    """Markdown rows and a note for one architecture."""
    import torch

    with tempfile.TemporaryDirectory(prefix="clip-bench-") as scratch:
        folder = random_clip(Path(scratch) / "clip", architecture)
        cache = Path(scratch) / "onnx"
        on_torch = Clip(folder, threads=threads, runtime="torch")
        on_onnx, first_ms = timed(lambda: Clip(folder, threads=threads, cache_dir=cache))
        assert on_onnx.runtime == "onnx", "the ONNX export failed or did not match: see the warning"
        del on_onnx
        on_onnx, cached_ms = timed(lambda: Clip(folder, threads=threads, cache_dir=cache))
        on_int8, quantise_ms = timed(lambda: Clip(folder, threads=threads, cache_dir=cache, precision="int8"))
        assert on_int8.precision == "int8", "the int8 tower failed its check: see the warning"
        del on_int8
        on_int8, int8_cached_ms = timed(
            lambda: Clip(folder, threads=threads, cache_dir=cache, precision="int8")
        )
        # torch's thread count is process-wide, so the 1-thread row sets it around each of its calls.
        runtimes = {
            "torch": (on_torch, threads),
            "onnx": (on_onnx, threads),
            "onnx int8": (on_int8, threads),
            "torch, 1 thread": (on_torch, 1),
        }
        totals: dict[str, list[float]] = {name: [] for name in runtimes}
        towers: dict[str, list[float]] = {name: [] for name in runtimes}
        decodes: list[float] = []
        largest = 0.0
        int8_cosines: list[float] = []
        for index, data in enumerate(pictures):
            order = list(runtimes) if index % 2 == 0 else list(reversed(runtimes))
            vectors = {}
            for name in order:
                clip, torch_threads = runtimes[name]
                torch.set_num_threads(torch_threads)
                decoded, decode_ms = timed(decode, data)
                vectors[name], embed_ms = timed(clip.embed_images, [decoded])
                _, preprocess_ms = timed(clip.preprocess, [decoded])
                torch.set_num_threads(threads)
                if index >= warmup:
                    totals[name].append(decode_ms + embed_ms)
                    towers[name].append(embed_ms - preprocess_ms)
                    decodes.append(decode_ms)
            largest = max(largest, float(np.abs(vectors["onnx"] - vectors["torch"]).max()))
            int8_cosines.append(float((vectors["onnx int8"] * vectors["onnx"]).sum()))  # unit rows
    n = len(pictures) - warmup
    rows = []
    for name in runtimes:
        p50, p95 = np.percentile(totals[name], [50, 95])
        tower, tower95 = (float(v) for v in np.percentile(towers[name], [50, 95]))
        upload = p50 + OTHER_MODELS_MS
        rows.append(
            f"| {architecture} | {name} | {n} | {p50:.1f} | {p95:.1f} | {tower:.1f} | {tower95:.1f} | "
            f"{upload:.0f} ({'≤' if upload <= BUDGET_MS else '>'} {BUDGET_MS:.0f}) | {tower / upload:.0%} |"
        )
    for ratio, (top, bottom) in {
        "onnx/torch": ("onnx", "torch"),
        "int8/fp32 onnx": ("onnx int8", "onnx"),
    }.items():
        a, b = np.asarray(totals[top]), np.asarray(totals[bottom])
        rows.append(
            f"| {architecture} | {ratio} | | {np.median(a) / np.median(b):.2f}x | "
            f"{np.percentile(a, 95) / np.percentile(b, 95):.2f}x | "
            f"{np.median(towers[top]) / np.median(towers[bottom]):.2f}x | "
            f"{np.percentile(towers[top], 95) / np.percentile(towers[bottom], 95):.2f}x | | |"
        )
    note = (
        f"{architecture}: decode p50 {np.median(decodes):.1f} ms; first ONNX start (export + check) "
        f"{first_ms / 1000:.1f} s, start from the cache (check only) {cached_ms / 1000:.1f} s; "
        f"max |onnx − torch| over the unit vectors {largest:.1e}; int8: quantise + check "
        f"{quantise_ms / 1000:.1f} s (fp32 from the cache), start from the cache {int8_cached_ms / 1000:.1f} s, "
        f"cosine int8 vs fp32 on the {len(int8_cosines)} pictures: lowest {min(int8_cosines):.5f}, "
        f"median {np.median(int8_cosines):.5f}"
    )
    return rows, note


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--count", type=int, default=40, help="timed pictures (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--large", action="store_true", help="also ViT-L/14")
    args = parser.parse_args()
    import onnxruntime
    import torch

    files = sorted((args.data / "aic-paintings" / "images").glob("*.jpg"))[: args.count + args.warmup]
    if len(files) < args.count + args.warmup:
        raise SystemExit(f"only {len(files)} pictures under {args.data / 'aic-paintings' / 'images'}")
    pictures = [path.read_bytes() for path in files]
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores ({cpu}), python {platform.python_version()}, "
        f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, {args.threads} threads; "
        f"load average at start {os.getloadavg()[0]:.2f}"
    )
    print(
        "\n| model | runtime | uploads | p50 ms | p95 ms | tower p50 ms | tower p95 ms | "
        "upload p50 with CNN+MiniLM ms | tower share |\n|---|---|---|---|---|---|---|---|---|"
    )
    notes = []
    for architecture in ["ViT-B/32", *(["ViT-L/14"] if args.large else [])]:
        rows, note = run(architecture, pictures, args.warmup, args.threads)
        print("\n".join(rows), flush=True)
        notes.append(note)
    print("", *notes, f"load average at end {os.getloadavg()[0]:.2f}", sep="\n")


if __name__ == "__main__":
    main()
