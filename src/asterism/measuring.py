"""How well a collection answers: the ``Collection`` methods that measure, tune and audit it.

A mixin of ``asterism.collection.Collection`` (called as ``collection.evaluate()``,
``collection.tune()`` …), kept apart because it is another job than ingesting, building
and asking: each method runs one of ``asterism.eval``'s measurements over the opened
service and, for ``tune`` and ``evaluate_recognition(write=True)``, writes what it chose
to ``asterism.toml`` and makes the collection read it from the next question on. The
``eval`` modules are imported inside the methods, so a process that only asks does not
load them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from asterism.config import Settings, Weights
from asterism.recommend.query import QueryError
from asterism.recommend.service import Service
from asterism.settings_file import update_settings_file
from asterism.store import open_database


class Opened(Protocol):
    """What the measuring methods use of the collection they are mixed into."""

    settings: Settings

    def service(self) -> Service: ...

    def _forget(self) -> None: ...


class Measuring:
    """Evaluation, tuning, the audit and the preference study's results of one collection."""

    def evaluate(
        self: Opened, *, by_image: int = 200, by_id: bool = True, clip_reference: Path | str | None = None
    ) -> dict[str, Any]:
        """Recall@K, MRR, nDCG, coverage, diversity, latency per relevance notion and method.

        Returns the summary; ``write_report`` puts it as Markdown, JSON and plots under the home.
        """
        from asterism.eval.reference import clip_reference as clip_scores
        from asterism.eval.runner import evaluate

        service = self.service()
        summary = evaluate(service, by_image=by_image, by_id=by_id).summary()
        if clip_reference is not None:
            reference = clip_scores(service, Path(clip_reference))
            summary["queries"]["clip reference"] = reference["matched"]
            summary["scores"]["id, CLIP-covered works"] = reference["scores"]
        return summary

    def write_report(self: Opened, summary: dict[str, Any]) -> Path:
        """An evaluation summary as Markdown, JSON and PNG plots in a new folder under ``<home>/eval``."""
        from asterism.eval.report import write

        return write(summary, self.settings.paths)

    def audit(
        self: Opened, *, starts: int | None = None, seed: int = 0, by_image: int = 100
    ) -> dict[str, Any]:
        """The collection against what the recommender shows, broadening off and on (``eval.audit``)."""
        from asterism.eval.audit import audit

        return audit(self.service(), starts=starts, seed=seed, by_image=by_image)

    def write_audit(self: Opened, summary: dict[str, Any], folder: Path | str | None = None) -> Path:
        """The audit as Markdown, JSON and PNG plots in ``folder`` (None: a new one under ``<home>/eval``)."""
        from asterism.eval.audit_report import write

        return write(summary, self.settings.paths, Path(folder) if folder is not None else None)

    def tune(self: Opened, *, write: bool = True, limit: int | None = None) -> dict[str, Any]:
        """Weights, α/β and formal parts chosen by image on validation artists, reported on test artists.

        Written to ``<home>/asterism.toml`` unless ``write`` is false; ``limit``: at most that many
        pictures per side (a quick look).
        """
        from asterism.eval.tune import tune, write_settings

        result = tune(self.service(), limit=limit)
        if write:
            built = self.settings.models.formal_parts
            result["written_to"] = str(write_settings(self.settings.paths, result["chosen"], built))
            chosen = result["chosen"]
            weights = Weights(
                formal=chosen["formal"], conceptual=chosen["conceptual"], historical=chosen["historical"]
            )
            recommend = self.settings.recommend.model_copy(update={
                "upload_weights": weights, "upload_alpha": chosen["alpha"], "upload_beta": chosen["beta"],
                "upload_formal_parts": tuple(chosen["parts"]) if chosen["parts"] else built,
            })  # fmt: skip
            self._forget()  # the next question reads the new defaults
            self.settings = self.settings.model_copy(update={"recommend": recommend})
        return result

    def evaluate_recognition(
        self: Opened, *, works: int = 40, unknown: int = 20, seed: int = 0, write: bool = False
    ) -> tuple[dict[str, Any], Path]:
        """Simulated phone photos of known and held-out works: top-1/top-5/false recognitions per transform.

        The report (Markdown, JSON, plots) goes to a new folder under ``<home>/eval``; with ``write``,
        the chosen threshold and confidence curve go to ``<home>/asterism.toml`` ``[recognise]``.
        """
        from asterism.eval import recognition
        from asterism.eval.report import new_folder

        service = self.service()
        if service.recogniser is None:
            raise QueryError("no recognition data: run `asterism build` (its recognition stage) first")
        shots = recognition.shoot(service, service.recogniser, works=works, unknown=unknown, seed=seed)
        summary = recognition.summarise(shots, self.settings.recognise)
        folder = new_folder(self.settings.paths, "recognition")
        (folder / "report.json").write_text(json.dumps(summary, indent=2))
        (folder / "report.md").write_text(recognition.markdown(summary))
        recognition.plots(summary, folder)
        if write:
            values = {"min_inliers": summary["threshold"]["min_inliers"], **summary["confidence"]}
            summary["written_to"] = str(
                update_settings_file(self.settings.paths.config_file, "recognise", values)
            )
            self._forget()
            self.settings = self.settings.model_copy(
                update={"recognise": self.settings.recognise.model_copy(update=values)}
            )
        return summary, folder

    def compare_models(self: Opened) -> dict[str, Any]:
        """The relevance table per embedder variant (formal parts alone, conceptual, historical)."""
        from asterism.eval.model_choice import compare_models

        return compare_models(self.service())

    def preferences(self: Opened) -> dict[str, Any]:
        """Win rates of each alternative weighting against the default in the blind study."""
        from asterism.eval.study import results

        with open_database(self.settings) as database:
            return results(database.study)
