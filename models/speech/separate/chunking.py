"""Separating long recordings chunk by chunk without speakers swapping between chunks.

A permutation-invariant separator returns its speakers in arbitrary order, independently for
every chunk it sees. Chunks therefore overlap; in the overlap the previous chunk's outputs are
already known, so the new chunk's outputs are reordered to the permutation whose signals
correlate best with them there, then cross-faded in. (This is what ClearerVoice's demo lacks,
and why its speakers swap mid-file.)
"""
from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from models.common.progress import Progress, report

Separator = Callable[[np.ndarray], np.ndarray]
"""Maps a mono chunk (n,) to its sources (speakers, n)."""


def best_order(previous: np.ndarray, current: np.ndarray) -> tuple[int, ...]:
    """Permutation p maximising sum_s corr(previous[s], current[p[s]]) over the overlap.

    Both are (speakers, overlap). Normalised correlation makes the choice level-independent.
    """
    def unit(x: np.ndarray) -> np.ndarray:
        x = x - x.mean(-1, keepdims=True)
        return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-9)

    sim = unit(previous) @ unit(current).T  # sim[i, j] = corr(previous i, current j)
    perms = list(itertools.permutations(range(previous.shape[0])))
    return max(perms, key=lambda p: sum(sim[i, p[i]] for i in range(len(p))))


def separate_long(audio: np.ndarray, separate: Separator, sr: int, chunk_s: float = 8.0,
                  overlap_s: float = 2.0, progress: Progress | None = None) -> np.ndarray:
    """Run ``separate`` on overlapping chunks and stitch them with consistent speaker order."""
    n, chunk, overlap = audio.size, int(chunk_s * sr), int(overlap_s * sr)
    if n <= chunk:
        report(progress, 1.0, "separated")
        return separate(audio)
    hop = chunk - overlap
    starts = list(range(0, max(n - overlap, 1), hop))
    out: np.ndarray | None = None
    fade_in = np.linspace(0.0, 1.0, overlap, dtype=np.float32)
    for i, start in enumerate(starts):
        report(progress, i / len(starts), f"separating chunk {i + 1}/{len(starts)}")
        est = separate(audio[start:start + chunk])
        if out is None:
            out = np.zeros((est.shape[0], n), np.float32)
            out[:, :est.shape[1]] = est
            continue
        ov = min(overlap, est.shape[1])
        est = est[list(best_order(out[:, start:start + ov], est[:, :ov]))]
        out[:, start:start + ov] = out[:, start:start + ov] * (1 - fade_in[:ov]) + est[:, :ov] * fade_in[:ov]
        out[:, start + ov:start + est.shape[1]] = est[:, ov:]
    report(progress, 1.0, "separated")
    return out
