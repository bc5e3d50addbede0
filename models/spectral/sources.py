"""Read weight matrices one at a time from checkpoints, Hugging Face folders or base + peft LoRA adapter.

Streaming is what keeps memory bounded by a few matrices instead of the whole model:
safetensors maps files lazily, so ``get`` reads only the tensor asked for, and
:func:`analyse_checkpoints` drops each pair as soon as it is summarised.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import torch
from safetensors import safe_open

from models.common.errors import InputError
from models.common.progress import Progress, report
from models.spectral.analysis import K_MAX, MatrixSpectrum, analyse_pair

MAX_MATRIX_ENTRIES = 64 * 1024 * 1024
"""Memory cap: a matrix may have at most 64 M entries (256 MB in float32; the exact SVD needs about
four times that). Larger matrices are refused with their names rather than swapping the server."""
DEFAULT_PATTERN = r"layer.*(query|key|value|dense|proj|fc\d?)\.weight$"
"""Attention and feed-forward matrices of BERT/LLaMA/GPT-style checkpoints; embeddings, norms and biases excluded."""
_PREFIXES = ("base_model.model.", "model.", "bert.", "roberta.", "transformer.")
"""Wrapper prefixes that differ between a bare model's and a task model's checkpoint names."""


def canonical(name: str) -> str:
    """A tensor name with one wrapper prefix removed, so ``bert.encoder.x`` matches ``encoder.x``."""
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


class TensorSource:
    """Named tensors from one or more safetensors files, read lazily one at a time."""

    def __init__(self, files: list[Path], label: str):
        self.label = label
        self._where: dict[str, Path] = {}
        self._shape: dict[str, tuple[int, ...]] = {}
        self._raw: dict[str, str] = {}  # canonical name -> name inside the file
        for path in files:
            try:
                with safe_open(str(path), framework="pt") as f:
                    for key in f.keys():  # noqa: SIM118 (safe_open handles are not iterable)
                        name = canonical(key)
                        self._where[name], self._raw[name] = path, key
                        self._shape[name] = tuple(f.get_slice(key).get_shape())
            except Exception as exc:  # safetensors raises SafetensorError, OSError, ValueError ...
                raise InputError(f"{path.name} ({label}) is not a readable safetensors file: it may be "
                                 f"truncated or corrupted ({type(exc).__name__}).") from exc
        if not self._where:
            raise InputError(f"The {label} checkpoint contains no tensors.")

    def keys(self) -> list[str]:
        return list(self._where)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def shape(self, key: str) -> tuple[int, ...]:
        return self._shape[key]

    def get(self, key: str) -> torch.Tensor:
        with safe_open(str(self._where[key]), framework="pt") as f:
            return f.get_tensor(self._raw[key])


class DictSource(TensorSource):
    """In-memory tensors behind the same interface (for tests and freshly trained models)."""

    def __init__(self, tensors: Mapping[str, torch.Tensor], label: str):
        self.label = label
        self._tensors = {canonical(k): v for k, v in tensors.items()}
        self._shape = {k: tuple(v.shape) for k, v in self._tensors.items()}
        self._where = dict.fromkeys(self._tensors)

    def get(self, key: str) -> torch.Tensor:
        return self._tensors[key]


class LoraMergedSource(TensorSource):
    """A base checkpoint with a peft LoRA adapter merged in on the fly: W = W0 + s * B A.

    Re-implemented instead of peft's ``merge_and_unload`` because that needs the whole model
    instantiated in memory; here each matrix is merged as it is read. s = alpha / r, or
    alpha / sqrt(r) for rsLoRA, exactly as peft defines its scaling.
    """

    def __init__(self, base: TensorSource, adapter_dir: Path):
        self.label, self.base = "base + LoRA adapter", base
        self._shape = base._shape
        self._where = base._where
        self.config, self.factors = read_adapter(adapter_dir)
        missing = [k for k in self.factors if k not in base._shape]
        if missing:
            raise InputError(f"The adapter does not match this base model: it adapts {len(missing)} tensor(s) the "
                             f"base does not have, e.g. {', '.join(missing[:3])}. Pick the base it was trained on.")
        wrong = []
        for key, (A, B) in self.factors.items():
            out_f, in_f = base.shape(key)[:2] if len(base.shape(key)) == 2 else (None, None)
            if (B.shape[0], A.shape[1]) != (out_f, in_f):
                wrong.append(f"{key}: adapter B A is {B.shape[0]}x{A.shape[1]}, base is "
                             f"{'x'.join(map(str, base.shape(key)))}")
        if wrong:
            raise InputError("The adapter was trained on a different base model (shapes differ): "
                             + "; ".join(wrong[:3]) + ("" if len(wrong) <= 3 else f"; and {len(wrong) - 3} more"))

    def get(self, key: str) -> torch.Tensor:
        W0 = self.base.get(key).float()
        if key not in self.factors:
            return W0
        A, B = self.factors[key]
        return W0 + self.scale(A.shape[0]) * (B.float() @ A.float())

    def scale(self, r: int) -> float:
        alpha = float(self.config.get("lora_alpha", 8))
        return alpha / math.sqrt(r) if self.config.get("use_rslora") else alpha / r

    def adapted(self) -> list[str]:
        return list(self.factors)


def read_adapter(folder: Path) -> tuple[dict, dict[str, tuple[torch.Tensor, torch.Tensor]]]:
    """adapter_config.json and {base tensor name: (A, B)} from a peft LoRA adapter folder."""
    folder = Path(folder)
    cfg_path, weights = folder / "adapter_config.json", folder / "adapter_model.safetensors"
    if not cfg_path.is_file() or not weights.is_file():
        raise InputError("A LoRA adapter folder needs adapter_config.json and adapter_model.safetensors "
                         "(as written by peft's save_pretrained).")
    try:
        config = json.loads(cfg_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"adapter_config.json is not valid JSON ({exc}).") from exc
    if config.get("peft_type", "LORA") != "LORA":
        raise InputError(f"Only LoRA adapters are supported; this one is {config.get('peft_type')}.")
    if any(config.get(key) for key in ("rank_pattern", "alpha_pattern", "use_dora", "fan_in_fan_out")):
        raise InputError("Adapters with rank/alpha patterns, DoRA or fan_in_fan_out are not supported; "
                         "merge it with peft's merge_and_unload and upload the merged checkpoint instead.")
    raw = TensorSource([weights], "adapter")
    factors: dict[str, list] = {}
    for key in raw:
        match = re.fullmatch(r"(.+)\.lora_([AB])(?:\.default)?\.weight", key)
        if match:
            pair = factors.setdefault(f"{canonical(match.group(1))}.weight", [None, None])
            pair["AB".index(match.group(2))] = raw.get(key)
    pairs = {k: (v[0], v[1]) for k, v in factors.items() if v[0] is not None and v[1] is not None}
    if not pairs:
        raise InputError("No lora_A/lora_B weight pairs found in adapter_model.safetensors.")
    return config, pairs


def open_checkpoint(path: str | Path, label: str) -> TensorSource:
    """A safetensors file, or a Hugging Face model folder (single or sharded safetensors)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"The {label} path does not exist: {path}")
    if path.is_file():
        if path.suffix != ".safetensors":
            raise InputError(f"{path.name} ({label}): only .safetensors files are read (pickled .bin/.pt files "
                             "can run code when loaded). Convert it with safetensors' save_file.")
        return TensorSource([path], label)
    if (path / "adapter_config.json").is_file():
        raise InputError(f"The {label} folder is a LoRA adapter; give it as the adapter, with its base model.")
    files = sorted(p for p in path.glob("*.safetensors") if p.name != "adapter_model.safetensors")
    if not files:
        raise InputError(f"The {label} folder has no .safetensors weights (pytorch_model.bin is not read).")
    return TensorSource(files, label)


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def matched_pairs(base: TensorSource, tuned: TensorSource, pattern: str) -> tuple[list[str], list[str]]:
    """Names of the 2-D matrices to compare, plus notes on what was skipped and why.

    Missing tensors and non-2-D tensors are notes; shape mismatches and over-size matrices are
    errors, because they mean the two checkpoints are not the same architecture (or too big here).
    """
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise InputError(f"The name pattern is not a valid regular expression: {exc}.") from exc
    wanted = [k for k in base if regex.search(k)]
    if not wanted:
        raise InputError(f"No tensor of the base checkpoint matches the pattern '{pattern}'. "
                         f"Example names: {', '.join(base.keys()[:4])}.")
    notes, names, mismatched, too_big = [], [], [], []
    missing = [k for k in wanted if k not in tuned._shape]
    if missing:
        notes.append(f"{len(missing)} matching tensor(s) are missing from the tuned checkpoint and were skipped, "
                     f"e.g. {', '.join(missing[:3])}.")
    flat = [k for k in wanted if k not in missing and len(base.shape(k)) != 2]
    if flat:
        notes.append(f"{len(flat)} tensor(s) are not 2-D matrices and were skipped, e.g. {', '.join(flat[:3])}.")
    for k in wanted:
        if k in missing or k in flat:
            continue
        if base.shape(k) != tuned.shape(k):
            mismatched.append(f"{k} (base {_dims(base.shape(k))}, tuned {_dims(tuned.shape(k))})")
        elif math.prod(base.shape(k)) > MAX_MATRIX_ENTRIES:
            too_big.append(f"{k} ({'x'.join(map(str, base.shape(k)))})")
        else:
            names.append(k)
    if mismatched:
        raise InputError("The checkpoints have different architectures: shapes differ for "
                         + "; ".join(mismatched[:4])
                         + ("" if len(mismatched) <= 4 else f" and {len(mismatched) - 4} more."))
    if too_big:
        raise InputError(f"{len(too_big)} matrix/matrices exceed this server's cap of {MAX_MATRIX_ENTRIES // 2**20} M "
                         f"entries per matrix: {', '.join(too_big[:3])}. Narrow the name pattern.")
    if not names:
        raise InputError("No matrix is present in both checkpoints with the same shape: are these the same model?")
    return names, notes


