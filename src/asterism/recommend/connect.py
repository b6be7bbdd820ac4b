"""``connect``: a path between two artworks told as steps a person can follow.

Each step of the graph path is either a similarity edge (its affinity, its
weight and the reasons that hold between the two works, from the same
explanation code as recommendations) or a knowledge-graph hop ("created by
Claude Monet", "Monet was influenced by Boudin").
"""

from __future__ import annotations

from pydantic import BaseModel

from asterism.embed.base import Affinity
from asterism.graph.base import GraphPath, PathNode
from asterism.graph.edges import AFFINITY_OF
from asterism.recommend import explain
from asterism.recommend.engine import Recommender

RELATION_WORDS = {
    "CREATED_BY": "created by",
    "INFLUENCED_BY": "influenced by",
    "TEACHER_OF": "teacher of",
}


class ConnectStep(BaseModel):
    source: str
    target: str
    source_id: int | None
    target_id: int | None
    relation: str  # "formal", "conceptual", "historical", or a knowledge relation in words
    weight: float | None
    reason: str


def _name(node: PathNode, recommender: Recommender) -> str:
    if node.entity is not None:
        return f"{node.entity.label} ({node.entity.kind.lower()})"
    artwork = recommender.catalogue.get(node.artwork_id or -1)
    return f"#{node.artwork_id} {artwork.title if artwork else ''}".strip()


def _side(artwork_id: int | None, recommender: Recommender) -> explain.Side:
    artwork = recommender.catalogue.get(artwork_id) if artwork_id is not None else None
    facts = {}
    if artwork and artwork.image and recommender.features is not None:
        facts = recommender.features.image_features([artwork.image.sha256])
    fact = facts.get(artwork.image.sha256) if artwork and artwork.image else None
    formal = recommender.searcher.vector(Affinity.FORMAL, artwork_id) if artwork_id is not None else None
    return explain.Side(
        artwork,
        labels=list(fact.labels) if fact else [],
        palette=list(fact.palette) if fact else [],
        ocr_text=artwork.image.ocr_text if artwork and artwork.image else "",
        formal=formal,
    )


def describe_path(path: GraphPath, recommender: Recommender) -> list[ConnectStep]:
    steps = []
    for a, b, step in zip(path.nodes[:-1], path.nodes[1:], path.steps, strict=True):
        affinity = AFFINITY_OF.get(step.type)
        if affinity is not None:
            left, right = _side(a.artwork_id, recommender), _side(b.artwork_id, recommender)
            if affinity == Affinity.FORMAL:
                reasons = explain.formal_reasons(left, right, recommender.layout)
            elif affinity == Affinity.CONCEPTUAL:
                reasons = explain.conceptual_reasons(left, right)
            else:
                reasons = explain.historical_reasons(left, right, recommender.knowledge)
            relation = str(affinity)
            reason = "; ".join(reasons) or f"{relation} similarity"
        else:
            relation = RELATION_WORDS.get(step.type, step.type.lower().replace("_", " "))
            subject, obj = (a, b) if step.forward else (b, a)
            reason = f"{_name(subject, recommender)} {relation} {_name(obj, recommender)}"
        steps.append(
            ConnectStep(
                source=_name(a, recommender),
                target=_name(b, recommender),
                source_id=a.artwork_id,
                target_id=b.artwork_id,
                relation=relation,
                weight=step.weight,
                reason=reason,
            )
        )
    return steps
