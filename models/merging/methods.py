"""The merge methods, tensor by tensor, on task vectors d_i = theta_i - theta_0.

Every method works on one tensor at a time so the same code serves the in-memory merge (the
page's sliders) and the out-of-core merge of large checkpoints (``outofcore.py``).

Why not peft's ``merge_utils``: its ``ties``/``dare_*`` take task tensors that already share a
leading axis and always apply DARE's 1/(1-p) rescale inside ``random_pruning``; we need the
base-relative form, a seeded generator per tensor (so out-of-core equals in-memory) and the
mergekit sign-election order (weights applied before the election). The maths is the same and
the tests cross-check peft's TIES pieces and mergekit's methods on the same tensors.

Where we differ from mergekit (see ``mergekit_yaml.py`` for the export):
- DARE rescales the kept entries by 1/(1-p) as in the paper (unbiased: E[d~] = d); mergekit's
  ``rescale`` matches the L1 norm of the original task vector instead.
- TIES trims per tensor (like mergekit) rather than over the whole flattened model (paper code).
- SLERP treats a whole tensor as one vector (classic mergekit); mergekit 0.1.5 slerps row by row.
"""
from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from models.common.errors import InputError
from models.merging.validation import check_state_dicts

StateDict = dict[str, torch.Tensor]

METHODS: dict[str, str] = {
    "linear": "Linear average",
    "task_arithmetic": "Task arithmetic",
    "ties": "TIES",
    "dare": "DARE",
    "slerp": "SLERP",
    "fisher": "Fisher-weighted average",
    "lines": "LiNeS",
}
"""Method id -> display name. AdaMerging is not a merge rule of its own: it learns the
task-arithmetic lambdas (see ``adamerging.py``)."""

NOTES: dict[str, str] = {
    "linear": "theta = sum_i w_i theta_i / sum_i w_i. Model soups: no base model needed; "
              "the lambda sliders are the weights w_i (only their ratios matter).",
    "task_arithmetic": "theta = theta_0 + sum_i lambda_i d_i with task vectors d_i = theta_i - theta_0 "
                       "(Ilharco et al., 2023). lambda near 1/T is a safe start.",
    "ties": "TIES (Yadav et al., 2023): (1) Trim each d_i to its top-k% magnitudes (density), "
            "(2) Elect a sign per entry from the summed mass, (3) Disjoint mean over the entries "
            "that agree with it; theta = theta_0 + lambda * tau_m.",
    "dare": "DARE (Yu et al., 2024): drop each entry of d_i with probability p and rescale the "
            "survivors by 1/(1-p), so E[d~_i] = d_i; then task arithmetic, or TIES sign election "
            "('DARE-TIES', summed like mergekit's dare_ties). mergekit rescales to the L1 norm instead.",
    "slerp": "Spherical interpolation between two fine-tuned models, t = 0 gives the first, "
             "t = 1 the second. Nearly parallel tensors fall back to linear interpolation.",
    "fisher": "theta = sum_i w_i F_i theta_i / sum_i w_i F_i with the diagonal Fisher F_i of each "
              "fine-tuned model, estimated on its task's training inputs (Matena & Raffel, 2022).",
    "lines": "LiNeS (Wang et al., 2025): scale the summed task vector sum_i d_i by alpha + beta * (l-1)/(L-1) "
             "in layer l, so shallow layers stay near the pre-trained ones (less forgetting) and "
             "deep layers keep the task-specific change. alpha near 1/T is the paper's starting point.",
    "adamerging": "AdaMerging (Yang et al., 2024): learn one lambda per task by minimising the "
                  "entropy of the merged model's predictions on unlabelled inputs of every task.",
}


@dataclass(frozen=True)
class MergeSettings:
    """Every knob of every method; a method reads only its own (see ``NOTES``)."""

    method: str = "task_arithmetic"
    lambdas: tuple[float, ...] = ()  # per task: lambda_i (TA, DARE) or weight w_i (linear, Fisher)
    scale: float = 1.0  # TIES lambda applied to the disjoint mean
    density: float = 0.2  # TIES: fraction of each task vector kept
    drop_rate: float = 0.9  # DARE: p
    rescale: bool = True  # DARE: divide survivors by 1 - p
    sign_election: bool = False  # DARE: add TIES sign election
    t: float = 0.5  # SLERP
    pair: tuple[int, int] = (0, 1)  # SLERP: which two fine-tuned models
    alpha: float = 0.3  # LiNeS: scale of the first layer
    beta: float = 0.5  # LiNeS: extra scale reached by the last layer
    seed: int = 0  # DARE's random masks

    def with_lambdas(self, lambdas: Sequence[float]) -> MergeSettings:
        return replace(self, lambdas=tuple(float(x) for x in lambdas))


