"""AdaMerging, task-wise: learn lambda_k of theta = theta_0 + sum_k lambda_k tau_k without labels.

The objective is the paper's: the Shannon entropy of the merged model's predictions on
unlabelled inputs of every task (Yang et al., 2024, Eq. 4), minimised by Adam over lambda only.
We use the validation inputs (labels unused) so the reported test accuracy stays untouched.
"""
from __future__ import annotations

import torch

from models.common.progress import Progress, report
from models.merging.family import Family, thread_budget


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Mean Shannon entropy H(p) = -sum_y p log p of the softmax predictions."""
    logp = torch.log_softmax(logits, -1)
    return -(logp.exp() * logp).sum(-1).mean()


def adamerging(family: Family, steps: int = 100, lr: float = 0.005, init: float = 0.3,
               batch: int = 128, progress: Progress | None = None) -> list[float]:
    """Task-wise coefficients lambda_k, clamped to [0, 2] after each step.

    Each step sees a mini-batch of ``batch`` unlabelled inputs per task (cycling through the
    validation split), which keeps a step cheap for the transformer family.
    """
    with thread_budget(family.threads):
        return _adamerging(family, steps, lr, init, batch, progress)


def _adamerging(family: Family, steps: int, lr: float, init: float, batch: int,
                progress: Progress | None) -> list[float]:
    names = [k for k, v in family.base.items() if v.is_floating_point()]
    theta0 = {k: family.base[k].float() for k in names}
    taus = [{k: m[k].float() - theta0[k] for k in names} for m in family.tuned]
    lam = torch.full((len(taus),), float(init), requires_grad=True)
    opt = torch.optim.Adam([lam], lr=lr)
    sizes = [len(family.labels(k, "val")) for k in range(len(taus))]
    for step in range(steps):
        body = {k: theta0[k] + sum(lam[i] * tau[k] for i, tau in enumerate(taus)) for k in names}
        loss = torch.zeros(())
        for k in range(len(taus)):
            start = (step * batch) % sizes[k]
            loss = loss + entropy(family.logits(body, k, "val", slice(start, start + batch)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            lam.clamp_(0.0, 2.0)
        report(progress, (step + 1) / steps, f"AdaMerging step {step + 1}/{steps}: entropy {loss.item():.3f}")
    return [round(float(x), 4) for x in lam.detach()]