def iter_pairs(base: TensorSource, tuned: TensorSource, names: list[str]
               ) -> Iterator[tuple[str, torch.Tensor, torch.Tensor]]:
    """Yield (name, W0, Wt) one pair at a time."""
    for name in names:
        W0, Wt = base.get(name), tuned.get(name)
        if not (torch.isfinite(W0).all() and torch.isfinite(Wt).all()):
            raise InputError(f"{name} contains NaN or infinite values; the checkpoint is damaged.")
        yield name, W0, Wt


def analyse_sources(base: TensorSource, tuned: TensorSource, pattern: str = DEFAULT_PATTERN, k_max: int = K_MAX,
                    randomized: bool = False, progress: Progress | None = None
                    ) -> tuple[list[MatrixSpectrum], list[str]]:
    """Spectral summary of every matching matrix pair, streamed, with progress per matrix."""
    names, notes = matched_pairs(base, tuned, pattern)
    spectra = []
    for i, (name, W0, Wt) in enumerate(iter_pairs(base, tuned, names)):
        report(progress, i / len(names), f"SVD of {name} ({i + 1}/{len(names)})")
        spectra.append(analyse_pair(name, W0, Wt, k_max, randomized))
        del W0, Wt
    report(progress, 1.0, f"Analysed {len(names)} matrices")
    if randomized:
        notes.append("Tuned-side singular vectors come from a randomised SVD (top k + 10 only): intruder counts are "
                     "approximate and the tuned spectrum and dW rank are truncated.")
    return spectra, notes


def analyse_checkpoints(base_path: str | Path, tuned_path: str | Path | None = None,
                        adapter_path: str | Path | None = None, pattern: str = DEFAULT_PATTERN,
                        k_max: int = K_MAX, randomized: bool = False, progress: Progress | None = None
                        ) -> tuple[list[MatrixSpectrum], list[str]]:
    """Compare a base checkpoint with a tuned one, or with itself plus a peft LoRA adapter."""
    if (tuned_path is None) == (adapter_path is None):
        raise InputError("Give either a tuned checkpoint or a LoRA adapter folder (exactly one of them).")
    base = open_checkpoint(base_path, "base")
    tuned = open_checkpoint(tuned_path, "tuned") if tuned_path is not None else LoraMergedSource(base, Path(adapter_path))
    if adapter_path is not None and pattern == DEFAULT_PATTERN:
        pattern = "^(" + "|".join(re.escape(k) for k in tuned.adapted()) + ")$"
    return analyse_sources(base, tuned, pattern, k_max, randomized, progress)
