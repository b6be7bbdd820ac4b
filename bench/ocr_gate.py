"""The text gate in front of OCR, on the 767 sample images: does it keep the text, and what does it save?

1. Ground truth: full OCR of every sample image (Tesseract on the production
   input: grey, 1000-2000 px, ``--psm 3``), cached in ``--cache`` (under /tmp,
   never in the repository; keyed by the file's sha256). An image is
   *text-bearing* when OCR yields a real word: at least 3 letters, Tesseract
   confidence >= 60, and in Tesseract's own English word list (``dawg2wordlist``
   on eng.traineddata; any alphabetic word with a vowel when the tool is missing).
2. The gate alone on every sample: recall over the text-bearing images, share
   of the others skipped, cost per image (decoding not included).
3. The gate on held-out synthetic pictures: sample pictures with a caption, a
   label or words painted over them (seeds and pictures not used to tune the
   gate), counted only where full OCR reads a real word in them.
4. The OCR stage itself (``stages/ocr.py``) over a home holding the samples,
   once with ``mode="always"`` and once with ``mode="gate"``, and the rest of
   the build after it: images/s with and without the gate, and the build time
   saved.

    .venv/bin/python bench/ocr_gate.py --data ../shared/data [--no-build] [--no-synthetic]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFont

import asterism
from asterism.config import load_settings
from asterism.images.ocr import ocr_input
from asterism.images.text_gate import text_lines
from asterism.stages.ocr import run_ocr
from asterism.stages.runner import run_build
from asterism.store import open_database
from asterism.store.schema import images, ocr_results

SETS = ("aic-paintings", "aic-objects")
TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata/eng.traineddata")
CAPTION_WORDS = [
    "harbour",
    "evening",
    "portrait",
    "lady",
    "landscape",
    "river",
    "artist",
    "studio",
    "still",
    "life",
    "flowers",
    "exhibition",
    "paris",
    "salon",
    "morning",
    "light",
    "museum",
    "collection",
    "gift",
    "estate",
    "canvas",
    "etching",
    "nature",
    "view",
    "garden",
    "church",
    "market",
    "street",
    "winter",
    "summer",
    "bridge",
    "mountain",
    "village",
]
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
)


# ----------------------------------------------------------------------------- ground truth
def sample_files(data: Path) -> list[Path]:
    return [p for s in SETS for p in sorted((data / s / "images").iterdir())]


def raw_ocr(picture: Image.Image) -> list[tuple[str, float]]:
    """Every word Tesseract reports with its confidence, on the production input."""
    import pytesseract

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    data = pytesseract.image_to_data(
        ocr_input(picture), lang="eng", config="--psm 3", output_type=pytesseract.Output.DICT, timeout=60
    )
    return [
        (str(w).strip(), float(c)) for w, c in zip(data["text"], data["conf"], strict=False) if str(w).strip()
    ]


def ground_truth(files: list[Path], cache: Path, workers: int) -> dict[str, list[tuple[str, float]]]:
    """{sha256: words} for every file, from the cache where it has them."""
    known: dict[str, list[tuple[str, float]]] = {}
    if cache.is_file():
        known = {k: [(w, c) for w, c in v] for k, v in json.loads(cache.read_text()).items()}
    shas = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    missing = [p for p in files if shas[p] not in known]
    if missing:
        print(f"full OCR of {len(missing)} images for the ground truth (cached in {cache}) ...", flush=True)

        def one(path: Path) -> tuple[str, list[tuple[str, float]]]:
            with Image.open(path) as im:
                return shas[path], raw_ocr(im.convert("RGB"))

        with ThreadPoolExecutor(workers) as pool:
            known.update(pool.map(one, missing))
        cache.write_text(json.dumps(known))
    return {shas[p]: known[shas[p]] for p in files}


def word_list() -> set[str]:
    """Tesseract's English word list, unpacked into a temporary folder (empty if the tools are missing)."""
    if not TESSDATA.is_file() or not shutil.which("combine_tessdata") or not shutil.which("dawg2wordlist"):
        return set()
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "eng."
        subprocess.run(
            ["combine_tessdata", "-u", str(TESSDATA), str(prefix)], capture_output=True, check=False
        )
        out = Path(tmp) / "words.txt"
        subprocess.run(
            ["dawg2wordlist", f"{prefix}lstm-unicharset", f"{prefix}lstm-word-dawg", str(out)],
            capture_output=True,
            check=False,
        )
        return {w.strip().lower() for w in out.read_text().splitlines()} if out.is_file() else set()


