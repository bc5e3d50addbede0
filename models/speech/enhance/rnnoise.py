"""RNNoise (Valin 2018), pretrained, through ``pyrnnoise``'s bundled librnnoise.

Uses the frame-level ctypes functions (``create``/``process_mono_frame``/``destroy``) rather
than ``pyrnnoise.RNNoise``, whose resampling graph needs ffmpeg bindings and files on disk.
librnnoise works on 480-sample frames of 16-bit-scaled audio at 48 kHz.
"""
from __future__ import annotations

import numpy as np

from models.common.audio import resample

SR = 48000
FRAME = 480
DELAY_SAMPLES = 960
"""Output lags input by 20 ms at 48 kHz (window overlap plus one frame of look-back); measured by
cross-correlation in tests/unit/test_speech_engines.py and removed."""


def enhance(audio: np.ndarray, sr: int) -> np.ndarray:
    """Denoise mono ``audio`` at ``sr``; returns the same length at the same rate, delay removed.

    A fresh RNNoise state per call (creating one is microseconds) keeps calls independent.
    """
    from pyrnnoise import rnnoise

    x = resample(np.asarray(audio, dtype=np.float32), sr, SR)
    n = x.size
    frames = -(-(n + DELAY_SAMPLES) // FRAME)
    padded = np.zeros(frames * FRAME, np.float32)
    padded[:n] = np.clip(x, -1.0, 1.0)
    pcm = (padded * 32767).astype(np.int16)
    out = np.empty(frames * FRAME, np.float32)
    state = rnnoise.create()
    try:
        for i in range(frames):
            frame, _ = rnnoise.process_mono_frame(state, pcm[i * FRAME:(i + 1) * FRAME])
            out[i * FRAME:(i + 1) * FRAME] = frame / 32767.0
    finally:
        rnnoise.destroy(state)
    return resample(out[DELAY_SAMPLES:DELAY_SAMPLES + n], SR, sr)
