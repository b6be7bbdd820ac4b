"""What a command costs to start: the commands that run no network leave torch unimported.

``make demo`` runs five commands in a row; importing torch was half of each start (~1 s of CPU).
Each check runs in a fresh interpreter, where an import left out would fail (in this test
process torch is usually loaded already, which would hide it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

_COMMANDS_THEN_MODULES = """
import json, sys
from asterism.cli.main import app
for args in json.loads(sys.argv[1]):
    try:
        app(args)
    except SystemExit as stop:
        if stop.code:
            raise
print("MODULES", json.dumps(sorted(m for m in ("torch", "sentence_transformers", "umap") if m in sys.modules)))
"""


def in_a_fresh_process(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_ingest_stats_and_models_list_run_without_importing_torch(shared_data: Path, tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    commands = [
        ["--home", home, "ingest", "sample", str(shared_data / "aic-paintings"), "--limit", "12", "--no-ocr"],
        ["--home", home, "stats", "--json"],
        ["--home", home, "models", "list"],
    ]
    out = in_a_fresh_process(_COMMANDS_THEN_MODULES, json.dumps(commands))
    assert '"artworks": 12' in out  # the commands did their work
    assert json.loads(out.split("MODULES ")[-1]) == []


_BACKBONE_BOTH_RUNTIMES = """
import sys
import numpy as np
from asterism.embed.backbone import EfficientNetLite0
assert "torch" not in sys.modules
picture = np.random.default_rng(0).integers(0, 256, (180, 240, 3), dtype=np.uint8)
outputs = [EfficientNetLite0(threads=1, runtime=runtime).run([picture]) for runtime in ("torch", "onnx")]
for name in ("probabilities", "texture", "descriptor"):
    np.save(sys.argv[1] + f"-{name}-torch.npy", getattr(outputs[0], name))
    np.save(sys.argv[1] + f"-{name}-onnx.npy", getattr(outputs[1], name))
"""


def test_the_backbone_imports_torch_where_it_runs_a_network(tmp_path: Path) -> None:
    """Both runtimes in a process that has not imported torch: every path that uses it imports it."""
    prefix = str(tmp_path / "out")
    in_a_fresh_process(_BACKBONE_BOTH_RUNTIMES, prefix)
    for name, tolerance in (("probabilities", 1e-4), ("texture", 1e-3), ("descriptor", 1e-3)):
        on_torch, on_onnx = (np.load(f"{prefix}-{name}-{runtime}.npy") for runtime in ("torch", "onnx"))
        assert on_torch.shape == on_onnx.shape and np.abs(on_torch).max() > 0, name
        assert np.allclose(on_torch, on_onnx, atol=tolerance), (name, np.abs(on_torch - on_onnx).max())
