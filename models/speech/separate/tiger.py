"""PaperLab TIGER-lite engine: the trained separator loaded once per process, with chunking."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from models.common.audio import resample
from models.common.checkpoint import load_model as load_model_from
from models.common.progress import Progress
from models.speech.separate.chunking import best_order, separate_long
from models.speech.separate.tiger_net import TigerLite

CHECKPOINT = Path(__file__).resolve().parents[3] / "assets" / "speech" / "tiger_lite.safetensors"
SR = 16000
_ARCH_KEYS = ("n_fft", "hop", "features", "blocks", "speakers", "mask", "compress")
SHIFTS = 4
"""Passes averaged per chunk by default (see ``shift_average``). Chosen on 100 validation mixtures
(`python benchmarks/speech.py --tasks shifts`): 1 / 2 / 4 passes gave SI-SDRi 7.35 / 7.56 / 7.65 dB;
4 passes cost 4x the compute, still RTF well under the issue's 0.3."""


@functools.cache
def load_model(path: Path = CHECKPOINT) -> TigerLite:
    """The trained separator in eval mode (cached: loaded lazily, once per process)."""
    return load_model_from(path, TigerLite, _ARCH_KEYS)


def _run(chunk: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return load_model()(torch.from_numpy(np.ascontiguousarray(chunk))[None])[0].numpy()


def shift_average(chunk: np.ndarray, shifts: int) -> np.ndarray:
    """Sources (2, n) averaged over ``shifts`` passes, each on an STFT frame grid offset by hop/shifts.

    The mask is estimated per frame, so its errors depend on where frames fall; averaging
    passes on different grids cancels part of them (Demucs' ``shifts`` option does the same
    with random offsets). Each pass's speakers are put in the first pass's order before averaging.
    """
    hop = load_model().hop
    first = _run(chunk)
    total = first.astype(np.float64)
    for k in range(1, shifts):
        d = k * hop // shifts
        est = _run(np.pad(chunk, (d, 0)))[:, d:]
        total += est[list(best_order(first, est))]
    return (total / shifts).astype(np.float32)


def separate(audio: np.ndarray, sr: int, progress: Progress | None = None, shifts: int = SHIFTS) -> np.ndarray:
    """Two estimated speakers (2, n) at ``sr`` from a mono mixture; long inputs are chunked."""
    x = resample(np.asarray(audio, dtype=np.float32), sr, SR)
    est = separate_long(x, lambda chunk: shift_average(chunk, shifts), SR, progress=progress)
    return np.stack([resample(s, SR, sr)[: audio.size] for s in est])
