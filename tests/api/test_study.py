"""The blind preference study: tallies by hand, blind pairs and votes through the API."""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient

from asterism.config import Settings
from asterism.eval.study import DEFAULT, new_pair, results
from asterism.store import open_database
from asterism.store.study import AlreadyVoted, UnknownPair


def test_tallies_by_hand(settings: Settings) -> None:
    database = open_database(settings)
    study = database.study
    rng = random.Random(3)
    votes = {"formal-led": [], "meaning-led": [], "history-led": []}
    for _ in range(30):
        pair_id, left, right = new_pair(study, 1, rng)
        other = right if left == DEFAULT else left
        assert DEFAULT in (left, right) and other in votes
        # this person always prefers the history-led list and calls the others a tie half the time
        if other == "history-led":
            choice = "left" if left == other else "right"
        else:
            choice = rng.choice(["tie", "left" if left == DEFAULT else "right"])
        study.vote(pair_id, choice)
        votes[other].append(choice)
    tally = results(study)
    history = tally["history-led"]
    assert (
        history["wins"] == len(votes["history-led"]) and history["losses"] == 0 and history["win_rate"] == 1.0
    )
    for name in ("formal-led", "meaning-led"):
        assert tally[name]["wins"] == 0 and tally[name]["ties"] + tally[name]["losses"] == len(votes[name])
    low, high = history["interval95"]
    assert 0 < low < 1 and high == pytest.approx(1.0)
    with pytest.raises(AlreadyVoted):
        study.vote(pair_id, "tie")
    with pytest.raises(UnknownPair):
        study.vote("nope", "left")
    database.close()


def test_study_through_the_api(client: TestClient) -> None:
    start = client.get("/v1/search", params={"q": "monet"}).json()["results"][0]["id"]
    pair = client.post("/v1/study/pairs", json={"artwork_id": start, "k": 4})
    assert pair.status_code == 200, pair.text
    body = pair.json()
    assert len(body["left"]) == 4 and len(body["right"]) == 4 and "variant" not in str(body.keys())
    assert (
        client.post("/v1/study/votes", json={"pair_id": body["pair_id"], "choice": "left"}).status_code == 200
    )
    assert (
        client.post("/v1/study/votes", json={"pair_id": body["pair_id"], "choice": "left"}).status_code == 409
    )
    assert client.post("/v1/study/votes", json={"pair_id": "missing", "choice": "left"}).status_code == 404
    assert (
        client.post("/v1/study/votes", json={"pair_id": body["pair_id"], "choice": "both"}).status_code == 422
    )
    assert client.post("/v1/study/pairs", json={"artwork_id": 987654321}).status_code == 404
