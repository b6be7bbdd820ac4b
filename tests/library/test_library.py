"""The library's face: the README's script runs as printed, and the layering it promises holds."""

from __future__ import annotations

import ast
import json
import os
import pydoc
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import asterism
from asterism.config import Settings
from asterism.home import Home, OutsideHome
from asterism.recommend.query import QueryError
from asterism.recommend.refs import BadRef, parse_ref

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "asterism"
WORKS = 16


def readme_script() -> str:
    """The first ```python block of the README: the five-line tour."""
    text = (ROOT / "README.md").read_text()
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match, "the README shows a Python script"
    return match.group(1)


def my_folder(shared_data: Path, folder: Path) -> None:
    """A local collection as a user would have it: pictures, records.jsonl, and a photo to start from."""
    folder.mkdir(parents=True)
    works = json.loads((shared_data / "aic-paintings" / "artworks.json").read_text())[:WORKS]
    lines = []
    for work in works:
        name = f"{work['id']}.jpg"
        (folder / name).write_bytes((shared_data / "aic-paintings" / "images" / name).read_bytes())
        lines.append(json.dumps({"id": work["id"], "image": name, "title": work["title"],
                                 "artist": work["artist"], "date": work["date"], "license": "CC0"}))  # fmt: skip
    (folder / "records.jsonl").write_text("\n".join(lines) + "\n")
    with Image.open(folder / f"{works[0]['id']}.jpg") as picture:
        picture.convert("RGB").resize((picture.width // 2, picture.height // 2)).save(folder / "photo.jpg")


def test_the_readme_script_runs_exactly_as_printed(shared_data: Path, tmp_path: Path) -> None:
    my_folder(shared_data, tmp_path / "my-folder")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASTERISM_")}
    env["ASTERISM_OCR__MODE"] = "never"  # OCR is the slow step of ingest; the script itself is untouched
    done = subprocess.run(
        [sys.executable, "-c", readme_script()], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 10, done.stdout
    assert all(re.match(r"\d+ .+ – .+ – CC0", line) for line in lines), done.stdout
    assert (tmp_path / "asterism-data" / "asterism.db").is_file()


def test_open_reads_as_documentation() -> None:
    text = pydoc.render_doc(asterism.open, renderer=pydoc.plaintext)
    for words in ("data home", "Collection", "ASTERISM_HOME", "asterism.toml"):
        assert words in text
    assert asterism.Collection.__doc__ and "context manager" in asterism.Collection.__doc__
    for method in ("ingest", "build", "recommend", "connect", "search", "artwork", "stats", "evaluate"):
        assert getattr(asterism.Collection, method).__doc__, method


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_read_path_imports_no_build_stage() -> None:
    for package in ("recommend", "api"):
        for path in (SRC / package).rglob("*.py"):
            staged = [m for m in imports(path) if m == "asterism.stages" or m.startswith("asterism.stages.")]
            assert not staged, f"{path.relative_to(SRC)} imports {staged}"


def test_only_the_store_builds_the_sql_store() -> None:
    for path in SRC.rglob("*.py"):
        if path.parent.name == "store":
            continue
        assert "asterism.store.sql" not in imports(path), path.relative_to(SRC)
        assert "SqlStore" not in path.read_text(), path.relative_to(SRC)


def test_only_home_names_the_files_of_the_data_home() -> None:
    """Paths under the home are joined in ``home.py`` alone (``Home`` owns the layout)."""
    names = r'"(?:images|thumbs|indexes|graph|models|eval|uploads|onnx|historical)"'
    home = r"(?:home|root)\w*(?:\(\))?"  # settings.home, self.home, home.root, …
    joined = re.compile(rf"{home} / {names}|\"asterism\.(?:db|lbug|toml)\"|\"build\.json\"|\.ingest\.lock")
    for path in SRC.rglob("*.py"):
        if path.name == "home.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            assert not joined.search(line), f"{path.relative_to(SRC)}:{number}: {line.strip()}"


def test_a_collection_answers_from_the_newest_build(settings: Settings, shared_data: Path) -> None:
    """The opened build is kept between questions and reopened after an ingest or a build."""
    with asterism.Collection(settings) as collection:
        collection.ingest("sample", shared_data / "aic-paintings", limit=12)
        collection.build()
        first = collection.service()
        assert collection.service() is first and len(first.catalogue) == 12
        assert collection.search("a") == first.search("a")
        collection.ingest("sample", shared_data / "aic-paintings", limit=20)
        collection.build()
        second = collection.service()
        assert second is not first and len(second.catalogue) == 20
        assert collection.artwork(second.catalogue.records[max(second.catalogue.records)].ref).id is not None
        with pytest.raises(QueryError, match="unknown build stage"):
            collection.build(stages=("paint",))
        with pytest.raises(QueryError, match="cannot read the picture"):
            collection.recommend(image_path=shared_data / "nope.jpg")


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [(40, 40), ("40", 40), ("40/", 40), ("aic:27992", ("aic", "27992")),
     ("local:met-local/459027", ("local", "met-local/459027"))],
)  # fmt: skip
def test_work_names(ref: int | str, parsed: object) -> None:
    assert parse_ref(ref) == parsed


@pytest.mark.parametrize("ref", ["²", "abc", ":1", "aic:", "", True])
def test_bad_work_names_are_refused_as_such(ref: object) -> None:
    with pytest.raises(BadRef):
        parse_ref(ref)  # type: ignore[arg-type]


def test_stored_paths_never_leave_the_home(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    assert home.file("images/ab/cd/x.jpg") == home.root / "images/ab/cd/x.jpg"
    for bad in ("../outside.jpg", "images/../../x", "/etc/passwd"):
        with pytest.raises(OutsideHome):
            home.file(bad)
