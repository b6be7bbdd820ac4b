"""Every Python snippet of the blueprint, run as written, its outcome recorded so a change shows.

The blueprint's own to-do list (``shared/seed/blueprint.md``, top) asks to "Test python, esp.
12.5. I suspect it won't run". Each fenced ``python`` block is run in a subprocess of this venv's
Python, in a temporary folder, with no network (a network namespace of its own, ``unshare -rn``,
where the system allows it; else a socket guard refusing every connection), and must end as
``EXPECTED`` records: it runs (and prints exactly ``stdout``), or it fails with that exception.

What a snippet needs that a test machine cannot have (a server, a model download, a file built
offline, a web API) is read off its code (``NEEDS``), not guessed; it is run anyway and the error
it really raises is what is recorded. A snippet that stops at a missing package is run a second
time with that package replaced by a stub, and one that only defines things has them called
(``probe``): ``then`` records the next error, the bug behind the missing package.

``docs/blueprint-snippets.md`` explains each outcome and what Asterism does instead; the last
test checks it lists every snippet with the outcome recorded here.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# As tests/conftest.py (imported by name, "conftest" would resolve to another folder's conftest);
# the seed folder is the shared data folder's sibling.
SHARED_DATA = Path(
    os.environ.get("ASTERISM_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
BLUEPRINT = SHARED_DATA.parent / "seed" / "blueprint.md"
DOC = Path(__file__).resolve().parents[1] / "docs" / "blueprint-snippets.md"
TIMEOUT = 120  # seconds a snippet may take (importing torch alone takes several on a loaded machine)


@dataclass(frozen=True)
class Runs:
    stdout: str = ""


@dataclass(frozen=True)
class Fails:
    error: str  # the exception's name, module-qualified unless a builtin
    message: str  # a fragment of its message


Outcome = Runs | Fails


@dataclass(frozen=True)
class Expected:
    first_line: str
    as_written: Outcome
    needs: frozenset[str] = frozenset()
    stubs: tuple[str, ...] = ()  # packages replaced by stubs for the second run
    probe: str = ""  # run after the snippet in the second run: calls what it defines
    then: Outcome | None = None  # how the second run ends


NO_MODULE = "ModuleNotFoundError"
UPLOAD_PROBE = """
import os, uuid
from fastapi.testclient import TestClient
name = f"asterism-snippet-{uuid.uuid4().hex}.jpg"  # the endpoint writes it to /tmp/<filename>
try:
    TestClient(app).post("/recommend", files={"file": (name, b"not a picture")})
finally:
    if os.path.exists(f"/tmp/{name}"):
        os.remove(f"/tmp/{name}")
