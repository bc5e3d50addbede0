"""Suggest the period W from the autocorrelation function (ACF), as both papers do by hand.

CycleNet and SparseTSF both pick W from the ACF of the training data (their notebooks plot it).
Here the pick is automatic and explained: the strongest ACF peak, replaced by its fundamental
when a divisor of it is almost as strong (the ACF of a daily cycle peaks again at 48, 72, ...),
with the time column's natural calendar periods named for the user.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FUNDAMENTAL_RATIO = 0.8  # a divisor lag this close to the top peak's height is preferred
CALENDAR = {"hour": 3600, "day": 86400, "week": 7 * 86400, "year": 365 * 86400}


@dataclass
class PeriodGuess:
    period: int
    lags: np.ndarray
    acf: np.ndarray
    peaks: np.ndarray  # lags of local maxima
    explanation: str


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """ACF of each column averaged over columns, lags 0..max_lag, via FFT (O(n log n))."""
    x = np.atleast_2d(x.T).T if x.ndim == 1 else x
    x = x - x.mean(axis=0)
    n = len(x)
    size = 1 << (2 * n - 1).bit_length()
    spec = np.fft.rfft(x, size, axis=0)
    acov = np.fft.irfft(spec * np.conj(spec), size, axis=0)[: max_lag + 1]
    denom = acov[0]
    denom = np.where(denom > 0, denom, 1.0)
    return (acov / denom).mean(axis=1)


def local_peaks(acf: np.ndarray) -> np.ndarray:
    """Lags (>= 2) where the ACF is a positive local maximum."""
    mid = acf[1:-1]
    is_peak = (mid > acf[:-2]) & (mid >= acf[2:]) & (mid > 0)
    lags = np.flatnonzero(is_peak) + 1
    return lags[lags >= 2]


def calendar_name(lag: int, step: pd.Timedelta | str | None) -> str:
    """'1 day' for lag 24 of hourly data; '' when the lag is no whole calendar unit."""
    if isinstance(step, str) and step == "month" and lag == 12:
        return "1 year"
    if not isinstance(step, pd.Timedelta):
        return ""
    seconds = lag * step.total_seconds()
    for unit in ("year", "week", "day", "hour"):
        if seconds == CALENDAR[unit]:
            return f"1 {unit}"
    return ""


def detect_period(values: np.ndarray, step: pd.Timedelta | str | None = None, max_lag: int | None = None
                  ) -> PeriodGuess:
    """Pick W from the ACF of ``values`` (T, C), usually the training part of the series."""
    n = len(values)
    max_lag = int(min(max_lag or 800, n // 3))
    if max_lag < 4:
        return PeriodGuess(2, np.arange(1), np.ones(1), np.array([], int),
                           "The series is too short for an autocorrelation estimate; using W=2.")
    acf = autocorrelation(values, max_lag)
    lags = np.arange(max_lag + 1)
    peaks = local_peaks(acf)
    if len(peaks) == 0:
        return PeriodGuess(2, lags, acf, peaks, "The autocorrelation has no clear peak, so the series looks "
                           "non-periodic; W=2 is a neutral choice. Set W yourself if you know the cycle.")
    top = int(peaks[np.argmax(acf[peaks])])
    chosen = top
    for lag in peaks:  # smallest peak that divides the top one and is nearly as strong
        if lag < top and top % lag == 0 and acf[lag] >= FUNDAMENTAL_RATIO * acf[top]:
            chosen = int(lag)
            break
    unit = calendar_name(chosen, step)
    text = (f"Suggested W = {chosen}{f' steps ({unit})' if unit else ' steps'}: the autocorrelation peaks "
            f"there at {acf[chosen]:.2f}.")
    if chosen != top:
        text += (f" The highest peak is at lag {top} ({acf[top]:.2f}), a multiple of {chosen}, so {chosen} "
                 "is the fundamental cycle.")
    return PeriodGuess(chosen, lags, acf, peaks, text)
