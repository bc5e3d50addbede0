"""Training losses for the enhancement and separation models (torch, differentiable)."""
import itertools

import torch


def si_sdr(est: torch.Tensor, ref: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Scale-invariant SDR in dB over the last axis (Le Roux et al. 2019), zero-mean signals.

    SI-SDR = 10 log10(|a s|^2 / |a s - s_hat|^2) with a = <s_hat, s> / |s|^2.
    """
    est = est - est.mean(-1, keepdim=True)
    ref = ref - ref.mean(-1, keepdim=True)
    alpha = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps)
    target = alpha * ref
    return 10 * torch.log10(target.pow(2).sum(-1) / ((target - est).pow(2).sum(-1) + eps) + eps)


def pit_si_sdr(est: torch.Tensor, ref: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Utterance-level permutation-invariant SI-SDR (uPIT, Kolbaek et al. 2017).

    ``est`` and ``ref`` are (B, S, n). Returns the per-utterance mean SI-SDR under the best
    speaker permutation, (B,), and that permutation, (B, S).
    """
    perms = list(itertools.permutations(range(ref.shape[1])))
    scores = torch.stack([si_sdr(est[:, list(p)], ref).mean(-1) for p in perms], dim=-1)
    best, idx = scores.max(-1)
    return best, torch.tensor(perms, device=est.device)[idx]