"""

EXPECTED: dict[str, Expected] = {
    "2.1": Expected(
        "import asyncio, aiohttp, hashlib, json, pathlib, os",
        Fails("TypeError", "Invalid variable type: value should be str, int or float, got None"),
        frozenset(
            {
                "HTTP: commons.wikimedia.org",
                "HTTP: raw.githubusercontent.com",
                "HTTP: api.artic.edu",
                "HTTP: www.artic.edu",
            }
        ),
    ),
    "2.3": Expected(
        "import json, psycopg2, uuid",
        Fails(NO_MODULE, "No module named 'psycopg2'"),
        frozenset({"PostgreSQL server", "file: metadata.jsonl"}),
        stubs=("psycopg2",),
        then=Fails("NameError", "name 'os' is not defined"),
    ),
    "3.1": Expected(
        "import torch, torchvision.transforms as T",
        Fails(NO_MODULE, "No module named 'torchvision'"),
        frozenset({"download: pretrained weights"}),
        stubs=("torchvision",),
        probe="embed_formal('work.jpg')",
        then=Fails("NameError", "name 'Image' is not defined"),
    ),
    "3.2": Expected(
        "import clip, torch",
        Fails(NO_MODULE, "No module named 'clip'"),
        frozenset({"download: CLIP weights"}),
        stubs=("clip",),
        then=Fails("NameError", "name 'device' is not defined"),
    ),
    "3.3": Expected(
        "import networkx as nx",
        Fails(NO_MODULE, "No module named 'node2vec'"),
        frozenset({"file: art_history_graph.gpickle"}),
        stubs=("node2vec",),
        then=Fails("AttributeError", "module 'networkx' has no attribute 'read_gpickle'"),
    ),
    "3.4": Expected(
        "def composite_vector(image_path, artist_id):",
        Runs(),
        probe="composite_vector('work.jpg', 'artist')",
        then=Fails("NameError", "name 'embed_formal' is not defined"),
    ),
    "4.2.1": Expected(
        "import numpy as np, faiss, psycopg2, neo4j",
        Fails(NO_MODULE, "No module named 'psycopg2'"),
        frozenset({"Neo4j server"}),
        stubs=("psycopg2",),
        then=Fails("NameError", "name 'load_all_composite_vectors' is not defined"),
    ),
    "5.2": Expected(
        "import torch_geometric as pyg",
        Fails(NO_MODULE, "No module named 'torch_geometric'"),
        stubs=("torch_geometric",),
        then=Fails("NameError", "name 'torch' is not defined"),
    ),
    "5.3": Expected(
        "from fastapi import FastAPI, UploadFile",
        Runs(),
        frozenset({"HTTP: metadata-service"}),
        probe=UPLOAD_PROBE,
        then=Fails("NameError", "name 'embed_formal' is not defined"),
    ),
    "12.5": Expected("def estimate_monthly(", Runs("Estimated monthly cost: 4094.6\n")),
}

# What a snippet needs, by what it calls: (pattern, label; "{0}" is the pattern's first group).
NEEDS = [
    (r"psycopg2\.connect\(", "PostgreSQL server"),
    (r"GraphDatabase\.driver\(", "Neo4j server"),
    (r"pretrained=True", "download: pretrained weights"),
    (r"clip\.load\(", "download: CLIP weights"),
    (r"read_gpickle\(\"([^\"]+)\"", "file: {0}"),
    (r"open\(\"([^\"]+)\"\)", "file: {0}"),  # opened without a mode: read, so it must exist
    (r"\"https?://([^/\"{]+)", "HTTP: {0}"),
]

RUNNER = r'''
"""Run one snippet as a script (argv: snippet, outcome file, stubbed packages, probe code)."""
import builtins, importlib.abc, importlib.machinery, json, os, socket, sys, traceback, types

snippet, outcome_path, stubbed, probe = sys.argv[1:5]
STUBBED = {name for name in stubbed.split(",") if name}


class Stub:
    """Anything: every attribute and every call is another stub."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Stub()

    def __call__(self, *args, **kwargs):
        return Stub()


class StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Stub()


class StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in STUBBED:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return StubModule(spec.name)

    def exec_module(self, module):
        module.__path__ = []


sys.meta_path.insert(0, StubFinder())

