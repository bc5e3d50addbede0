"""PaperLab FRCRN engine: the trained FRCRNLite (frcrn_net.py) loaded once per process."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from models.common.audio import resample
from models.common.checkpoint import load_checkpoint
from models.speech.enhance.frcrn_net import FRCRNLite

CHECKPOINT = Path(__file__).resolve().parents[3] / "assets" / "speech" / "frcrn_lite.safetensors"
SR = 16000
_ARCH_KEYS = ("n_fft", "hop", "channels", "fsmn_kernel", "time_kernel", "time_layers", "compress")


@functools.cache
def load_model(path: Path = CHECKPOINT) -> FRCRNLite:
    """The trained model in eval mode (cached: loading happens once per process, lazily)."""
    tensors, config = load_checkpoint(path)
    arch = {k: config[k] for k in _ARCH_KEYS}
    model = FRCRNLite(**{**arch, "channels": tuple(arch["channels"])})
    model.load_state_dict(tensors)
    return model.eval()


def enhance_with_mask(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Enhanced audio at ``sr`` (same length) and |M|, the magnitude of the complex ratio mask (F, T)."""
    x = torch.from_numpy(resample(np.asarray(audio, dtype=np.float32), sr, SR))[None]
    with torch.inference_mode():
        y, mask = load_model()(x)
    return resample(y[0].numpy(), SR, sr)[: audio.size], mask[0].abs().numpy()


def enhance(audio: np.ndarray, sr: int) -> np.ndarray:
    """Enhanced mono ``audio`` at ``sr`` (the STFT model has no delay to remove)."""
    return enhance_with_mask(audio, sr)[0]