def real_words(words: list[tuple[str, float]], vocabulary: set[str]) -> list[str]:
    found = []
    for word, confidence in words:
        word = word.strip(".,;:!?\"'()[]")
        if confidence < 60 or not re.fullmatch(r"[A-Za-z]{3,}", word):
            continue
        if (word.lower() in vocabulary) if vocabulary else bool(re.search(r"[aeiouyAEIOUY]", word)):
            found.append(word)
    return found


# ----------------------------------------------------------------------------- the gate alone
def gate_pass(files: list[Path]) -> tuple[dict[Path, bool], list[float]]:
    passed: dict[Path, bool] = {}
    costs: list[float] = []
    for path in files:
        with Image.open(path) as im:
            picture = im.convert("RGB")
        started = time.perf_counter()
        passed[path] = text_lines(picture).found
        costs.append(time.perf_counter() - started)
    return passed, costs


def synthetic(files: list[Path], count: int) -> list[Image.Image]:
    """Held-out pictures with writing: not the pictures nor the seeds the gate was tuned on."""
    paintings = [p for p in files if p.parent.parent.name == "aic-paintings"][1::3]
    objects = [p for p in files if p.parent.parent.name == "aic-objects"][5::10]
    bases = (paintings + objects)[:count]
    return [_with_text(i + 1000, base) for i, base in enumerate(bases)]