if os.environ.get("SNIPPET_SOCKET_GUARD"):  # no network namespace: refuse every connection
    def unreachable(*args, **kwargs):
        raise OSError(101, "Network is unreachable")

    def unresolved(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    socket.socket.connect = socket.socket.connect_ex = unreachable
    socket.getaddrinfo = socket.create_connection = unresolved


def name(exc):
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


namespace = {"__name__": "__main__", "__file__": snippet, "__builtins__": builtins}
try:
    with open(snippet, encoding="utf-8") as file:
        source = file.read()
    exec(compile(source, snippet, "exec"), namespace)
    if probe:
        exec(compile(probe, "probe", "exec"), namespace)
except BaseException as exc:
    traceback.print_exc()
    outcome = {"status": "fails", "error": name(exc), "message": str(exc)}
else:
    outcome = {"status": "runs"}
sys.stdout.flush()
with open(outcome_path, "w", encoding="utf-8") as file:
    json.dump(outcome, file)
'''


def snippets(markdown: str) -> dict[str, str]:
    """Each fenced ``python`` block, keyed by the number of the heading it sits under."""
    found: dict[str, str] = {}
    section, fence, body = "0", None, list[str]()
    for line in markdown.splitlines():
        if fence is not None:
            if line.strip() == "```":
                if fence == "python":
                    key = section if section not in found else f"{section}#{len(found)}"
                    found[key] = "\n".join(body) + "\n"
                fence, body = None, []
            else:
                body.append(line)
        elif line.strip().startswith("```"):
            fence = line.strip()[3:].strip().lower()
        elif heading := re.match(r"#{1,6}\s+(\d+(?:\.\d+)*)\.?\s", line):
            section = heading.group(1)
    return found


def needs(code: str) -> frozenset[str]:
    return frozenset(
        label.format(*match.groups()) for pattern, label in NEEDS for match in re.finditer(pattern, code)
    )


@functools.cache
def network_namespace() -> bool:
    """Whether this machine lets an unprivileged process have a network namespace of its own."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    try:
        return subprocess.run([unshare, "-rn", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass(frozen=True)
class Observed:
    outcome: Outcome
    stdout: str
    stderr: str


def run(code: str, folder: Path, stubs: tuple[str, ...] = (), probe: str = "") -> Observed:
    folder.mkdir()
    (folder / "snippet.py").write_text(code, encoding="utf-8")
    (folder / "_runner.py").write_text(RUNNER, encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),  # no caches of models or weights from the real home
        "XDG_CACHE_HOME": str(folder / ".cache"),
        "TORCH_HOME": str(folder / ".cache" / "torch"),
        "HF_HOME": str(folder / ".cache" / "huggingface"),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "LANG": "C.UTF-8",
    }
    command = [sys.executable, "_runner.py", "snippet.py", "outcome.json", ",".join(stubs), probe]
    if network_namespace():
        command = ["unshare", "-rn", *command]
    else:
        env["SNIPPET_SOCKET_GUARD"] = "1"
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    try:
        ended = json.loads((folder / "outcome.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        pytest.fail(f"the snippet runner died (exit {done.returncode}):\n{done.stderr}")
    outcome: Outcome = (
        Runs(done.stdout) if ended["status"] == "runs" else Fails(ended["error"], ended["message"])
    )
    return Observed(outcome, done.stdout, done.stderr)


def check(observed: Observed, expected: Outcome) -> None:
    got = observed.outcome
    detail = f"observed {got}\n--- stderr ---\n{observed.stderr[-3000:]}"
    if isinstance(expected, Runs):
        assert isinstance(got, Runs), detail
        assert got.stdout == expected.stdout, detail
    else:
        assert isinstance(got, Fails) and got.error == expected.error, detail
        assert expected.message in got.message, detail


@pytest.fixture(scope="module")
def blueprint() -> dict[str, str]:
    if not BLUEPRINT.is_file():
        pytest.skip(f"the blueprint is not at {BLUEPRINT} (ASTERISM_SHARED_DATA's sibling seed/)")
    return snippets(BLUEPRINT.read_text(encoding="utf-8"))


def test_the_blueprint_has_exactly_the_recorded_snippets(blueprint: dict[str, str]) -> None:
    assert sorted(blueprint) == sorted(EXPECTED), "a snippet was added, removed or moved: record it"
    for section, code in blueprint.items():
        assert code.lstrip().startswith(EXPECTED[section].first_line), section


@pytest.mark.slow
@pytest.mark.parametrize("section", list(EXPECTED))
def test_snippet_ends_as_recorded(section: str, blueprint: dict[str, str], tmp_path: Path) -> None:
    code, expected = blueprint.get(section), EXPECTED[section]
    if code is None:
        pytest.fail(f"§{section} has no python block any more")
    assert needs(code) == expected.needs
    check(run(code, tmp_path / "as-written"), expected.as_written)
    if expected.then is not None:
        check(run(code, tmp_path / "further", expected.stubs, expected.probe), expected.then)
    else:
        assert not expected.stubs and not expected.probe


def test_the_snippets_page_lists_every_snippet_with_its_outcome() -> None:
    rows = {
        match.group(1): line
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if (match := re.match(r"\|\s*§([\d.]+)\s*\|", line))
    }
    assert sorted(rows) == sorted(EXPECTED)
    for section, expected in EXPECTED.items():
        row = rows[section]
        first = expected.as_written
        assert (f"`{first.error}`" if isinstance(first, Fails) else "**runs**") in row, section
        if isinstance(expected.then, Fails):
            assert f"`{expected.then.error}`" in row, section
        for need in expected.needs:
            assert need in row, (section, need)
