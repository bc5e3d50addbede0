"""The paper's causal test: scale the intruder directions of every tuned matrix by lambda.

For one matrix with intruders idx (among the top k at threshold eps),

    C   = sum_{j in idx} sigma_j ut_j vt_j^T      (the intruders' part of Wt)
    W'  = Wt + (lambda - 1) C

so lambda = 1 is the tuned model and lambda = 0 removes the intruders. C depends only on (Wt, W0, k,
eps), not on lambda: computing it once makes every further lambda a matrix addition, which is what
lets the page's slider re-evaluate a model in seconds.

This is what peft's ``reduce_intruder_dimension(mitigation_lambda=...)`` computes too: its code keeps
a fraction lambda of each intruder, although its docstring calls lambda the portion *subtracted*.
peft then also re-compresses the update to the adapter's rank, which we skip so that the same edit
applies to full fine-tunes.
"""
from __future__ import annotations

import torch

from models.spectral.intruders import DEFAULT_EPS, DEFAULT_K, intruders, max_similarity, svd


def intruder_components(weights: dict[str, torch.Tensor], base: dict[str, torch.Tensor],
                        k: int = DEFAULT_K, eps: float = DEFAULT_EPS,
                        base_U: dict[str, torch.Tensor] | None = None) -> dict[str, tuple[int, torch.Tensor]]:
    """Per matrix that has intruders: (how many, C). ``base_U`` may hold precomputed U0 per name."""
    out = {}
    for name, Wt in weights.items():
        U0 = base_U[name] if base_U is not None else svd(base[name])[0]
        U, S, Vh = svd(Wt)
        idx = intruders(max_similarity(U[:, :k], U0), k, eps)
        if idx:
            out[name] = (len(idx), U[:, idx] @ torch.diag(S[idx]) @ Vh[idx])
    return out


def scaled_weights(weights: dict[str, torch.Tensor], components: dict[str, tuple[int, torch.Tensor]],
                   lam: float) -> dict[str, torch.Tensor]:
    """W' = Wt + (lambda - 1) C for the matrices with intruders (the others are returned unchanged)."""
    return {name: (Wt.float() + (lam - 1.0) * components[name][1]).to(Wt.dtype) if name in components else Wt
            for name, Wt in weights.items()}


def intruder_total(components: dict[str, tuple[int, torch.Tensor]]) -> int:
    return sum(n for n, _ in components.values())