def check_settings(s: MergeSettings, n_models: int) -> None:
    """Reject settings the maths cannot honour, with a message the page can show as is."""
    if s.method not in METHODS:
        raise InputError(f"Unknown merge method '{s.method}'. Choose one of: {', '.join(METHODS)}.")
    if n_models < 1:
        raise InputError("No fine-tuned models to merge: add at least two.")
    if s.method == "slerp":
        i, j = s.pair
        if n_models < 2 or not (0 <= i < n_models and 0 <= j < n_models) or i == j:
            raise InputError("SLERP needs two different fine-tuned models.")
    if s.method in ("linear", "task_arithmetic", "dare", "fisher") and len(s.lambdas) != n_models:
        raise InputError(f"{len(s.lambdas)} lambda values for {n_models} models: give one per model.")
    if s.method in ("linear", "fisher") and abs(sum(s.lambdas)) < 1e-12:
        raise InputError("The model weights sum to zero, so the average is undefined: raise at least one weight.")
    if not 0.0 <= s.density <= 1.0 or not 0.0 <= s.drop_rate <= 1.0 or not 0.0 <= s.t <= 1.0:
        raise InputError("Density, drop rate and t must lie between 0 and 1.")


# --- the pieces -----------------------------------------------------------------------------

def trim_top_k(delta: torch.Tensor, density: float) -> torch.Tensor:
    """TIES step 1: keep the ``density`` fraction of entries with the largest |d| (at least one)."""
    if density >= 1.0:
        return delta
    if density <= 0.0 or delta.numel() == 0:
        return torch.zeros_like(delta)
    k = max(1, int(density * delta.numel()))
    flat = delta.reshape(-1)
    keep = torch.zeros_like(flat)
    keep[torch.topk(flat.abs(), k, sorted=False).indices] = 1.0
    return (flat * keep).reshape(delta.shape)


def elect_signs(deltas: torch.Tensor) -> torch.Tensor:
    """TIES step 2: gamma = sign(sum_i d_i) per entry (ties go to +1, as in mergekit)."""
    return torch.where(deltas.sum(dim=0) >= 0, 1.0, -1.0).to(deltas.dtype)


def agreement_mask(deltas: torch.Tensor) -> torch.Tensor:
    """Which entries of each d_i agree with the elected sign (zeros never agree)."""
    return (torch.sign(deltas) == elect_signs(deltas)).to(deltas.dtype)


def disjoint_mean(deltas: torch.Tensor) -> torch.Tensor:
    """TIES step 3: mean over the models that agree with the elected sign, entry by entry."""
    mask = agreement_mask(deltas)
    count = mask.sum(dim=0)
    return (deltas * mask).sum(dim=0) / torch.where(count == 0, 1.0, count)


def dare_drop(delta: torch.Tensor, drop_rate: float, rescale: bool, generator: torch.Generator) -> torch.Tensor:
    """DARE: zero each entry with probability p; survivors times 1/(1-p) keep E[d~] = d."""
    if drop_rate <= 0.0:
        return delta
    if drop_rate >= 1.0:
        return torch.zeros_like(delta)
    keep = torch.bernoulli(torch.full_like(delta, 1.0 - drop_rate, dtype=torch.float32), generator=generator)
    dropped = delta * keep.to(delta.dtype)
    return dropped / (1.0 - drop_rate) if rescale else dropped


def slerp(t: float, v0: torch.Tensor, v1: torch.Tensor, dot_threshold: float = 0.9995) -> torch.Tensor:
    """Spherical interpolation of two tensors seen as single vectors.

    Near-parallel (|cos| > ``dot_threshold``) or zero tensors fall back to linear
    interpolation, where sin(theta) -> 0 would divide by almost nothing.
    """
    a, b = v0.reshape(-1).double(), v1.reshape(-1).double()
    na, nb = a.norm(), b.norm()
    if na < 1e-12 or nb < 1e-12:
        return ((1 - t) * v0.double() + t * v1.double()).to(v0.dtype)
    dot = float(torch.clamp((a / na) @ (b / nb), -1.0, 1.0))
    if abs(dot) > dot_threshold:
        out = (1 - t) * a + t * b
    else:
        theta = math.acos(dot)
        out = (math.sin((1 - t) * theta) * a + math.sin(t * theta) * b) / math.sin(theta)
    return out.reshape(v0.shape).to(v0.dtype)


