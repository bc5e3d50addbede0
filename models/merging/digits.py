"""The instant family: a small MLP pre-trained on sklearn's bundled 8x8 digits, fine-tuned per task.

Tasks are the same real digit images seen differently, so each needs its own change of the
shared body: rotated by 90 degrees, inverted (ink <-> paper), flipped upside down. The network
is tiny (about 33k merged parameters), so a merge plus evaluation on all held-out sets takes
milliseconds and the sliders can re-evaluate on every move.
"""
from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.common.checkpoint import load_checkpoint
from models.merging.family import Family
from models.merging.methods import StateDict

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINT = ROOT / "assets" / "merging" / "digits.safetensors"
TASKS = ("rotated", "inverted", "upside_down")
SIZES = (64, 128, 128, 64)  # input, hidden layers; the heads map 64 -> 10
SPLIT_SEED = 0
SPLIT_FRACTIONS = (0.6, 0.2, 0.2)  # train / val / test


def transform(images: np.ndarray, task: str) -> np.ndarray:
    """(n, 8, 8) images in [0, 1] as task ``task`` sees them ("plain" = unchanged)."""
    if task == "rotated":
        return np.rot90(images, k=1, axes=(1, 2))
    if task == "inverted":
        return 1.0 - images
    if task == "upside_down":
        return images[:, ::-1, :]
    return images


@functools.cache
def splits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Fixed train/val/test split of the 1797 digits: split name -> ((n, 8, 8) images, labels)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(d.target))
    n_train = int(SPLIT_FRACTIONS[0] * len(order))
    n_val = int(SPLIT_FRACTIONS[1] * len(order))
    parts = {"train": order[:n_train], "val": order[n_train:n_train + n_val], "test": order[n_train + n_val:]}
    images = d.images.astype(np.float32) / 16.0
    return {k: (images[idx], d.target[idx]) for k, idx in parts.items()}


def task_data(task: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Flattened inputs (n, 64) and labels of ``task`` ("plain" for pre-training) on ``split``."""
    images, labels = splits()[split]
    x = np.ascontiguousarray(transform(images, task)).reshape(len(labels), -1)
    return torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))


def features(body: StateDict, x: torch.Tensor) -> torch.Tensor:
    """The shared body: three ReLU layers (``layers.{0,1,2}``) applied functionally, so any merged
    state dict (even one whose tensors carry gradients, for AdaMerging) can be evaluated."""
    for i in range(len(SIZES) - 1):
        x = F.relu(F.linear(x, body[f"layers.{i}.weight"], body[f"layers.{i}.bias"]))
    return x


def init_body(seed: int = 0) -> StateDict:
    """PyTorch's default Linear initialisation for the body, for pre-training."""
    torch.manual_seed(seed)
    body = {}
    for i, (n_in, n_out) in enumerate(itertools.pairwise(SIZES)):
        layer = torch.nn.Linear(n_in, n_out)
        body[f"layers.{i}.weight"], body[f"layers.{i}.bias"] = layer.weight.data, layer.bias.data
    return body


class DigitsFamily(Family):
    name = "digits"
    task_names = TASKS
    threads = 1

    def __init__(self, base: StateDict, tuned: list[StateDict], heads: list[StateDict]):
        self.base, self.tuned, self.heads = base, tuned, heads
        self.data = {(k, s): task_data(t, s) for k, t in enumerate(TASKS) for s in ("train", "val", "test")}

    def logits(self, body: StateDict, task: int, split: str, index: slice | None = None) -> torch.Tensor:
        x = self.data[task, split][0]
        x = x if index is None else x[index]
        return F.linear(features(body, x), self.heads[task]["weight"], self.heads[task]["bias"])

    def labels(self, task: int, split: str) -> torch.Tensor:
        return self.data[task, split][1]

    def layer_label(self, name: str) -> str:
        return f"layer {int(name.split('.')[1]) + 1}"


@functools.cache
def load_digits_family() -> DigitsFamily:
    """The bundled family (made by scripts/train_merging_digits.py), loaded once per process."""
    tensors, _ = load_checkpoint(CHECKPOINT)
    def pick(prefix: str) -> StateDict:
        return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    family = DigitsFamily(pick("base."), [pick(f"{t}.body.") for t in TASKS], [pick(f"{t}.head.") for t in TASKS])
    family.fishers = [pick(f"{t}.fisher.") for t in TASKS]
    return family
