"""Spectral gating (noisereduce, Sainburg et al. 2020): the classical, training-free baseline.

Non-stationary mode: the noise floor is a running (2 s) estimate per frequency, so no
noise-only clip is needed; each time-frequency bin is attenuated by a smoothed sigmoid gate.
"""
from __future__ import annotations

import numpy as np

SR = 16000


def enhance(audio: np.ndarray, sr: int) -> np.ndarray:
    """Gate mono ``audio`` at its own rate; returns the same length (the gate adds no delay)."""
    import noisereduce

    out = noisereduce.reduce_noise(y=np.asarray(audio, dtype=np.float32), sr=sr, stationary=False, n_jobs=1)
    return np.asarray(out, dtype=np.float32)[: audio.size]
