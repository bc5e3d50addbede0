"""A training budget in CPU minutes, with a wall-clock cap and a cosine learning-rate schedule.

Why CPU time: the voice models train on a 2-core machine that other jobs share; a CPU-minute
budget buys the same amount of training however busy the machine is, and the wall cap keeps a
crowded machine from stretching a run without bound.
"""
from __future__ import annotations

import math
import time

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
