"""Imported vector spaces at serve time: which model made each, and which can place an upload in it.

An affinity may be served from vectors computed elsewhere (``asterism vectors import``, e.g.
OpenCLIP vectors of a collection). An upload can join such a space only through the very
model that made it; these functions say which model that was (for the refusal message) and
give the encoder when the active image–text model is that model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from asterism.config import Settings
from asterism.embed.base import RGB, Affinity, Vectors
from asterism.embed.registry import Models
from asterism.store import Database
from asterism.store.features import MODEL_PREFIX, SPACE_PREFIX


def space_models(settings: Settings, database: Database) -> dict[Affinity, str]:
    """Affinities served from imported spaces, with the model each was computed with (for messages)."""
    stored = database.features.spaces()
    out = {}
    for affinity, space in settings.models.spaces.items():
        model, _ = stored.get(SPACE_PREFIX + space, ("", 0))
        out[Affinity(affinity)] = model.removeprefix(MODEL_PREFIX) or f"the model of space {space!r}"
    return out


def space_encoders(
    settings: Settings, models: Models, spaces: dict[Affinity, str]
) -> dict[Affinity, Callable[[RGB], Vectors]]:
    """The conceptual space's own model, when it is the active image–text model (pulled or local).

    A space names the model that made it (a catalogue name, or a checkpoint identity); an upload
    can join the space only through that very model, so anything else is refused by ``NeedsModel``.
    """
    clip_path = settings.models.clip_path
    model = spaces.get(Affinity.CONCEPTUAL)
    if clip_path is None or model is None or settings.models.conceptual == "text":
        return {}
    from asterism.embed.checkpoints import image_text_info
    from asterism.embed.hub import pulled

    same = model == image_text_info(clip_path).key
    same = same or pulled(settings.paths).get(model) == Path(clip_path)
    if not same:
        return {}

    def encode(rgb: RGB) -> Vectors:
        clip = models.concept.image_text
        assert clip is not None
        vector: Vectors = clip.embed_images([rgb])[0]
        return vector

    return {Affinity.CONCEPTUAL: encode}
