"""Training and evaluation with the reference protocol, vectorised for a CPU.

Windows are gathered by fancy indexing from one (T, C) tensor per batch (no Dataset/DataLoader
per-sample loop), which is what makes one full ETTh1 run take seconds on a CPU.
"""
from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from models.common.progress import Progress, report
from models.forecasting.data import Splits

BATCH = 256
EPOCHS = 30
PATIENCE = 5
EVAL_BATCH = 2048


@dataclass
class FitResult:
    epochs: int
    best_val_mse: float
    seconds: float  # wall clock
    cpu_seconds: float  # this process's CPU time: what the run costs on an idle core


def seed_everything(seed: int) -> torch.Generator:
    """Same seed, same numbers: seeds torch/numpy/random and returns the shuffling generator."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _batch(data: torch.Tensor, phase: torch.Tensor, starts: torch.Tensor, L: int, H: int
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    index = starts[:, None] + torch.arange(L + H)[None, :]
    window = data[index]  # (B, L+H, C)
    return window[:, :L], window[:, L:], phase[starts]


def _lr_for_epoch(lr: float, epoch: int) -> float:
    """The reference "type3" schedule: lr for epochs 1-4 (1-based), then x0.8 per epoch."""
    return lr if epoch <= 4 else lr * 0.8 ** (epoch - 4)


def fit(model: nn.Module, splits: Splits, lr: float, seed: int = 2024, epochs: int = EPOCHS,
        patience: int = PATIENCE, batch_size: int = BATCH, progress: Progress | None = None,
        label: str = "") -> FitResult:
    """Adam on MSE with early stopping on validation MSE; the best epoch's weights are kept.

    Like the references, the last incomplete training batch is dropped (training only; val and
    test always use every window).
    """
    gen = seed_everything(seed)
    t0, c0 = time.perf_counter(), time.process_time()
    data, phase = torch.from_numpy(splits.data), torch.from_numpy(splits.phase)
    starts = torch.from_numpy(splits.starts["train"])
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    best, best_state, bad, epoch = float("inf"), copy.deepcopy(model.state_dict()), 0, 0
    steps = max(1, len(starts) // batch_size)
    for epoch in range(1, epochs + 1):
        for group in opt.param_groups:
            group["lr"] = _lr_for_epoch(lr, epoch)
        model.train()
        order = starts[torch.randperm(len(starts), generator=gen)]
        for i in range(steps):
            x, y, p = _batch(data, phase, order[i * batch_size:(i + 1) * batch_size], splits.L, splits.H)
            opt.zero_grad()
            loss = loss_fn(model(x, p), y)
            loss.backward()
            opt.step()
        val = evaluate(model, splits, "val")["mse"]
        if val < best:
            best, best_state, bad = val, copy.deepcopy(model.state_dict()), 0
        else:
            bad += 1
        report(progress, epoch / epochs, f"{label} epoch {epoch}: val MSE {val:.4f} (best {best:.4f})")
        if bad >= patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return FitResult(epoch, best, time.perf_counter() - t0, time.process_time() - c0)


@torch.no_grad()
def predict(model: nn.Module, splits: Splits, starts: np.ndarray) -> np.ndarray:
    """Scaled forecasts (N, H, C) for windows starting at ``starts``."""
    model.eval()
    data, phase = torch.from_numpy(splits.data), torch.from_numpy(splits.phase)
    out = []
    for i in range(0, len(starts), EVAL_BATCH):
        x, _, p = _batch(data, phase, torch.from_numpy(starts[i:i + EVAL_BATCH]), splits.L, splits.H)
        out.append(model(x, p))
    return torch.cat(out).numpy()


@torch.no_grad()
def evaluate(model: nn.Module, splits: Splits, split: str = "test") -> dict[str, float]:
    """MSE and MAE on the scaled data over every window of ``split`` (no drop_last)."""
    model.eval()
    data, phase = torch.from_numpy(splits.data), torch.from_numpy(splits.phase)
    starts = torch.from_numpy(splits.starts[split])
    se = ae = 0.0
    n = 0
    for i in range(0, len(starts), EVAL_BATCH):
        x, y, p = _batch(data, phase, starts[i:i + EVAL_BATCH], splits.L, splits.H)
        err = model(x, p) - y
        se += float((err ** 2).sum())
        ae += float(err.abs().sum())
        n += err.numel()
    return {"mse": se / n, "mae": ae / n}
