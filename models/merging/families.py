"""The built-in model families by name, their reference accuracies and default knobs."""
from __future__ import annotations

import functools

from models.common.progress import Progress
from models.merging.family import Family, Reference, reference
from models.merging.methods import MergeSettings

TITLES = {"digits": "Digits MLP (instant)", "minilm": "MiniLM text (transformer)"}
DEFAULT_LAMBDA = 0.3
"""Task arithmetic's usual starting point (the paper picks lambda on validation in [0, 1])."""


def load_family(name: str, progress: Progress | None = None) -> Family:
    """Load (once per process) the family ``name``; MiniLM encodes its texts on first use."""
    if name == "digits":
        from models.merging.digits import load_digits_family

        return load_digits_family()
    if name == "minilm":
        from models.merging.minilm import load_minilm_family

        return load_minilm_family(progress)
    raise ValueError(f"unknown family {name!r}")


@functools.cache
def family_reference(name: str) -> Reference:
    """Test accuracies of the base and the fine-tuned models (what the merge is compared with)."""
    return reference(load_family(name))


def default_settings(name: str, method: str = "task_arithmetic") -> MergeSettings:
    n = len(load_family(name).tuned)
    lam = 1.0 if method in ("linear", "fisher") else DEFAULT_LAMBDA
    return MergeSettings(method, (lam,) * n)
