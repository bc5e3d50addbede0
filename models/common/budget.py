"""A training budget in CPU minutes, with a wall-clock cap and a cosine learning-rate schedule.

Why CPU time: the voice models train on a 2-core machine that other jobs share; a CPU-minute
budget buys the same amount of training however busy the machine is, and the wall cap keeps a
crowded machine from stretching a run without bound.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch


class CpuBudget:
    def __init__(self, minutes: float, max_wall_minutes: float) -> None:
        self.seconds, self.wall_seconds = minutes * 60, max_wall_minutes * 60
        self.cpu_start, self.wall_start = time.process_time(), time.time()

    def cpu_minutes(self) -> float:
        return (time.process_time() - self.cpu_start) / 60

    def wall_minutes(self) -> float:
        return (time.time() - self.wall_start) / 60

    def over(self) -> bool:
        return self.cpu_minutes() * 60 >= self.seconds or self.wall_minutes() * 60 >= self.wall_seconds

    def cosine_lr(self, opt: torch.optim.Optimizer, peak: float) -> None:
        """Set ``opt``'s learning rate to ``peak`` decayed by a cosine over the CPU budget."""
        fraction = min(self.cpu_minutes() * 60 / self.seconds, 1.0)
        for group in opt.param_groups:
            group["lr"] = peak * 0.5 * (1 + math.cos(math.pi * fraction))


def budget_parser(doc: str, minutes: float, max_wall_minutes: float, lr: float, out: Path) -> argparse.ArgumentParser:
    """The options every CPU-budgeted training script shares (budget, lr, threads, seed, output);
    each script adds its own data and model options to it."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=minutes, help="training budget in CPU minutes")
    parser.add_argument("--max-wall-minutes", type=float, default=max_wall_minutes, help="stop after this much wall time")
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=out)
    return parser


def start_run(args: argparse.Namespace) -> np.random.Generator:
    """Apply the shared options (torch threads and seed); the numpy generator the run draws from."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    return np.random.default_rng(args.seed)
