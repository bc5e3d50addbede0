"""The transformer family: all-MiniLM-L6-v2 fine-tuned on tweet sentiment and fortune topics.

Only the top two of MiniLM's six blocks are fine-tuned, and in them only the two output
projections (``attention.output.dense`` and the FFN's ``output.dense``, 1.48 M parameters).
That keeps each shipped task vector at 3 MB in float16 (the 5 MB asset rule) and, more
importantly, makes evaluation fast: the frozen blocks 0-3 run once per text and their hidden
states are cached, so a slider change only re-runs blocks 4-5 with the merged weights.
"""
from __future__ import annotations

import threading
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.func import functional_call

from models.common.checkpoint import load_checkpoint
from models.common.progress import Progress, report
from models.common.text import TextDataset, fortune_topics, load_minilm, mean_pool, tweets_sentiment
from models.merging.family import Family
from models.merging.methods import StateDict

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets" / "merging"
TOP_LAYERS = (4, 5)
TRAINED = ("attention.output.dense.weight", "attention.output.dense.bias", "output.dense.weight", "output.dense.bias")
MAX_LENGTH = 64
CHUNK = 64
EVAL_SIZES = {"train": 128, "val": 128, "test": 200}
"""Examples per task and split the page uses: Fisher on train, AdaMerging on val, accuracy on test."""


def datasets() -> dict[str, TextDataset]:
    """Task name -> dataset, in the family's task order."""
    return {"tweets_sentiment": tweets_sentiment(), "fortune_topics": fortune_topics()}


def trained_names() -> list[str]:
    return [f"encoder.layer.{layer}.{p}" for layer in TOP_LAYERS for p in TRAINED]


def base_params() -> StateDict:
    """theta_0 of the fine-tuned tensors, from the shared MiniLM."""
    _, model = load_minilm()
    params = dict(model.named_parameters())
    return {n: params[n].detach().clone() for n in trained_names()}


class Encoded:
    """Texts after the frozen blocks 0-3: hidden states (n, L, 384) and masks, sorted by length
    so chunks carry little padding; ``labels`` follow the same order."""

    def __init__(self, texts: tuple[str, ...], labels: tuple[int, ...]):
        tokenizer, model = load_minilm()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batch = tokenizer([texts[i] for i in order], padding=True, truncation=True,
                          max_length=MAX_LENGTH, return_tensors="pt")
        hidden = []
        with torch.no_grad():
            for start in range(0, len(order), CHUNK):
                part = {k: v[start:start + CHUNK] for k, v in batch.items()}
                n = int(part["attention_mask"].sum(1).max())
                part = {k: v[:, :n] for k, v in part.items()}
                h = model(**part, output_hidden_states=True).hidden_states[TOP_LAYERS[0]]
                hidden.append(F.pad(h, (0, 0, 0, batch["input_ids"].shape[1] - n)))
        self.hidden = torch.cat(hidden)
        self.mask = batch["attention_mask"]
        self.labels = torch.tensor([labels[i] for i in order])

    def __len__(self) -> int:
        return len(self.labels)


def top_forward(params: StateDict, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Blocks 4-5 with ``params`` (full names) swapped in, then MiniLM's mean pooling -> (n, 384).

    Chunked and trimmed to each chunk's longest text; the additive mask is what BertModel
    builds internally (verified equal to the full model's output).
    """
    _, model = load_minilm()
    out = []
    for start in range(0, len(hidden), CHUNK):
        m = mask[start:start + CHUNK]
        n = int(m.sum(1).max())
        h, m = hidden[start:start + CHUNK, :n], m[:, :n]
        additive = (1.0 - m[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in TOP_LAYERS:
            prefix = f"encoder.layer.{layer}."
            own = {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}
            h = functional_call(model.encoder.layer[layer], own, (h, additive))
            h = h[0] if isinstance(h, tuple) else h
        out.append(mean_pool(h, m))
    return torch.cat(out)


class MiniLMFamily(Family):
    name = "minilm"
    threads = 1  # measured: 2.2 s CPU per evaluation on one thread vs 4.7 s on two (spin-waiting)

    def __init__(self, tuned: list[StateDict], heads: list[StateDict], progress: Progress | None = None,
                 sizes: dict[str, int] = EVAL_SIZES):
        self.task_names = tuple(datasets())
        self.base, self.tuned, self.heads = base_params(), tuned, heads
        self.data: dict[tuple[int, str], Encoded] = {}
        jobs = [(k, d, s) for k, d in enumerate(datasets().values()) for s in sizes]
        for i, (k, d, split) in enumerate(jobs):
            report(progress, i / len(jobs), f"encoding {d.name} {split} texts with MiniLM blocks 0-3")
            part = getattr(d, split)
            n = sizes[split]
            self.data[k, split] = Encoded(part.texts[:n], part.labels[:n])
        report(progress, 1.0, "MiniLM family ready")

    def logits(self, body: StateDict, task: int, split: str, index: slice | None = None) -> torch.Tensor:
        enc = self.data[task, split]
        index = index or slice(None)
        pooled = top_forward(body, enc.hidden[index], enc.mask[index])
        return F.linear(pooled, self.heads[task]["weight"], self.heads[task]["bias"])

    def labels(self, task: int, split: str) -> torch.Tensor:
        return self.data[task, split].labels

    def layer_label(self, name: str) -> str:
        parts = name.split(".")
        return f"block {parts[2]} {'attn out' if parts[3] == 'attention' else 'FFN out'}"


def checkpoint_path(task: str) -> Path:
    return ASSETS / f"minilm_{task}.safetensors"


_family: MiniLMFamily | None = None
_family_lock = threading.Lock()


def load_minilm_family(progress: Progress | None = None) -> MiniLMFamily:
    """Base MiniLM + the shipped float16 task vectors and heads (scripts/train_merging_minilm.py).

    Built once per process; a lock rather than functools.cache because the first caller's
    progress callback must not become part of the cache key. The first call encodes the
    held-out texts (tens of seconds on 2 cores).
    """
    global _family
    with _family_lock:
        if _family is None:
            _family = _build_family(progress)
    return _family


def load_task_vectors() -> tuple[list[StateDict], list[StateDict]]:
    """theta_i = theta_0 + float16 task vector, and the frozen head, per task (in ``datasets()`` order)."""
    base = base_params()
    tuned, heads = [], []
    for task in datasets():
        tensors, _ = load_checkpoint(checkpoint_path(task))
        tuned.append({n: base[n] + tensors[f"delta.{n}"].float() for n in base})
        heads.append({"weight": tensors["head.weight"], "bias": tensors["head.bias"]})
    return tuned, heads


def _build_family(progress: Progress | None) -> MiniLMFamily:
    return MiniLMFamily(*load_task_vectors(), progress)
