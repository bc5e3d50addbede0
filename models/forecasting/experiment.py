"""One (model, data, L, H, W, seed) run: build, train (or load), evaluate, save/load checkpoints.

The benchmark, the training script and both pages go through here, so a number in the README
and a number in the page come from the same code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from models.common.checkpoint import load_checkpoint, save_checkpoint
from models.common.errors import InputError
from models.common.progress import Progress
from models.forecasting import backbones, registry, train
from models.forecasting.cycle import RecurrentCycle, from_reference
from models.forecasting.forecaster import Forecaster
from models.forecasting.data import Splits
from models.forecasting.sparsetsf import check_multiples


@dataclass
class Trained:
    """A fitted model plus everything the results table shows about it."""

    name: str
    model: nn.Module
    config: dict  # name, dataset, channels, L, H, W, seed: enough to rebuild the module
    metrics: dict = field(default_factory=dict)  # test mse/mae, params, train_seconds, epochs

    @property
    def has_cycle(self) -> bool:
        return getattr(self.model, "cycle", None) is not None


def check_config(names: list[str], L: int, H: int, W: int) -> None:
    """Refuse a configuration before any training starts, with the fix in the message."""
    if not names:
        raise InputError("Pick at least one model to compare.")
    if any(registry.spec(n).needs_multiples for n in names):
        check_multiples(L, H, W)


def run(name: str, splits: Splits, dataset: str, channels: list[str], seed: int = 2024,
        progress: Progress | None = None, epochs: int = train.EPOCHS) -> Trained:
    """Build and train one model with the reference protocol, then score it on the test set."""
    spec = registry.spec(name)
    L, H, W = splits.L, splits.H, splits.W
    train.seed_everything(seed)  # before building: the initial weights depend on the seed too
    model = spec.build(L, H, W, len(channels))
    config = {"name": name, "dataset": dataset, "channels": channels, "L": L, "H": H, "W": W, "seed": seed}
    fitted = None
    if spec.trainable:
        fitted = train.fit(model, splits, spec.lr_for(dataset), seed=seed, epochs=epochs, progress=progress,
                           label=name)
    return _score(Trained(name, model, config), splits, fitted)


def _score(trained: Trained, splits: Splits, fitted: train.FitResult | None) -> Trained:
    metrics = train.evaluate(trained.model, splits, "test")
    metrics["params"] = registry.count_parameters(trained.model)
    metrics["train_seconds"] = round(fitted.seconds, 2) if fitted else 0.0
    metrics["train_cpu_seconds"] = round(fitted.cpu_seconds, 2) if fitted else 0.0
    metrics["epochs"] = fitted.epochs if fitted else 0
    trained.metrics = metrics
    return trained


def save(trained: Trained, path: str | Path) -> Path:
    """Safetensors weights + JSON config (with the training-time metrics for reference)."""
    return save_checkpoint(path, trained.model.state_dict(), {**trained.config, "train_metrics": trained.metrics})


def load(path: str | Path, splits: Splits | None = None) -> Trained:
    """Rebuild a saved model; with ``splits`` its test metrics are recomputed on them."""
    tensors, config = load_checkpoint(path)
    try:
        model = registry.build(config["name"], config["L"], config["H"], config["W"], len(config["channels"]))
        model.load_state_dict(tensors)
    except (KeyError, RuntimeError) as exc:
        raise InputError(f"{Path(path).name} is not a forecasting checkpoint of this demo ({exc}).") from None
    model.eval()
    trained = Trained(config["name"], model, config, dict(config.get("train_metrics", {})))
    if splits is not None:
        trained.metrics.update(train.evaluate(model, splits, "test"))
    return trained


def read_reference(path: str | Path) -> dict[str, torch.Tensor]:
    """The state_dict in a reference CycleNet ``checkpoint.pth`` (or a safetensors copy of it).

    ``weights_only=True``: a .pth is a pickle, and only tensors may come out of a user's file.
    """
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch/safetensors raise many types for foreign files
        raise InputError(f"{path.name} is not a readable CycleNet checkpoint ({type(exc).__name__}).") from None


def load_reference(state_dict: dict[str, torch.Tensor], L: int, H: int, channels: list[str],
                   first_row_phase: int = 0, dataset: str = "") -> Trained:
    """A model trained by ACAT-SCUT/CycleNet (its state_dict keys), with Q rotated to true phase."""
    ours = from_reference(state_dict, L, first_row_phase)
    W = ours["cycle.data"].shape[0]
    is_mlp = "backbone.net.0.weight" in ours
    name = "CycleNet/MLP" if is_mlp else "CycleNet/Linear"
    # the reference's d_model is a run option, so the hidden width comes from the weights
    backbone = backbones.mlp(L, H, ours["backbone.net.0.weight"].shape[0]) if is_mlp else backbones.linear(L, H)
    model = Forecaster(backbone, L, H, RecurrentCycle(W, len(channels)), revin=True)
    try:
        model.load_state_dict(ours)
    except RuntimeError as exc:
        raise InputError(f"The CycleNet checkpoint does not fit L={L}, H={H} and {len(channels)} "
                         f"channels ({exc}).") from None
    model.eval()
    config = {"name": name, "dataset": dataset, "channels": channels, "L": L, "H": H, "W": W,
              "seed": None, "source": "reference CycleNet checkpoint"}
    return Trained(name, model, config)

