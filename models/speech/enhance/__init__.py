"""Enhancement engines. Each module exposes ``enhance(audio, sr) -> audio`` for mono float32
audio: same rate and length as the input, any algorithmic delay already removed."""
from collections.abc import Callable

import numpy as np

from models.speech.enhance import deepfilternet, frcrn, rnnoise, spectral_gating

Engine = Callable[[np.ndarray, int], np.ndarray]

ENGINES: dict[str, Engine] = {
    "PaperLab FRCRN": frcrn.enhance,
    "DeepFilterNet3": deepfilternet.enhance,
    "RNNoise": rnnoise.enhance,
    "Spectral gating": spectral_gating.enhance,
}
"""Display name -> engine, in the order the page lists them."""
