"""PaperLab FRCRN engine: the trained FRCRNLite (frcrn_net.py) loaded once per process."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from models.common.audio import resample
from models.common.checkpoint import load_model as load_model_from
from models.speech.enhance.frcrn_net import FRCRNLite

CHECKPOINT = Path(__file__).resolve().parents[3] / "assets" / "speech" / "frcrn_lite.safetensors"
SR = 16000
_ARCH_KEYS = ("n_fft", "hop", "channels", "fsmn_kernel", "time_kernel", "time_layers", "compress")


@functools.cache
def load_model(path: Path = CHECKPOINT) -> FRCRNLite:
    """The trained model in eval mode (cached: loading happens once per process, lazily)."""
    return load_model_from(path, lambda **arch: FRCRNLite(**{**arch, "channels": tuple(arch["channels"])}), _ARCH_KEYS)


def enhance_with_mask(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Enhanced audio at ``sr`` (same length) and |M|, the magnitude of the complex ratio mask (F, T)."""
    x = torch.from_numpy(resample(np.asarray(audio, dtype=np.float32), sr, SR))[None]
    with torch.inference_mode():
        y, mask = load_model()(x)
    return resample(y[0].numpy(), SR, sr)[: audio.size], mask[0].abs().numpy()


def enhance(audio: np.ndarray, sr: int) -> np.ndarray:
    """Enhanced mono ``audio`` at ``sr`` (the STFT model has no delay to remove)."""
    return enhance_with_mask(audio, sr)[0]
