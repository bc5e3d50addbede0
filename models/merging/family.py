"""A model family the page merges: a base, fine-tuned models, a head and held-out data per task.

Only the shared body is merged; each task keeps its own classification head, frozen during
fine-tuning as in the task-arithmetic and TIES papers, so any merged body can be read out by
every task's head. Evaluation, Fisher estimation and AdaMerging only need ``logits``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from models.common.progress import Progress, report
from models.merging.analysis import sign_conflicts
from models.merging.methods import MergeSettings, StateDict, merge_state_dicts


@contextmanager
def thread_budget(n: int | None) -> Iterator[None]:
    """Run the block on at most ``n`` torch threads (None: leave as is).

    A tiny model merges and evaluates fastest on one thread: OpenMP's hand-offs cost more than
    the parallel speed-up, and 100x more when the cores are busy (measured: 1-30 ms on one
    thread vs 0.3-1.4 s on two, on a loaded 2-core box). torch's thread count belongs to the
    calling thread, so a server's other requests keep theirs.
    """
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Family(ABC):
    """Subclasses set the attributes and implement ``logits``/``labels``."""

    name: str
    task_names: tuple[str, ...]
    base: StateDict  # theta_0 of the merged tensors
    tuned: list[StateDict]  # theta_i, one per task, same keys as ``base``
    fishers: list[StateDict] | None = None  # diagonal Fisher per task, filled by ``ensure_fishers``
    threads: int | None = None  # torch threads for merging and evaluating (see ``thread_budget``)

    @abstractmethod
    def logits(self, body: StateDict, task: int, split: str, index: slice | None = None) -> torch.Tensor:
        """Task ``task``'s logits on ``split`` ("train"/"val"/"test") for ``body``; differentiable."""

    @abstractmethod
    def labels(self, task: int, split: str) -> torch.Tensor:
        """Class indices of ``split`` for ``task``."""

    def layer_label(self, name: str) -> str:
        """Layer a tensor belongs to, for the per-layer plots."""
        return name.rsplit(".", 1)[0]

    @torch.no_grad()
    def accuracies(self, body: StateDict, split: str = "test") -> list[float]:
        """Accuracy of ``body`` on every task's ``split``, read out by each task's own head."""
        return [(self.logits(body, k, split).argmax(-1) == self.labels(k, split)).float().mean().item()
                for k in range(len(self.task_names))]

    def merge(self, settings: MergeSettings) -> StateDict:
        if settings.method == "fisher":
            self.ensure_fishers()
        return merge_state_dicts(self.base, self.tuned, settings, self.fishers)

    def sign_conflicts(self, density: float = 1.0) -> dict[str, float]:
        """Per-layer sign-conflict rate of the task vectors, memoised per density."""
        cache = self.__dict__.setdefault("_conflicts", {})
        if density not in cache:
            with thread_budget(self.threads):
                cache[density] = sign_conflicts(self.base, self.tuned, density, self.layer_label)
        return cache[density]

    def ensure_fishers(self, progress: Progress | None = None, n_examples: int = 256) -> None:
        if self.fishers is None:
            self.fishers = [diagonal_fisher(self, k, n_examples, progress) for k in range(len(self.tuned))]


@dataclass(frozen=True)
class Reference:
    """Per-task accuracies of the base and of each fine-tuned model, for normalising."""

    base: list[float]
    tuned: list[float]  # tuned[k] = fine-tuned model k on its own task k


def reference(family: Family, split: str = "test") -> Reference:
    base = family.accuracies(family.base, split)
    tuned = [family.accuracies(m, split)[k] for k, m in enumerate(family.tuned)]
    return Reference(base, tuned)


def normalised_average(acc: Sequence[float], ref: Reference) -> float:
    """Mean over tasks of merged accuracy / fine-tuned accuracy (the TIES/AdaMerging metric)."""
    return sum(a / max(t, 1e-9) for a, t in zip(acc, ref.tuned)) / len(acc)


def diagonal_fisher(family: Family, task: int, n_examples: int = 256, progress: Progress | None = None) -> StateDict:
    """F_i = E_x sum_y p(y|x) (d log p(y|x) / d theta)^2 of fine-tuned model ``task``, on its training inputs.

    The expectation over y is taken exactly (classes are few) rather than by sampling, as in
    Matena & Raffel's classification experiments; x runs over the first ``n_examples``.
    """
    params = {k: v.detach().clone().float().requires_grad_(True) for k, v in family.tuned[task].items()
              if v.is_floating_point()}
    fisher = {k: torch.zeros_like(v) for k, v in params.items()}
    n = min(n_examples, len(family.labels(task, "train")))
    for i in range(n):
        logp = torch.log_softmax(family.logits(params, task, "train", slice(i, i + 1))[0], -1)
        probs = logp.exp().detach()
        for y in range(len(logp)):
            grads = torch.autograd.grad(logp[y], list(params.values()), retain_graph=y < len(logp) - 1)
            for (k, _), g in zip(params.items(), grads):
                fisher[k] += probs[y] * g.pow(2)
        if i % 16 == 0:
            report(progress, (i + 1) / n, f"Fisher of '{family.task_names[task]}': {i + 1}/{n} examples")
    return {k: v / n for k, v in fisher.items()}
