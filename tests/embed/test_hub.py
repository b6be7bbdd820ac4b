"""Pulling optional models: the real ``huggingface_hub`` client against a local server that speaks the hub's API.

Tiny random checkpoints stand in for the catalogue's repos (same file names,
same formats), so a pull, its verification and the loaders run end to end,
offline, in seconds.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import huggingface_hub.constants
import numpy as np
import pytest
from typer.testing import CliRunner

from asterism.cli.main import app
from asterism.config import load_settings
from asterism.embed.checkpoints import Clip, Dinov2, clip_info
from asterism.embed.hub import PullError, catalogue, check_local, hub_cache, pull, pulled
from asterism.home import Home
from asterism.settings_file import update_settings_file

import checkpointgen
from hubserver import HubServer

CLIP_REPO = "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"
BIG = 15 << 20  # the big DINOv2's connection is cut after 15 MiB


def big_dinov2(folder: Path) -> Path:
    """A DINOv2 of ~28 MB: larger than huggingface_hub's 10 MiB read chunk, so a cut download can resume."""
    import torch
    from transformers import Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    config = Dinov2Config(
        hidden_size=384, num_hidden_layers=4, num_attention_heads=6, image_size=32, patch_size=8
    )
    Dinov2Model(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, bytes]]]:
    root = tmp_path_factory.mktemp("repos")
    card = {"README.md": b"# a model card, not pulled\n"}
    return {
        # the LAION repos also hold the weights for open_clip: the catalogue's patterns must skip them
        CLIP_REPO: (
            checkpointgen.tiny_clip(root / "clip"),
            card | {"open_clip_model.safetensors": b"\0" * 4096},
        ),
        "openai/clip-vit-base-patch32": (checkpointgen.tiny_clip(root / "clip-openai", seed=1), card),
        "google/siglip2-base-patch16-224": (checkpointgen.tiny_siglip(root / "siglip"), card),
        "facebook/dinov2-small": (checkpointgen.tiny_dinov2(root / "dinov2"), card),
        "facebook/dinov2-base": (big_dinov2(root / "dinov2-big"), card),
    }


def serving(repos: dict[str, tuple[Path, dict[str, bytes]]]) -> HubServer:
    server = HubServer()
    for repo_id, (folder, extra) in repos.items():
        server.add(repo_id, folder, extra)
    return server


@pytest.fixture(scope="module")
def hub(repos: dict[str, tuple[Path, dict[str, bytes]]]) -> Iterator[HubServer]:
    with serving(repos) as server:
        yield server


