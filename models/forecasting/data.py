"""Time series in, model-ready tensors out: CSV loading with user-facing checks, splits, scaling.

The ETT protocol (Informer, followed by CycleNet and SparseTSF) is reproduced exactly: 12/4/4
months of hours for train/val/test, the val and test sets reach back L steps into the previous
split for their first look-back window, a StandardScaler fit on the training rows only, and
metrics on the scaled data over the *full* test set (no ``drop_last``).
"""
from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from models.common.errors import InputError

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "forecasting"
BUNDLED = {"ETTh1": ASSETS / "ETTh1.csv", "ETTh2": ASSETS / "ETTh2.csv"}

MAX_ROWS = 50_000
"""Uploads longer than this are refused: one training epoch must stay interactive on 2 cores."""
MAX_COLUMNS = 64
MIN_TRAIN_WINDOWS = 32
TIME_NAMES = ("date", "time", "timestamp", "datetime", "ds")
PHASE_ANCHOR = pd.Timestamp("1970-01-05")  # a Monday at 00:00, so phase 0 = Monday midnight
ETT_MONTH = 30 * 24  # the ETT protocol counts a month as 30 days of hourly rows


@dataclass
class Series:
    """A regular multichannel series: ``values`` (T, C) float32 in original units."""

    name: str
    values: np.ndarray
    columns: list[str]
    times: pd.DatetimeIndex | None
    step: pd.Timedelta | str | None  # fixed step, "MS"-like calendar code, or None (row index)
    notes: list[str] = field(default_factory=list)  # what loading changed, told to the user

    def __len__(self) -> int:
        return len(self.values)

    @property
    def step_label(self) -> str:
        if self.step is None:
            return "row"
        return str(self.step) if isinstance(self.step, str) else _timedelta_label(self.step)

    def select(self, columns: list[str]) -> Series:
        """The same series restricted to ``columns`` (in the given order)."""
        if not columns:
            raise InputError("Pick at least one channel to forecast.")
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise InputError(f"Unknown channel(s) {missing}; this data has {self.columns}.")
        idx = [self.columns.index(c) for c in columns]
        return Series(self.name, self.values[:, idx], list(columns), self.times, self.step, list(self.notes))

    def phase(self, period: int) -> np.ndarray:
        """Phase of every row within a cycle of ``period`` steps, computed from the timestamps.

        With hourly data and W=24 this is the hour of day; with W=168 the hour of the week
        (0 = Monday 00:00); with daily data and W=7 the weekday. Without a time column the row
        number is the only clock we have.
        """
        n = len(self)
        if self.times is None or self.step is None:
            return np.arange(n) % period
        if isinstance(self.step, str):  # calendar months: count months since year 0
            ticks = self.times.year.to_numpy() * 12 + self.times.month.to_numpy() - 1
        else:
            ticks = ((self.times - PHASE_ANCHOR) // self.step).to_numpy()
        return (ticks % period).astype(np.int64)


def _timedelta_label(step: pd.Timedelta) -> str:
    seconds = int(step.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            k = seconds // size
            return f"{k} {unit}{'s' if k > 1 else ''}" if k != 1 else unit
    return f"{seconds} s"


@functools.cache
def load_bundled(name: str) -> Series:
    """One of the shipped ETT datasets (the full file: 17,420 hourly rows, 7 channels).

    Cached and shared: callers take subsets with ``Series.select``, which copies.
    """
    if name not in BUNDLED:
        raise InputError(f"Unknown dataset '{name}'. Choose one of {sorted(BUNDLED)} or upload a CSV.")
    series = load_csv(BUNDLED[name])
    series.name = name
    return series


def load_csv(path: str | Path, name: str | None = None) -> Series:
    """Read an uploaded CSV and turn every defect into an InputError the user can act on."""
    path = Path(path)
    raw = path.read_bytes() if path.is_file() else b""
    if not raw.strip():
        raise InputError(f"'{path.name}' is empty. Upload a CSV with a header row and numeric columns.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"'{path.name}' is not UTF-8 text (byte {exc.start} is not valid). "
                         "Save it as a UTF-8 CSV and upload again.") from None
    if "\x00" in text[:4096]:
        raise InputError(f"'{path.name}' looks like a binary file, not a CSV.")
    try:
        df = pd.read_csv(io.StringIO(text), sep=None, engine="python", nrows=MAX_ROWS + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise InputError(f"'{path.name}' could not be read as CSV ({exc}).") from None
    if len(df) > MAX_ROWS:
        raise InputError(f"'{path.name}' has more than {MAX_ROWS:,} rows, this demo's limit. "
                         "Upload the most recent part only (or aggregate to a coarser step).")
    return frame_to_series(df, name or path.stem)


def frame_to_series(df: pd.DataFrame, name: str) -> Series:
    """Checks and repairs shared by uploads and bundled data (see ``load_csv``)."""
    if df.shape[1] == 0 or len(df) == 0:
        raise InputError("The CSV has no data rows. It needs a header row and at least one numeric column.")
    notes: list[str] = []
    time_col = _find_time_column(df)
    times, step = None, None
    if time_col is None:
        notes.append("No time column found (expected one named date/time/timestamp or parseable "
                     "dates): using the row number as time, so phases count rows.")
    else:
        times, step = _check_times(pd.to_datetime(df[time_col], errors="coerce", format="mixed"), time_col)
    candidates = [c for c in df.columns if c != time_col]
    numeric: dict[str, pd.Series] = {}
    for col in candidates:
        parsed = pd.to_numeric(df[col], errors="coerce")
        present = df[col].notna()
        bad = present & parsed.isna()
        if not bad.any():
            numeric[str(col)] = parsed.astype(float)
        elif parsed.notna().sum() >= bad.sum():  # mostly numbers: the text is a data error
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"Column '{col}' is numeric but row {row + 2} holds text "
                             f"('{df[col].iloc[row]}'). Fix or delete that cell and upload again.")
        else:
            notes.append(f"Column '{col}' holds text and was ignored.")
    if not numeric:
        raise InputError("The CSV has no numeric column to forecast.")
    if len(numeric) > MAX_COLUMNS:
        raise InputError(f"The CSV has {len(numeric)} numeric columns; this demo accepts at most {MAX_COLUMNS}.")
    frame = pd.DataFrame(numeric)
    for col in list(frame.columns):
        if frame[col].isna().all():
            notes.append(f"Column '{col}' is entirely empty and was dropped.")
            frame = frame.drop(columns=col)
        elif frame[col].nunique(dropna=True) <= 1:
            notes.append(f"Column '{col}' is constant and was dropped (nothing to forecast).")
            frame = frame.drop(columns=col)
    if frame.shape[1] == 0:
        raise InputError("Every numeric column is empty or constant: there is nothing to forecast.")
    n_missing = int(frame.isna().sum().sum())
    if n_missing:
        frame = frame.interpolate(method="linear", limit_direction="both")
        notes.append(f"Filled {n_missing} missing value(s) by linear interpolation.")
    values = frame.to_numpy(dtype=np.float32)
    if not np.all(np.isfinite(values)):
        raise InputError("The data contains infinite values. Replace them and upload again.")
    return Series(name, values, [str(c) for c in frame.columns], times, step, notes)


def _find_time_column(df: pd.DataFrame) -> str | None:
    """A column named like a timestamp, else the first text column whose values parse as dates."""
    for col in df.columns:
        if str(col).strip().lower() in TIME_NAMES:
            return col
    for col in df.columns:
        if df[col].dtype == object:
            parsed = pd.to_datetime(df[col], errors="coerce", format="mixed")
            if parsed.notna().mean() > 0.9:
                return col
    return None


def _check_times(times: pd.Series, col: str) -> tuple[pd.DatetimeIndex, pd.Timedelta | str]:
    """Timestamps must parse, increase, be unique and evenly spaced (or calendar-monthly)."""
    if times.isna().any():
        row = int(np.flatnonzero(times.isna().to_numpy())[0])
        raise InputError(f"Time column '{col}': row {row + 2} is not a date/time.")
    index = pd.DatetimeIndex(times)
    if len(index) < 3:
        raise InputError("The series needs more than a few rows.")
    dup = index.duplicated()
    if dup.any():
        raise InputError(f"Time column '{col}' has duplicated timestamps (first: {index[dup][0]}). "
                         "Aggregate or remove the duplicates and upload again.")
    if not index.is_monotonic_increasing:
        raise InputError(f"Time column '{col}' is not in increasing order. Sort the rows by time first.")
    freq = pd.infer_freq(index)
    if freq and freq.startswith(("M", "MS", "ME")):
        return index, "month"
    diffs = index[1:] - index[:-1]
    step = pd.Series(diffs).mode().iloc[0]
    irregular = np.flatnonzero(diffs != step)
    if len(irregular):
        i = int(irregular[0])
        raise InputError(f"Time column '{col}' is irregular: the usual step is {_timedelta_label(step)}, "
                         f"but {index[i]} is followed by {index[i + 1]} ({len(irregular)} such gap(s)). "
                         "Resample to a regular step and fill the gaps, then upload again.")
    return index, step


# --- splits, scaling and windows -------------------------------------------------------------

@dataclass
class Splits:
    """Scaled data plus the window start indices of each split.

    A window starting at row ``s`` uses rows ``s .. s+L-1`` as look-back and ``s+L .. s+L+H-1``
    as target; ``phase[s]`` is the true phase of its first *input* step.
    """

    data: np.ndarray  # (T, C) scaled float32
    phase: np.ndarray  # (T,) int64
    mean: np.ndarray
    std: np.ndarray
    starts: dict[str, np.ndarray]
    borders: dict[str, tuple[int, int]]  # rows each split covers (including its look-back)
    L: int
    H: int
    W: int

    def unscale(self, x: np.ndarray) -> np.ndarray:
        return x * self.std + self.mean


def split_borders(n: int, L: int, is_ett: bool) -> dict[str, tuple[int, int]]:
    """Row ranges [b1, b2) of train/val/test, as in the reference data loaders."""
    if is_ett:
        ends = [12 * ETT_MONTH, 16 * ETT_MONTH, 20 * ETT_MONTH]
    else:
        n_train, n_test = int(n * 0.7), int(n * 0.2)
        ends = [n_train, n - n_test, n]
    return {"train": (0, ends[0]), "val": (ends[0] - L, ends[1]), "test": (ends[1] - L, ends[2])}


def min_rows(L: int, H: int) -> int:
    """Shortest upload that leaves a usable 70/10/20 split for look-back L and horizon H."""
    return int(np.ceil(max((L + H + MIN_TRAIN_WINDOWS) / 0.7, H / 0.1 + 1, H / 0.2 + 1)))


def make_splits(series: Series, L: int, H: int, W: int) -> Splits:
    """Validate L/H/W against the series, fit the scaler on train and index every window."""
    n = len(series)
    for label, v in (("L (look-back)", L), ("H (horizon)", H), ("W (period)", W)):
        if int(v) != v or v < 1:
            raise InputError(f"{label} must be a positive whole number.")
    if W < 2:
        raise InputError("W (period) must be at least 2 steps.")
    if n < W:
        raise InputError(f"W={W} is longer than the whole series ({n} rows). Choose a shorter period.")
    is_ett = series.name in BUNDLED
    borders = split_borders(n, L, is_ett)
    if is_ett and n < borders["test"][1]:
        raise InputError(f"{series.name} should have {borders['test'][1]} rows for the ETT protocol.")
    counts = {k: b2 - b1 - L - H + 1 for k, (b1, b2) in borders.items()}
    if counts["train"] < MIN_TRAIN_WINDOWS or counts["val"] < 1 or counts["test"] < 1:
        raise InputError(f"The series has {n} rows, too short for L={L} and H={H}: training, validation "
                         f"and test need at least {min_rows(L, H)} rows with a 70/10/20 split. "
                         "Use a shorter look-back or horizon, or a longer series.")
    if borders["train"][1] < W:
        raise InputError(f"W={W} is longer than the training part ({borders['train'][1]} rows).")
    train = series.values[: borders["train"][1]]
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    data = ((series.values - mean) / std).astype(np.float32)
    starts = {k: np.arange(b1, b2 - L - H + 1) for k, (b1, b2) in borders.items()}
    return Splits(data, series.phase(W), mean.astype(np.float32), std, starts, borders, L, H, W)


def gather_windows(data: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """(len(starts), length, C) windows by one fancy-indexing call, no per-sample Python loop."""
    return data[starts[:, None] + np.arange(length)[None, :]]