def _font(size: int, seed: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = FONTS[seed % len(FONTS)]
    return ImageFont.truetype(name, size) if Path(name).is_file() else ImageFont.load_default(size=size)


def _with_text(seed: int, base: Path) -> Image.Image:
    rnd = random.Random(seed)
    with Image.open(base) as im:
        picture = im.convert("RGB")
    size = rnd.choice([9, 11, 13, 16, 20, 26])
    phrase = " ".join(rnd.choice(CAPTION_WORDS) for _ in range(rnd.randint(2, 6)))
    font = _font(size, seed)
    kind = seed % 3
    if kind == 0:  # a caption in the margin under the picture, as on a print
        out = Image.new("RGB", (picture.width, picture.height + size * 3), (rnd.randint(225, 255),) * 3)
        out.paste(picture, (0, 0))
        ink = (rnd.randint(0, 60),) * 3
        ImageDraw.Draw(out).text(
            (rnd.randint(5, 40), picture.height + size), phrase.title(), fill=ink, font=font
        )
    elif kind == 1:  # a label stuck on the picture
        out = picture.copy()
        draw = ImageDraw.Draw(out)
        width = draw.textlength(phrase, font=font)
        x = rnd.randint(0, max(1, int(picture.width - width - 10)))
        y = rnd.randint(0, max(1, picture.height - size * 2))
        draw.rectangle((x, y, x + width + 10, y + size * 1.8), fill=(240, 235, 220))
        draw.text((x + 5, y + size * 0.3), phrase, fill=(20, 20, 20), font=font)
    else:  # words painted over the picture, light or dark
        out = picture.copy()
        light = seed % 2 == 1
        ImageDraw.Draw(out).text(
            (rnd.randint(0, picture.width // 3), rnd.randint(0, max(1, picture.height - size * 2))),
            phrase.upper(),
            fill=(255, 255, 255) if light else (0, 0, 0),
            font=font,
            stroke_width=1 if size > 14 else 0,
            stroke_fill=(0, 0, 0) if light else (255, 255, 255),
        )
    if max(out.size) > 512:  # the samples' size
        out.thumbnail((512, 512), Image.Resampling.LANCZOS)
    return out


# ----------------------------------------------------------------------------- the stage
def reset_ocr(home: Path) -> None:
    database = open_database(load_settings(home=home))
    try:
        with database.engine.begin() as conn:
            conn.execute(ocr_results.delete())
            conn.execute(images.update().values(ocr_text=""))
    finally:
        database.close()


def stage(home: Path, mode: str, workers: int) -> dict[str, Any]:
    reset_ocr(home)
    settings = load_settings(home=home, workers=workers)
    database = open_database(settings)
    try:
        report = run_ocr(settings, database, mode=mode)
        with database.engine.connect() as conn:
            texts = {
                r.sha256: r.ocr_text for r in conn.execute(sa.select(images.c.sha256, images.c.ocr_text))
            }
    finally:
        database.close()
    return {
        "images": report.images,
        "read": report.read,
        "found": report.found,
        "skipped": report.skipped,
        "timeouts": report.timeouts,
        "seconds": report.seconds,
        "per_second": report.images_per_second,
        "gate_seconds": report.gate_seconds,
        "ocr_seconds": report.ocr_seconds,
        "texts": {sha: text for sha, text in texts.items() if text},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "asterism-ocr-truth.json")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--synthetic", type=int, default=140, help="held-out pictures with writing (0: none)")
    parser.add_argument("--no-synthetic", dest="synthetic", action="store_const", const=0)
    parser.add_argument("--no-build", action="store_true", help="skip the rest of the build after OCR")
    args = parser.parse_args()
    load_before = os.getloadavg()
    files = sample_files(args.data)
    vocabulary = word_list()

    truth_words = ground_truth(files, args.cache, args.workers)
    shas = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    bearing = {p for p in files if real_words(truth_words[shas[p]], vocabulary)}

    passed, costs = gate_pass(files)
    kept = sum(passed[p] for p in bearing)
    others = [p for p in files if p not in bearing]
    skipped_others = sum(not passed[p] for p in others)

    synth_bearing = synth_kept = synth_made = 0
    if args.synthetic:
        pictures = synthetic(files, args.synthetic)
        synth_made = len(pictures)
        with ThreadPoolExecutor(args.workers) as pool:
            readable = list(pool.map(lambda im: bool(real_words(raw_ocr(im), vocabulary)), pictures))
        for picture, ok in zip(pictures, readable, strict=True):
            if ok:
                synth_bearing += 1
                synth_kept += text_lines(picture).found

    home = Path(tempfile.mkdtemp(prefix="asterism-ocrgate-"))
    try:
        started = time.perf_counter()
        with asterism.open(home, workers=args.workers, ocr={"mode": "never"}) as collection:
            for name in SETS:
                collection.ingest("sample", args.data / name)
        ingest_seconds = time.perf_counter() - started
        always = stage(home, "always", args.workers)
        gate = stage(home, "gate", args.workers)
        lost = sorted(set(always["texts"]) - set(gate["texts"]))
        build_seconds = None
        if not args.no_build:
            started = time.perf_counter()
            run_build(
                load_settings(home=home, workers=args.workers),
                stages=("embed", "index", "graph", "recognition"),
            )
            build_seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(home, ignore_errors=True)

    ms = [1000 * c for c in costs]
    skip_others = skipped_others / len(others)
    result = {
        "images": len(files),
        "text_bearing": len(bearing),
        "gate_kept": kept,
        "gate_recall": kept / len(bearing) if bearing else None,
        "skip_rate_others": skip_others,
        "skip_rate_all": sum(not v for v in passed.values()) / len(files),
        "gate_ms_mean": statistics.mean(ms),
        "gate_ms_p50": statistics.median(ms),
        "gate_ms_p95": sorted(ms)[int(0.95 * (len(ms) - 1))],
        "synthetic": {"made": synth_made, "text_bearing": synth_bearing, "kept": synth_kept},
        "ingest_seconds": ingest_seconds,
        "ocr_always": {k: v for k, v in always.items() if k != "texts"},
        "ocr_gate": {k: v for k, v in gate.items() if k != "texts"},
        "stored_texts": {"always": len(always["texts"]), "gate": len(gate["texts"]), "lost": len(lost)},
        "build_rest_seconds": build_seconds,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=1))
    print()
    print(f"images                        {len(files)}")
    print(f"text-bearing (ground truth)   {len(bearing)}  ({', '.join(sorted(p.name for p in bearing))})")
    print(f"gate recall                   {kept}/{len(bearing)}")
    print(f"skip rate, images without text {100 * skip_others:.1f} %")
    print(f"gate cost                     {statistics.mean(ms):.1f} ms/img (p50 {statistics.median(ms):.1f}, "
          f"p95 {sorted(ms)[int(0.95 * (len(ms) - 1))]:.1f})")  # fmt: skip
    if synth_made:
        print(f"held-out synthetic            {synth_kept}/{synth_bearing} kept ({synth_made} made, "
              f"{synth_bearing} readable by OCR)")  # fmt: skip
    for name, run in (("always", always), ("gate", gate)):
        print(f"OCR stage, {name:<6}            {run['per_second']:.1f} img/s ({run['seconds']:.1f} s; "
              f"{run['read']} read, {run['skipped']} skipped, {run['found']} with text)")  # fmt: skip
    print(
        f"texts stored                  always {len(always['texts'])}, gate {len(gate['texts'])}, lost {len(lost)}"
    )
    saved = always["seconds"] - gate["seconds"]
    fresh_always = ingest_seconds + always["seconds"] + (build_seconds or 0.0)
    fresh_gate = ingest_seconds + gate["seconds"] + (build_seconds or 0.0)
    what = "ingest + OCR + rest of build" if build_seconds is not None else "ingest + OCR"
    print(f"build time saved              {saved:.1f} s: {what} {fresh_always:.1f} s -> {fresh_gate:.1f} s "
          f"({100 * saved / fresh_always:.0f} % less)")  # fmt: skip
    print(f"load average                  {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
