"""Live mitigation for the built-in runs whose LoRA adapter is shipped: merge the adapter into
MiniLM, scale its intruder directions by lambda, and re-measure task accuracy and forgetting.

What makes it interactive on 2 cores: MiniLM's 36 base SVDs, each run's merged model and each
(run, k, eps)'s intruder components are computed once per process, so a new lambda costs one
matrix addition per affected matrix plus a forward pass over a *subset* of the evaluation texts
(``LIVE_TEST_TWEETS`` test tweets and ``LIVE_PROBE_TEXTS`` probe fortunes; the full-size numbers, 600
tweets and all 467 fortunes, come from scripts/finetune_spectral.py).
"""
from __future__ import annotations

import dataclasses
import functools
import time

import pandas as pd
import torch
from safetensors.torch import load_file
from torch import nn

from models.common.errors import InputError
from models.common.progress import Progress, report
from models.common.text import TextDataset, TextSplit, fortune_topics, load_minilm, tweets_sentiment
from models.spectral.finetune import evaluate, target_weights, with_weights
from models.spectral.intruders import DEFAULT_EPS, DEFAULT_K, svd
from models.spectral.mitigation import intruder_components, intruder_total, scaled_weights
from models.spectral.runs import RUNS_DIR, SHIPPED_ADAPTERS, head_path
from models.spectral.sources import DictSource, LoraMergedSource

LIVE_TEST_TWEETS = 150
LIVE_PROBE_TEXTS = 150
"""Texts scored per live evaluation: about 300 MiniLM forward passes instead of the script's 1067, which
took 50 s on the loaded 2-core box (see benchmarks/results/spectral.md for the time per evaluation)."""


def live_runs() -> list[str]:
    """Shipped runs that can be mitigated live (adapter folder and head present)."""
    return [n for n in SHIPPED_ADAPTERS if (RUNS_DIR / f"{n}_adapter").is_dir() and head_path(n).is_file()]


@functools.cache
def _base() -> tuple[nn.Module, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Pre-trained MiniLM, its adapted matrices W0 and their left singular vectors U0."""
    _, base = load_minilm()
    W0 = target_weights(base)
    return base, W0, {name: svd(W)[0] for name, W in W0.items()}


@functools.cache
def _tuned(name: str) -> tuple[dict[str, torch.Tensor], nn.Linear]:
    """The run's merged matrices Wt = W0 + s B A and its classification head."""
    if name not in live_runs():
        raise InputError(f"Live mitigation needs a shipped LoRA adapter; '{name}' has none (see the precomputed grid).")
    _, W0, _ = _base()
    merged = LoraMergedSource(DictSource(W0, "MiniLM"), RUNS_DIR / f"{name}_adapter")
    head_state = load_file(str(head_path(name)))
    head = nn.Linear(head_state["weight"].shape[1], head_state["weight"].shape[0])
    head.load_state_dict(head_state)
    return {key: merged.get(key) for key in W0}, head.eval()


@functools.cache
def live_probe() -> TextDataset:
    """The first ``LIVE_PROBE_TEXTS`` held-out fortunes (the split is shuffled, so every topic is in it);
    one object per process, so its pre-trained embeddings are computed once."""
    probe = fortune_topics()
    test = TextSplit(probe.test.texts[:LIVE_PROBE_TEXTS], probe.test.labels[:LIVE_PROBE_TEXTS])
    return dataclasses.replace(probe, test=test)


@functools.cache
def _components(name: str, k: int, eps: float) -> dict[str, tuple[int, torch.Tensor]]:
    _, W0, U0 = _base()
    return intruder_components(_tuned(name)[0], W0, k, eps, base_U=U0)


_results: dict[tuple[str, float, int, float], dict] = {}
LIVE_COLUMNS = ("lambda", "intruders", "accuracy", "drift", "topic_1nn", "seconds")


def live_mitigation(name: str, lam: float, k: int = DEFAULT_K, eps: float = DEFAULT_EPS,
                    progress: Progress | None = None) -> dict:
    """Accuracy (on ``LIVE_TEST_TWEETS`` tweets) and forgetting of run ``name`` with its intruders
    (top ``k``, threshold ``eps``) scaled by ``lam``; cached per (run, lambda, k, eps)."""
    if not 0.0 <= lam <= 2.0:
        raise InputError("lambda must be between 0 (remove the intruders) and 2 (double them).")
    key = (name, round(float(lam), 3), int(k), round(float(eps), 3))
    if key in _results:
        report(progress, 1.0, "cached")
        return _results[key]
    start = time.time()
    report(progress, 0.05, "Merging the adapter and finding intruders (first time per run, k and eps)")
    Wt, head = _tuned(name)
    components = _components(name, int(k), float(eps))
    report(progress, 0.3, f"Scaling {intruder_total(components)} intruder directions by {lam:g}; "
                          f"scoring {LIVE_TEST_TWEETS} tweets and the forgetting probe")
    encoder = with_weights(_base()[0], scaled_weights(Wt, components, lam))
    scores = evaluate(encoder, head, tweets_sentiment(), live_probe(), LIVE_TEST_TWEETS)
    report(progress, 1.0, "Done")
    _results[key] = {"lambda": lam, "intruders": intruder_total(components), **scores,
                     "seconds": round(time.time() - start, 1)}
    return _results[key]


def live_table(name: str, k: int = DEFAULT_K, eps: float = DEFAULT_EPS) -> pd.DataFrame:
    """Every lambda evaluated so far for (run, k, eps), by lambda."""
    rows = [r for (n, _, kk, e), r in _results.items() if (n, kk, e) == (name, int(k), round(float(eps), 3))]
    return pd.DataFrame(rows, columns=list(LIVE_COLUMNS)).sort_values("lambda").reset_index(drop=True)
