"""Intruder dimensions, as defined in "LoRA vs Full Fine-tuning: An Illusion of Equivalence".

Notation follows the paper: W0 is a pre-trained matrix, Wt the tuned one (a LoRA adapter merged in
first), W = U diag(sigma) V^T their SVDs. For each of the top-k tuned left singular vectors ut_j,

    m_j = max_i |<ut_j, u0_i>|        over *all* pre-trained left singular vectors u0_i,

and ut_j is an intruder when m_j < eps (paper defaults k = 10, eps = 0.5): a high-ranking
direction of Wt that resembles nothing in W0.
"""
from __future__ import annotations

import torch

DEFAULT_K = 10
DEFAULT_EPS = 0.5


def svd(W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Thin SVD in float32 (half-precision checkpoints are upcast: LAPACK has no fp16 SVD)."""
    return torch.linalg.svd(W.float(), full_matrices=False)


def top_left_singular(W: torch.Tensor, k: int, randomized: bool = False
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(U[:, :k], sigma, Vh[:k]) of ``W``; ``sigma`` is the full spectrum unless ``randomized``.

    The randomised path uses torch.svd_lowrank (Halko et al.'s range finder) with a few power
    iterations: only the top ``k + 10`` singular triplets are estimated, which is what makes a
    4096x4096 matrix cheap. Its singular values are approximate and stop after ``k + 10``.
    """
    if randomized:
        q = min(k + 10, *W.shape)
        U, S, V = torch.svd_lowrank(W.float(), q=q, niter=4)
        return U[:, :k], S, V[:, :k].T
    U, S, Vh = svd(W)
    return U[:, :k], S, Vh[:k]


def similarity(U_tuned_top: torch.Tensor, U_base: torch.Tensor) -> torch.Tensor:
    """|Ut^T U0|: row j holds |<ut_j, u0_i>| for every pre-trained vector i (an intruder is a dark row)."""
    return (U_tuned_top.T.float() @ U_base.float()).abs()


def max_similarity(U_tuned_top: torch.Tensor, U_base: torch.Tensor) -> torch.Tensor:
    """m_j for each tuned vector j: its best match among all pre-trained singular vectors."""
    return similarity(U_tuned_top, U_base).max(dim=1).values


def intruders(m: torch.Tensor, k: int = DEFAULT_K, eps: float = DEFAULT_EPS) -> list[int]:
    """Indices j < k of the tuned singular vectors that are intruders (m_j < eps)."""
    return torch.nonzero(m[:k] < eps).flatten().tolist()


def intruder_count_curve(m: torch.Tensor, eps_grid: torch.Tensor, k: int = DEFAULT_K) -> torch.Tensor:
    """Number of intruders among the top k for every eps in ``eps_grid`` (the paper's Figure 3 curves)."""
    return (m[:k].unsqueeze(0) < eps_grid.unsqueeze(1)).sum(dim=1)


def numerical_rank(sigma: torch.Tensor, shape: tuple[int, int]) -> int:
    """Rank with NumPy's matrix_rank tolerance for float32 (sigma_max * max(shape) * machine eps)."""
    if sigma.numel() == 0:
        return 0
    tol = sigma.max() * max(shape) * torch.finfo(torch.float32).eps
    return int((sigma > tol).sum())
