"""Evaluations the page and the benchmark share: one setting, a lambda curve, a lambda grid."""
from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from models.common.progress import Progress, report
from models.merging.analysis import kept_fraction
from models.merging.family import Family, Reference, normalised_average, thread_budget
from models.merging.methods import METHODS, MergeSettings


@dataclass(frozen=True)
class Evaluation:
    accuracies: list[float]
    normalised: float
    kept: float  # fraction of parameters the merge changed
    seconds: float  # merge + evaluation wall time
    cpu_seconds: float  # the same in CPU time of this process (= wall time on an idle machine, one thread)


def evaluate(family: Family, settings: MergeSettings, ref: Reference, split: str = "test") -> Evaluation:
    with thread_budget(family.threads):
        t0, c0 = time.perf_counter(), time.process_time()
        merged = family.merge(settings)
        acc = family.accuracies(merged, split)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return Evaluation(acc, normalised_average(acc, ref), kept_fraction(family.base, merged), seconds, cpu)


def curve_knob(method: str) -> str:
    """The knob the accuracy curve sweeps for ``method``: SLERP's t, LiNeS' alpha, else a common lambda."""
    return {"slerp": "t", "lines": "alpha"}.get(method, "lambda")


def at_knob(settings: MergeSettings, x: float, n_tasks: int) -> MergeSettings:
    """``settings`` with its curve knob set to ``x``; methods without a lambda use task arithmetic."""
    if settings.method == "slerp":
        return replace(settings, t=x)
    if settings.method == "ties":
        return replace(settings, scale=x)
    if settings.method == "lines":
        return replace(settings, alpha=x)
    if settings.method in ("task_arithmetic", "dare"):
        return replace(settings, lambdas=(x,) * n_tasks)
    return MergeSettings("task_arithmetic", (x,) * n_tasks)


def current_knob(settings: MergeSettings) -> float | None:
    """Where the current setting sits on its curve (None when the curve shows another method)."""
    s = settings
    return {"slerp": s.t, "ties": s.scale, "lines": s.alpha}.get(
        s.method, s.lambdas[0] if s.method in ("task_arithmetic", "dare") and s.lambdas else None)


def curve_title(settings: MergeSettings) -> str:
    shown = at_knob(settings, 0.0, len(settings.lambdas) or 1).method
    return (f"{METHODS[shown]}: accuracy vs {curve_knob(settings.method)}"
            + ("" if shown == settings.method else " (all lambdas equal)"))


def curve(family: Family, settings: MergeSettings, ref: Reference, xs: Sequence[float],
          split: str = "test", progress: Progress | None = None) -> list[Evaluation]:
    """Evaluations along the method's curve knob (see ``curve_knob``) at the points ``xs``."""
    out = []
    for i, x in enumerate(xs):
        out.append(evaluate(family, at_knob(settings, float(x), len(family.tuned)), ref, split))
        report(progress, (i + 1) / len(xs), f"curve point {i + 1}/{len(xs)}")
    return out


def grid(family: Family, settings: MergeSettings, ref: Reference, pair: tuple[int, int], xs: Sequence[float],
         split: str = "test", progress: Progress | None = None) -> np.ndarray:
    """Normalised average of task arithmetic over lambda_a x lambda_b (rows a, columns b); the
    other tasks keep their current lambdas."""
    base = list(settings.lambdas) if len(settings.lambdas) == len(family.tuned) else [0.3] * len(family.tuned)
    out = np.zeros((len(xs), len(xs)))
    cells = list(itertools.product(range(len(xs)), repeat=2))
    for n, (i, j) in enumerate(cells):
        lam = list(base)
        lam[pair[0]], lam[pair[1]] = float(xs[i]), float(xs[j])
        out[i, j] = evaluate(family, MergeSettings("task_arithmetic", tuple(lam)), ref, split).normalised
        report(progress, (n + 1) / len(cells), f"heatmap cell {n + 1}/{len(cells)}")
    return out


def kept_by_method(family: Family, settings: MergeSettings) -> dict[str, float]:
    """Fraction of parameters each method changes at the current knobs (no evaluation needed).

    Fisher is left out until its estimates exist, so this never triggers the slow estimation.
    """
    out = {}
    for method, title in METHODS.items():
        if method == "fisher" and family.fishers is None:
            continue
        s = replace(settings, method=method)
        if len(s.lambdas) != len(family.tuned) or (method in ("linear", "fisher") and sum(s.lambdas) == 0):
            s = replace(s, lambdas=(1.0,) * len(family.tuned))
        with thread_budget(family.threads):
            out[title] = kept_fraction(family.base, family.merge(s))
    return out
