"""``connect``: a path between two artworks told as steps a person can follow.

Each step of the graph path is either a similarity edge (its affinity, its
weight and the reasons that hold between the two works, from the same
explanation code as recommendations) or a knowledge-graph hop ("created by
Claude Monet", "Monet was influenced by Boudin").
"""

from __future__ import annotations

from asterism.graph.base import GraphPath, PathNode
from asterism.graph.edges import AFFINITY_OF
from asterism.recommend.explainer import Explainer
from asterism.shapes import ConnectStep

RELATION_WORDS = {
    "CREATED_BY": "created by",
    "INFLUENCED_BY": "influenced by",
    "TEACHER_OF": "teacher of",
}


def _name(node: PathNode, explainer: Explainer) -> str:
    if node.entity is not None:
        return f"{node.entity.label} ({node.entity.kind.lower()})"
    artwork = explainer.catalogue.get(node.artwork_id or -1)
    return f"#{node.artwork_id} {artwork.title if artwork else ''}".strip()


def describe_path(path: GraphPath, explainer: Explainer) -> list[ConnectStep]:
    """Each step of the path with its affinity (and the reasons that hold) or its relation in words."""
    steps = []
    for a, b, step in zip(path.nodes[:-1], path.nodes[1:], path.steps, strict=True):
        affinity = AFFINITY_OF.get(step.type)
        if affinity is not None:
            left = explainer.side(explainer.catalogue.get(a.artwork_id or -1))
            right = explainer.side(explainer.catalogue.get(b.artwork_id or -1))
            relation = str(affinity)
            reason = "; ".join(explainer.reasons(affinity, left, right)) or f"{relation} similarity"
        else:
            relation = RELATION_WORDS.get(step.type, step.type.lower().replace("_", " "))
            subject, obj = (a, b) if step.forward else (b, a)
            reason = f"{_name(subject, explainer)} {relation} {_name(obj, explainer)}"
        steps.append(
            ConnectStep(
                source=_name(a, explainer),
                target=_name(b, explainer),
                source_id=a.artwork_id,
                target_id=b.artwork_id,
                relation=relation,
                weight=step.weight,
                reason=reason,
            )
        )
    return steps