# --- one tensor -----------------------------------------------------------------------------

def tensor_seed(name: str, seed: int) -> int:
    """A per-tensor seed, so DARE draws the same mask whatever order tensors are merged in."""
    return (zlib.crc32(name.encode()) + 1_000_003 * seed) % (2 ** 63)


def merge_tensor(base: torch.Tensor, tuned: Sequence[torch.Tensor], s: MergeSettings, *, name: str = "",
                 depth: float = 0.0, fishers: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
    """Merge one float tensor. ``depth`` in [0, 1] is (l-1)/(L-1) for LiNeS; ``fishers`` for Fisher."""
    theta0 = base.float()
    thetas = torch.stack([x.float() for x in tuned])
    deltas = thetas - theta0
    lam = torch.tensor(s.lambdas or [1.0] * len(tuned), dtype=torch.float32).reshape(-1, *[1] * base.dim())
    if s.method == "linear":
        out = (lam * thetas).sum(0) / lam.sum()
    elif s.method == "task_arithmetic":
        out = theta0 + (lam * deltas).sum(0)
    elif s.method == "ties":
        trimmed = torch.stack([trim_top_k(d, s.density) for d in deltas])
        out = theta0 + s.scale * disjoint_mean(trimmed)
    elif s.method == "dare":
        g = torch.Generator().manual_seed(tensor_seed(name, s.seed))
        weighted = lam * torch.stack([dare_drop(d, s.drop_rate, s.rescale, g) for d in deltas])
        if s.sign_election:
            weighted = weighted * agreement_mask(weighted)
        out = theta0 + weighted.sum(0)
    elif s.method == "slerp":
        out = slerp(s.t, thetas[s.pair[0]], thetas[s.pair[1]])
    elif s.method == "fisher":
        if fishers is None:
            raise InputError("Fisher merging needs Fisher estimates; this family has none.")
        # The small floor makes entries no model cares about fall back to the plain weighted average.
        f = lam * (torch.stack([x.float() for x in fishers]) + 1e-8)
        out = (f * thetas).sum(0) / f.sum(0)
    elif s.method == "lines":
        out = theta0 + (s.alpha + s.beta * depth) * deltas.sum(0)
    else:  # check_settings rejects unknown methods before we get here
        raise InputError(f"Unknown merge method '{s.method}'.")
    return out.to(base.dtype)


# --- whole state dicts -------------------------------------------------------------------------

_LAYER = re.compile(r"(?:^|\.)(?:layers?|h|blocks?)\.(\d+)\.")


def layer_index(name: str) -> int | None:
    """Transformer-style block number in a tensor name (``encoder.layer.4.output...`` -> 4)."""
    m = _LAYER.search(name)
    return int(m.group(1)) if m else None


def depth_fractions(names: Sequence[str]) -> dict[str, float]:
    """(l-1)/(L-1) per tensor for LiNeS; tensors outside numbered blocks count as the first layer."""
    layers = {n: layer_index(n) for n in names}
    known = [x for x in layers.values() if x is not None]
    lo, hi = (min(known), max(known)) if known else (0, 0)
    span = max(hi - lo, 1)
    return {n: 0.0 if x is None else (x - lo) / span for n, x in layers.items()}


def is_mergeable(t: torch.Tensor) -> bool:
    """Only floating-point tensors are merged; integer buffers (ids, counters) are copied from the base."""
    return t.is_floating_point()


def merge_state_dicts(base: StateDict, tuned: Sequence[StateDict], s: MergeSettings,
                      fishers: Sequence[StateDict] | None = None) -> StateDict:
    """Merge every tensor of same-architecture state dicts; mismatches raise InputError."""
    check_settings(s, len(tuned))
    check_state_dicts(base, [(f"Fine-tuned model {i + 1}", m) for i, m in enumerate(tuned)])
    depth = depth_fractions(list(base))
    out: StateDict = {}
    for name, theta0 in base.items():
        if not is_mergeable(theta0):
            out[name] = theta0
            continue
        out[name] = merge_tensor(theta0, [m[name] for m in tuned], s, name=name, depth=depth[name],
                                 fishers=None if fishers is None else [f[name] for f in fishers])
    return out