@pytest.fixture
def server(hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    # huggingface_hub reads HF_HUB_OFFLINE once, at import: a loader run earlier in the session may have set it
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    hub.heal()
    hub.log.clear()
    return hub


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home")


def picture(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (40, 50, 3), dtype=np.uint8)


def test_the_catalogue_names_every_model_and_refuses_others(home: Home) -> None:
    names = [m.name for m in catalogue()]
    assert names == ["openclip-vit-b-32", "openclip-vit-l-14", "clip-vit-b-32", "siglip2-base",
                     "dinov2-small", "dinov2-base"]  # fmt: skip
    assert {m.kind for m in catalogue()} == {"clip", "siglip", "dinov2"}
    with pytest.raises(PullError, match=r"known models: openclip-vit-b-32, .*dinov2-base"):
        pull(home, "clip-giant")
    assert pulled(home) == {}


def test_a_pulled_clip_loads_with_the_checkpoint_loader(server: HubServer, home: Home) -> None:
    folder = pull(home, "openclip-vit-b-32", endpoint=server.url)
    assert hub_cache(home) in folder.parents
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer_config.json").is_file()
    assert not (folder / "open_clip_model.safetensors").exists() and not (folder / "README.md").exists()
    assert any(hit.url.startswith("/cdn/") for hit in server.downloads(CLIP_REPO, "model.safetensors"))
    clip = Clip(folder, threads=1)
    assert clip.info == clip_info(folder) and clip.embed_images([picture(1)]).shape == (1, 16)
    assert clip.embed_texts(["a harbour"]).shape == (1, 16)
    assert pulled(home) == {"openclip-vit-b-32": folder}


def test_dinov2_and_siglip_pull_from_hf_endpoint(
    server: HubServer, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", server.url)  # read at pull time, not when huggingface_hub was imported
    events: list[tuple[str, int, int]] = []
    dino = pull(home, "dinov2-small", progress=lambda *event: events.append(event))
    total = sum(
        len(server.repos["facebook/dinov2-small"][n].data) for n in ("config.json", "model.safetensors")
    )
    assert ("downloading", total, total) in events and events[-1] == ("verifying", total, total)
    assert Dinov2(dino, threads=1).embed_images([picture(2)]).shape == (1, 64)
    siglip = pull(home, "siglip2-base")
    from transformers import AutoModel, SiglipModel

    assert isinstance(AutoModel.from_pretrained(str(siglip), local_files_only=True), SiglipModel)
    assert (siglip / "preprocessor_config.json").is_file() and (siglip / "tokenizer.json").is_file()
    assert check_local("siglip2-base", siglip) == siglip.resolve()
    assert set(pulled(home)) == {"dinov2-small", "siglip2-base"}


def test_a_dropped_connection_resumes_with_a_range_request(server: HubServer, home: Home) -> None:
    repo = "facebook/dinov2-base"
    size = len(server.repos[repo]["model.safetensors"].data)
    assert size > BIG
    server.drop(repo, "model.safetensors", after=BIG)
    folder = pull(home, "dinov2-base", endpoint=server.url)
    first, second = server.downloads(repo, "model.safetensors")
    assert first.range is None and first.sent == BIG
    resumed_at = int(second.range.removeprefix("bytes=").removesuffix("-"))
    assert second.status == 206 and 0 < resumed_at <= BIG  # what was written before the cut is kept
    assert second.sent == size - resumed_at < size
    assert (folder / "model.safetensors").stat().st_size == size
    assert Dinov2(folder, threads=1).info.dim == 768


def test_a_download_that_keeps_failing_is_refused_and_the_next_pull_finishes(
    server: HubServer, home: Home
) -> None:
    repo = "facebook/dinov2-base"
    server.drop(repo, "model.safetensors", after=BIG, then_status=500)  # the hub goes away mid-file
    with pytest.raises(PullError, match="again"):
        pull(home, "dinov2-base", endpoint=server.url)
    assert not list(hub_cache(home).rglob("*.incomplete"))  # huggingface_hub deletes its partial file
    assert pulled(home) == {}
    server.heal()
    server.log.clear()
    folder = pull(home, "dinov2-base", endpoint=server.url)
    (again,) = server.downloads(repo, "model.safetensors")
    assert again.range is None and again.sent == len(server.repos[repo]["model.safetensors"].data)
    assert not server.downloads(repo, "config.json")  # files finished by the failed pull are kept
    assert pulled(home) == {"dinov2-base": folder}


@pytest.mark.parametrize("name", ["model.safetensors", "tokenizer.json"])  # an LFS file and a git file
def test_a_corrupted_file_is_refused_named_and_removed(server: HubServer, home: Home, name: str) -> None:
    repo = "openai/clip-vit-base-patch32"
    server.corrupt(repo, name)
    with pytest.raises(PullError, match=rf"{name} did not match the hub's checksum"):
        pull(home, "clip-vit-b-32", endpoint=server.url)
    snapshot = next(hub_cache(home).glob("models--openai--clip-vit-base-patch32/snapshots/*"))
    assert not (snapshot / name).exists()
    blobs = [p.name for p in snapshot.parents[1].joinpath("blobs").iterdir()]
    served = server.repos[repo][name]
    assert served.sha256 not in blobs and served.git_sha1 not in blobs  # the bad bytes are gone
    assert pulled(home) == {}
    server.heal()
    server.log.clear()
    folder = pull(home, "clip-vit-b-32", endpoint=server.url)
    assert [h.file for h in server.log if h.method == "GET" and h.sent and h.file] == [name]
    assert Clip(folder, threads=1).info.dim == 16


def test_a_pulled_model_is_reused_offline(
    repos: dict[str, tuple[Path, dict[str, bytes]]], home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    with serving({"facebook/dinov2-small": repos["facebook/dinov2-small"]}) as server:
        folder = pull(home, "dinov2-small", endpoint=server.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    assert pull(home, "dinov2-small", endpoint=server.url) == folder  # the server is gone: no request made
    assert pulled(home) == {"dinov2-small": folder}
    with pytest.raises(PullError, match="cannot read facebook/dinov2-base"):
        pull(home, "dinov2-base", endpoint=server.url)


def test_local_folders_are_checked_for_their_kind(
    tmp_path: Path, repos: dict[str, tuple[Path, dict[str, bytes]]]
) -> None:
    clip_folder, dino_folder = repos[CLIP_REPO][0], repos["facebook/dinov2-small"][0]
    assert check_local("dinov2-base", dino_folder) == dino_folder.resolve()
    with pytest.raises(PullError, match="holds a 'clip' model, not a dinov2 checkpoint"):
        check_local("dinov2-small", clip_folder)
    with pytest.raises(PullError, match=r"no config\.json"):
        check_local("openclip-vit-b-32", tmp_path)


runner = CliRunner()


def cli(home: Home, *args: str, endpoint: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--home", str(home.root), *args], env={"HF_ENDPOINT": endpoint})
    return result.exit_code, result.stdout, " ".join(result.stderr.split())  # Rich wraps long lines


def test_models_cli_lists_pulls_and_uses(server: HubServer, home: Home) -> None:
    home.root.mkdir(parents=True)
    update_settings_file(home.config_file, "weights", {"formal": 0.5})  # hand-written settings survive
    code, out, _ = cli(home, "models", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and not any(m["pulled"] or m["active"] for m in listed["models"])
    assert listed["active"] == {"clip_path": None, "dinov2_path": None}
    code, out, err = cli(home, "models", "list")
    assert code == 0 and "asterism models pull NAME" in out
    code, out, err = cli(home, "models", "pull", "openclip-vit-b-32", endpoint=server.url)
    assert code == 0, err
    settings = load_settings(home=home.root)
    folder = pulled(home)["openclip-vit-b-32"]
    assert settings.models.clip_path == folder and settings.models.conceptual == "text+clip"
    assert settings.weights.formal == 0.5
    (row,) = [m for m in json.loads(cli(home, "models", "list", "--json")[1])["models"] if m["active"]]
    assert row["name"] == "openclip-vit-b-32" and row["path"] == str(folder)
    code, out, err = cli(home, "models", "pull", "dinov2-small", "--no-use", endpoint=server.url)
    assert code == 0 and load_settings(home=home.root).models.dinov2_path is None


def test_models_cli_refuses_unknown_names_and_wrong_folders(
    home: Home, repos: dict[str, tuple[Path, dict[str, bytes]]]
) -> None:
    code, _, err = cli(home, "models", "pull", "clip-giant")
    assert code == 2 and "error:" in err and "openclip-vit-b-32" in err and "dinov2-base" in err
    code, _, err = cli(home, "models", "pull", "dinov2-small", "--path", str(repos[CLIP_REPO][0]))
    assert code == 2 and "not a dinov2 checkpoint" in err
    assert not home.config_file.exists()
    dino = repos["facebook/dinov2-small"][0]
    code, _, err = cli(home, "models", "pull", "dinov2-small", "--path", str(dino))
    assert code == 0, err
    assert load_settings(home=home.root).models.dinov2_path == dino.resolve()
    assert tomllib.loads(home.config_file.read_text()) == {"models": {"dinov2_path": str(dino.resolve())}}


def test_settings_file_merges_and_quotes_keys(tmp_path: Path) -> None:
    path = tmp_path / "asterism.toml"
    path.write_text('workers = 3\n\n[http]\nrate = 2.0\n\n[http.host_rates]\n"api.artic.edu" = 1.0\n')
    update_settings_file(path, "models", {"clip_path": "/m/clip", "conceptual": "text+clip"})
    update_settings_file(path, "http", {"rate": None, "timeout": 9.5})
    assert tomllib.loads(path.read_text()) == {
        "workers": 3,
        "http": {"timeout": 9.5, "host_rates": {"api.artic.edu": 1.0}},
        "models": {"clip_path": "/m/clip", "conceptual": "text+clip"},
    }


def test_settings_file_is_replaced_whole(tmp_path: Path) -> None:
    """A reader racing 300 writes always parses a whole file (a truncate-and-write would show it empty)."""
    import threading

    path = tmp_path / "asterism.toml"
    update_settings_file(path, "models", {"clip_path": "/m/clip", "padding": "x" * 20_000})
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                seen.append(tomllib.loads(path.read_text())["models"]["clip_path"])
            except (tomllib.TOMLDecodeError, KeyError) as exc:  # a half-written or empty file
                seen.append(f"broken: {exc!r}")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(300):
            update_settings_file(path, "models", {"clip_path": f"/m/{n}"})
    finally:
        done.set()
        reader.join()
    assert seen and all(value.startswith("/m/") for value in seen)
