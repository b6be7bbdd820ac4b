"""Dates as vectors: multi-scale sinusoids of the midpoint, blurred by the uncertainty.

A sine/cosine pair per scale (20 years to 3,000) places a date on clocks of
different speeds, so 1870 and 1875 agree on every clock while 1370 and 1870
agree only on the slowest. A wide range ("16th century") is treated as a
uniform-ish spread: each clock is damped by how much it would turn within the
range, so a century-wide date keeps its slow clocks and carries no false
precision on the fast ones. Unknown dates give the zero vector.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

PERIODS = (20.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 3000.0)
DIM = 2 * len(PERIODS)


def encode_date(start: int | None, end: int | None) -> npt.NDArray[np.float32]:
    if start is None and end is None:
        return np.zeros(DIM, dtype=np.float32)
    low = start if start is not None else end
    high = end if end is not None else start
    assert low is not None and high is not None
    middle = (low + high) / 2.0
    spread = max(abs(high - low) / 2.0, 1.0)
    out = np.empty(DIM, dtype=np.float32)
    for i, period in enumerate(PERIODS):
        angle = 2 * np.pi * middle / period
        damping = float(np.exp(-0.5 * (2 * np.pi * spread / period) ** 2 / 3.0))
        out[2 * i] = np.sin(angle) * damping
        out[2 * i + 1] = np.cos(angle) * damping
    return out
