"""Export the page's current slider setting as a mergekit config, to redo the merge on a big model.

Mapping (ours -> mergekit): linear -> linear (weights, normalised); task_arithmetic and
AdaMerging's learnt lambdas -> task_arithmetic (weight = lambda_i); TIES -> ties (density,
weight 1, lambda = scale); DARE -> dare_linear / dare_ties (density = 1 - p); SLERP -> slerp (t,
base_model = first model); LiNeS -> task_arithmetic whose weight is the layer gradient
[alpha, alpha + beta], which mergekit interpolates linearly over layers.
Fisher merging has no mergekit counterpart: it is exported as the linear merge with the same
weights and a comment saying so.
"""
from __future__ import annotations

from collections.abc import Sequence

import yaml

from models.merging.methods import MergeSettings, check_settings


def _r(x: float) -> float:
    return round(float(x), 6)


def to_mergekit(settings: MergeSettings, base: str, models: Sequence[str], dtype: str = "float32") -> dict:
    """The mergekit config as a dict (``to_mergekit_yaml`` serialises it)."""
    s = settings
    check_settings(s, len(models))
    lam = list(s.lambdas) or [1.0] * len(models)
    cfg: dict = {}
    if s.method in ("linear", "fisher"):
        cfg = {"merge_method": "linear", "parameters": {"normalize": True},
               "models": [{"model": m, "parameters": {"weight": _r(w)}} for m, w in zip(models, lam)]}
    elif s.method == "task_arithmetic":
        cfg = {"merge_method": "task_arithmetic", "base_model": base,
               "models": [{"model": m, "parameters": {"weight": _r(w)}} for m, w in zip(models, lam)]}
    elif s.method == "ties":
        cfg = {"merge_method": "ties", "base_model": base,
               "parameters": {"normalize": True, "lambda": _r(s.scale)},
               "models": [{"model": m, "parameters": {"weight": 1.0, "density": _r(s.density)}} for m in models]}
    elif s.method == "dare":
        cfg = {"merge_method": "dare_ties" if s.sign_election else "dare_linear", "base_model": base,
               "parameters": {"normalize": False, "rescale": bool(s.rescale)},
               "models": [{"model": m, "parameters": {"weight": _r(w), "density": _r(1.0 - s.drop_rate)}}
                          for m, w in zip(models, lam)]}
    elif s.method == "slerp":
        a, b = models[s.pair[0]], models[s.pair[1]]
        cfg = {"merge_method": "slerp", "base_model": a, "parameters": {"t": _r(s.t)},
               "models": [{"model": a}, {"model": b}]}
    elif s.method == "lines":
        cfg = {"merge_method": "task_arithmetic", "base_model": base,
               "models": [{"model": m, "parameters": {"weight": [_r(s.alpha), _r(s.alpha + s.beta)]}}
                          for m in models]}
    cfg["dtype"] = dtype
    return cfg


def to_mergekit_yaml(settings: MergeSettings, base: str, models: Sequence[str], dtype: str = "float32") -> str:
    """YAML text for ``mergekit-yaml config.yml ./merged``, headed by a comment on the mapping."""
    cfg = to_mergekit(settings, base, models, dtype)
    head = f"# PaperLab merge: method={settings.method}\n"
    if settings.method == "fisher":
        head += "# mergekit has no Fisher merge: this is the plain weighted average with the same weights.\n"
    if settings.method == "dare" and settings.rescale:
        head += "# mergekit's DARE rescale matches the L1 norm of each task vector; PaperLab divides by 1-p.\n"
    if settings.method == "lines":
        head += f"# LiNeS alpha={settings.alpha} beta={settings.beta} as a per-layer weight gradient.\n"
    return head + yaml.safe_dump(cfg, sort_keys=False)
