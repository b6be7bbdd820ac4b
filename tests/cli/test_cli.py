"""Every command of ``asterism``, as a person types it: output, exit status, and messages for bad input.

Questions run against the built sample collection (its records and builds are
only read; ``eval`` adds a report folder); commands that ingest get a home of their own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import asterism
from asterism.cli.main import app
from asterism.config import Settings

runner = CliRunner()


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--home", str(home), *args])
    return result.exit_code, result.stdout, result.stderr


def test_stats_and_problems(built: Settings) -> None:
    code, out, _ = run(built.home, "stats", "--json")
    assert code == 0 and json.loads(out)["artworks"] == 120
    code, out, _ = run(built.home, "stats")
    assert code == 0 and "120 artworks" in out
    code, out, _ = run(built.home, "problems", "--json")
    assert code == 0 and isinstance(json.loads(out), list)
    code, out, _ = run(built.home, "problems")
    assert code == 0 and "problem(s)" in out


def test_recommend_by_id_by_name_and_by_image(built: Settings, shared_data: Path) -> None:
    code, out, _ = run(built.home, "recommend", "--id", "5", "--k", "3", "--json")
    assert code == 0, out
    page = json.loads(out)
    assert page["start_id"] == 5 and len(page["results"]) == 3
    ref = f"{page['results'][0]['artwork']['source']}:{page['results'][0]['artwork']['source_id']}"
    code, out, _ = run(built.home, "recommend", "--id", ref, "--k", "2", "--json")
    assert code == 0 and json.loads(out)["start_id"] == page["results"][0]["artwork"]["id"]
    code, out, _ = run(built.home, "recommend", "--id", "5", "--k", "2", "--weights", "formal=1",
                       "--filter", "date=1400..1950", "--diversity", "0.5")  # fmt: skip
    assert code == 0 and "start: #5" in out and "Formal" in out and "Historical" in out
    with asterism.open(built.home) as opened:
        stored = {a.source_id: a for a in opened.service().catalogue.records.values()}
    picture = next(
        p
        for p in sorted((shared_data / "aic-paintings" / "images").glob("*.jpg"))
        if f"aic-paintings/{p.stem}" in stored
    )
    code, out, _ = run(built.home, "recommend", "--image", str(picture), "--k", "2", "--no-recognise")
    assert code == 0 and "uploaded picture" in out and "(inferred)" in out and "Recognised" not in out
    code, out, _ = run(built.home, "recommend", "--image", str(picture), "--k", "2")
    work = stored[f"aic-paintings/{picture.stem}"]
    assert code == 0 and f"Recognised: {work.title}" in out and f"#{work.id}" in out and "confidence" in out
    code, out, _ = run(built.home, "recommend", "--image", str(picture), "--k", "2", "--json")
    page = json.loads(out)
    assert page["start_kind"] == "recognised" and page["recognised"]["artwork"]["id"] == work.id


def test_eval_recognition(built: Settings) -> None:
    code, out, _ = run(built.home, "eval", "recognition", "--works", "1", "--unknown", "1", "--json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["photos"] == 2 * 36 and len(summary["conditions"]) == 36  # 12 kinds of photo × 3 grades
    assert summary["threshold"]["min_inliers"] >= 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id", "987654321"], "no artwork 987654321"),
        (["--id", "aic:404404"], "aic:404404"),
        (["--id", "not a name"], "not a work name"),
        (["--id", "²"], "not a work name"),
        (["--id", "a:[/]"], "no artwork a:[/]"),  # user input is printed as text, never as markup
        (["--id", "5", "--weights", "beauty=1"], "unknown affinity"),
        (["--id", "5", "--filter", "colour=red"], "unknown filter"),
        (["--id", "5", "--filter", "date=1900..1800"], "date range is empty"),
        ([], "give exactly one start"),
    ],
)
def test_recommend_refuses_bad_input_clearly(built: Settings, args: list[str], message: str) -> None:
    code, out, err = run(built.home, "recommend", *args)
    assert code == 2 and message in err and "Traceback" not in out + err, err


def test_connect_and_graph_stats(built: Settings) -> None:
    code, out, _ = run(built.home, "connect", "1", "2", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["from"] == "1" and (not body["found"] or body["steps"][0]["source_id"] == 1)
    code, _, err = run(built.home, "connect", "1", "met:0")
    assert code == 2 and "met:0" in err
    code, out, _ = run(built.home, "graph", "stats", "--json")
    assert code == 0 and json.loads(out)["counts"]["Artwork"] == 120
    code, out, _ = run(built.home, "graph", "stats")
    assert code == 0 and "average degree" in out


def test_build_embed_index_on_a_built_home_do_nothing(built: Settings) -> None:
    for command in ("build", "embed", "index"):
        code, _, err = run(built.home, command)
        assert code == 0 and "everything is up to date" in err, (command, err)


def test_eval_commands(built: Settings) -> None:
    code, out, err = run(built.home, "eval", "--by-image", "2", "--json")
    assert code == 0 and "report, JSON and plots in" in err
    assert set(json.loads(out)["scores"]) >= {"id", "image"}
    code, out, _ = run(built.home, "eval", "tune", "--no-write", "--limit", "8", "--json")
    assert code == 0 and "chosen" in json.loads(out) and not (built.home / "asterism.toml").exists()
    code, out, _ = run(built.home, "eval", "models")
    assert code == 0 and "recall@10" in out
    code, out, _ = run(built.home, "eval", "preferences", "--json")
    assert code == 0 and set(json.loads(out)) == {"formal-led", "meaning-led", "history-led"}


def test_questions_before_a_build_say_what_to_do(tmp_path: Path) -> None:
    for args in (["recommend", "--id", "1"], ["connect", "1", "2"], ["eval"], ["graph", "stats"]):
        code, out, err = run(tmp_path / "empty", *args)
        assert code == 2 and "asterism build" in err and "Traceback" not in out + err, args


def test_ingest_refuses_a_folder_without_records(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    code, _, err = run(tmp_path / "home", "ingest", "local", str(tmp_path / "nothing"))
    assert code == 2 and "records" in err
    code, _, err = run(tmp_path / "home", "ingest", "local", str(tmp_path / "missing"))
    assert code == 2 and "Invalid value" in err  # typer checks the path before anything runs


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_starts_answers_and_stops(built: Settings) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASTERISM_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "asterism.cli.main", "--home", str(built.home), "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.3)
        assert ready.json()["artworks"] == 120
        answer = httpx.get(f"http://127.0.0.1:{port}/v1/artworks/1", timeout=10)
        assert answer.status_code == 200 and answer.json()["id"] == 1
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=30)
    assert code == 0
