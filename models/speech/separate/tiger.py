"""PaperLab TIGER-lite engine: the trained separator loaded once per process, with chunking."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from models.common.audio import resample
from models.common.checkpoint import load_model as load_model_from
from models.common.progress import Progress
from models.speech.separate.chunking import separate_long
from models.speech.separate.tiger_net import TigerLite

CHECKPOINT = Path(__file__).resolve().parents[3] / "assets" / "speech" / "tiger_lite.safetensors"
SR = 16000
_ARCH_KEYS = ("n_fft", "hop", "features", "blocks", "speakers", "mask", "compress")


@functools.cache
def load_model(path: Path = CHECKPOINT) -> TigerLite:
    """The trained separator in eval mode (cached: loaded lazily, once per process)."""
    return load_model_from(path, TigerLite, _ARCH_KEYS)


def _separate_chunk(chunk: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return load_model()(torch.from_numpy(np.ascontiguousarray(chunk))[None])[0].numpy()


def separate(audio: np.ndarray, sr: int, progress: Progress | None = None) -> np.ndarray:
    """Two estimated speakers (2, n) at ``sr`` from a mono mixture; long inputs are chunked."""
    x = resample(np.asarray(audio, dtype=np.float32), sr, SR)
    est = separate_long(x, _separate_chunk, SR, progress=progress)
    return np.stack([resample(s, SR, sr)[: audio.size] for s in est])
