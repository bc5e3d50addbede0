"""Speech quality metrics: SI-SDR, PESQ (wide band), STOI with a clean reference; DNSMOS without.

PESQ and STOI come from the reference implementations (``pesq``, ``pystoi``) rather than being
re-implemented, so numbers are comparable with papers. All metrics run at 16 kHz.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

SR = 16000


def si_sdr(est: np.ndarray, ref: np.ndarray) -> float:
    """Scale-invariant SDR in dB (Le Roux et al. 2019) of 1-D signals, truncated to equal length."""
    n = min(est.size, ref.size)
    est = est[:n].astype(np.float64) - np.mean(est[:n])
    ref = ref[:n].astype(np.float64) - np.mean(ref[:n])
    alpha = np.dot(est, ref) / (np.dot(ref, ref) + 1e-12)
    target = alpha * ref
    return float(10 * np.log10(np.dot(target, target) / (np.dot(target - est, target - est) + 1e-12) + 1e-12))


def pesq_wb(est: np.ndarray, ref: np.ndarray, sr: int = SR) -> float:
    """Wide-band PESQ (ITU-T P.862.2, MOS-LQO 1.04-4.64); NaN when PESQ finds no speech."""
    from pesq import PesqError, pesq

    n = min(est.size, ref.size)
    try:
        return float(pesq(sr, ref[:n].astype(np.float64), est[:n].astype(np.float64), "wb"))
    except (PesqError, ValueError):
        return math.nan


def stoi(est: np.ndarray, ref: np.ndarray, sr: int = SR) -> float:
    """Short-time objective intelligibility (Taal et al. 2011), 0..1."""
    from pystoi import stoi as _stoi

    n = min(est.size, ref.size)
    return float(_stoi(ref[:n], est[:n], sr, extended=False))


def dnsmos(audio: np.ndarray, sr: int = SR) -> dict[str, float]:
    """Non-intrusive DNSMOS P.835 (Reddy et al. 2022): signal, background and overall MOS (1-5).

    speechmos pads clips shorter than 9 s by repetition, so any length >= 0.1 s works.
    """
    from speechmos import dnsmos as _dnsmos

    x = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    out = _dnsmos.run(x, sr)
    return {"dnsmos_ovrl": float(out["ovrl_mos"]), "dnsmos_sig": float(out["sig_mos"]),
            "dnsmos_bak": float(out["bak_mos"])}


def reference_metrics(est: np.ndarray, ref: np.ndarray, sr: int = SR) -> dict[str, float]:
    """SI-SDR, PESQ-WB and STOI of ``est`` against the clean ``ref`` (both at ``sr``)."""
    return {"si_sdr": si_sdr(est, ref), "pesq": pesq_wb(est, ref, sr), "stoi": stoi(est, ref, sr)}


def timed(fn: Callable[..., Any], *args: Any, seconds_of_audio: float) -> tuple[Any, float, float]:
    """Run ``fn(*args)``; return (result, wall-clock seconds, real-time factor = time / duration)."""
    start = time.perf_counter()
    out = fn(*args)
    took = time.perf_counter() - start
    return out, took, took / max(seconds_of_audio, 1e-9)
