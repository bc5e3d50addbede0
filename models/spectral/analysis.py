"""Per-matrix spectral summaries, the tables and curves the page draws from them, and their file format.

A ``MatrixSpectrum`` holds everything the views need for one matrix and nothing else (no weights):
both singular-value spectra, the |Ut^T U0| similarity rows of the top ``K_MAX`` tuned vectors
against every base vector, and the spectrum of the update dW = Wt - W0. With it, intruder counts
for any k <= K_MAX and any eps are a comparison, so sliders update instantly.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from models.common.errors import InputError
from models.spectral.intruders import (DEFAULT_EPS, DEFAULT_K, numerical_rank, similarity, svd,
                                       top_left_singular)

K_MAX = 32
"""Most tuned singular vectors kept per matrix; the k slider goes up to this."""
EPS_GRID = np.round(np.linspace(0.05, 0.95, 19), 2)


@dataclass
class MatrixSpectrum:
    name: str
    shape: tuple[int, int]
    base_sigma: torch.Tensor   # all singular values of W0
    tuned_sigma: torch.Tensor  # all of Wt (only the top K_MAX + 10 when randomized)
    sim: torch.Tensor          # (K_MAX, n_base): |<ut_j, u0_i>|
    delta_sigma: torch.Tensor  # singular values of dW (top K_MAX + 10 when randomized)
    delta_rank: int | None     # numerical rank of dW (None when randomized: not computed)
    randomized: bool = False

    @property
    def m(self) -> torch.Tensor:
        """m_j = max_i |<ut_j, u0_i>| for j < K_MAX."""
        return self.sim.max(dim=1).values

    def intruders(self, k: int = DEFAULT_K, eps: float = DEFAULT_EPS) -> int:
        return int((self.m[:k] < eps).sum())


def analyse_pair(name: str, W0: torch.Tensor, Wt: torch.Tensor, k_max: int = K_MAX,
                 randomized: bool = False) -> MatrixSpectrum:
    """Summarise one (base, tuned) matrix pair; the base side always uses an exact SVD because
    m_j needs *all* of its singular vectors."""
    W0, Wt = W0.float(), Wt.float()
    U0, S0, _ = svd(W0)
    k = min(k_max, *Wt.shape)
    Ut, St, _ = top_left_singular(Wt, k, randomized)
    dW = Wt - W0
    if randomized:
        dS = torch.svd_lowrank(dW, q=min(k + 10, *dW.shape), niter=4)[1]
        rank = None
    else:
        dS = torch.linalg.svdvals(dW)
        rank = numerical_rank(dS, tuple(dW.shape))
    return MatrixSpectrum(name, tuple(W0.shape), S0, St, similarity(Ut, U0), dS, rank, randomized)


# --- tables and curves ----------------------------------------------------------------------------

def summary_table(spectra: list[MatrixSpectrum], k: int = DEFAULT_K, eps: float = DEFAULT_EPS) -> pd.DataFrame:
    """One row per matrix: shape, intruders at (k, eps), the smallest m_j, dW's rank and norm."""
    rows = []
    for s in spectra:
        m = s.m[:k]
        rows.append({"matrix": s.name, "shape": f"{s.shape[0]}x{s.shape[1]}",
                     "intruders": s.intruders(k, eps), "min_m": round(float(m.min()), 3),
                     "top_sigma_base": round(float(s.base_sigma[0]), 3),
                     "top_sigma_tuned": round(float(s.tuned_sigma[0]), 3),
                     "dW_rank": s.delta_rank if s.delta_rank is not None else "n/a (randomised)",
                     "dW_norm2": round(float(s.delta_sigma[0]), 4) if len(s.delta_sigma) else 0.0,
                     "svd": "randomised" if s.randomized else "exact"})
    return pd.DataFrame(rows)


def eps_curve(spectra: list[MatrixSpectrum], k: int = DEFAULT_K, eps_grid=EPS_GRID) -> np.ndarray:
    """Total intruders over all matrices for each eps (the paper's intruder-count-vs-eps figure)."""
    m = torch.stack([s.m[:k] for s in spectra]) if spectra else torch.empty(0, k)
    return np.array([int((m < e).sum()) for e in eps_grid])


def layer_counts(spectra: list[MatrixSpectrum], k: int = DEFAULT_K, eps: float = DEFAULT_EPS) -> pd.DataFrame:
    """Intruders per transformer block (the ``layer.<i>`` part of the name), for per-layer bars."""
    rows = []
    for s in spectra:
        parts = s.name.split(".")
        layer = next((parts[i + 1] for i, p in enumerate(parts[:-1]) if p in ("layer", "layers", "h")), "other")
        rows.append({"layer": layer, "intruders": s.intruders(k, eps)})
    if not rows:
        return pd.DataFrame(columns=["layer", "intruders"])
    return pd.DataFrame(rows).groupby("layer", sort=False, as_index=False)["intruders"].sum()


# --- file format ---------------------------------------------------------------------------------

_FIELDS = ("base_sigma", "tuned_sigma", "sim", "delta_sigma")


def save_spectra(path: str | Path, spectra: list[MatrixSpectrum], config: dict) -> Path:
    """One safetensors file: four tensors per matrix, names/shapes/ranks and ``config`` as JSON metadata."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"{s.name}::{f}": getattr(s, f).contiguous() for s in spectra for f in _FIELDS}
    index = [{"name": s.name, "shape": list(s.shape), "delta_rank": s.delta_rank, "randomized": s.randomized}
             for s in spectra]
    save_file(tensors, str(path), metadata={"index": json.dumps(index), "config": json.dumps(config)})
    return path


def load_spectra(path: str | Path) -> tuple[list[MatrixSpectrum], dict]:
    """Inverse of :func:`save_spectra`."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata()
            index, config = json.loads(meta["index"]), json.loads(meta["config"])
            spectra = [MatrixSpectrum(e["name"], tuple(e["shape"]),
                                      *(f.get_tensor(f"{e['name']}::{fld}") for fld in _FIELDS),
                                      e["delta_rank"], e["randomized"]) for e in index]
    except Exception as exc:  # safetensors raises several types for damaged files
        raise InputError(f"{Path(path).name} is not a spectra file written by this demo ({exc}).") from exc
    return spectra, config
