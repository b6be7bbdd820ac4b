"""Fast but real HTTP settings for end-to-end source tests."""

from __future__ import annotations

from asterism.config import HttpSettings, Settings


def fast(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"http": HttpSettings(rate=50.0, host_rates={}, retries=2, max_backoff=0.2, timeout=2.0)}
    )
