"""Checkpoints as one safetensors file whose metadata carries the model's JSON config.

One file instead of a weights/config pair means a checkpoint can never lose its config.
"""
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from models.common.errors import InputError

CONFIG_KEY = "paperlab_config"


def save_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], config: dict) -> Path:
    """Write tensors plus config; contiguous CPU copies so any device's tensors can be saved."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    save_file(flat, str(path), metadata={CONFIG_KEY: json.dumps(config, sort_keys=True)})
    return path


def save_half(path: str | Path, model: torch.nn.Module, config: dict) -> Path:
    """Save ``model`` with fp16 weights: half the file size, for models that lose nothing audible
    at that precision (the voice models); loading casts them back, so they compute in fp32."""
    return save_checkpoint(path, {k: v.half() for k, v in model.state_dict().items()}, config)


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a checkpoint written by :func:`save_checkpoint`; bad files raise InputError."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Checkpoint not found: {path.name}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(f"{path.name} is not a readable safetensors file ({exc}).") from exc
    return tensors, json.loads(meta.get(CONFIG_KEY, "{}"))


def load_model(path: str | Path, factory: Callable[..., torch.nn.Module], arch_keys: Iterable[str]) -> torch.nn.Module:
    """Rebuild a model from a checkpoint: its architecture from the config's ``arch_keys``, then
    its weights, in eval mode. Every trained model in assets/ loads this one way."""
    tensors, config = load_checkpoint(path)
    missing = [k for k in arch_keys if k not in config]
    if missing:
        raise InputError(f"{Path(path).name} does not describe its architecture (missing {', '.join(missing)}).")
    model = factory(**{k: config[k] for k in arch_keys})
    model.load_state_dict(tensors)
    return model.eval()
