"""The models the demo compares, with the hyper-parameters of the reference run scripts.

Hyper-parameters (ACAT-SCUT/CycleNet scripts/CycleNet/*-Input-96/etth*.sh and
lss-1138/SparseTSF scripts/SparseTSF/*/etth*.sh): Adam, batch 256, at most 30 epochs,
early-stopping patience 5, lr schedule "type3" (constant for 3 epochs, then x0.8 per epoch),
lr 0.01 CycleNet/Linear, 0.005 CycleNet/MLP (d_model 512), RevIN on for CycleNet;
SparseTSF lr 0.02 (ETTh1) / 0.03 (ETTh2) for Linear, 0.002 for MLP (d_model 128), no RevIN.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from models.common.errors import InputError
from models.forecasting import backbones
from models.forecasting.cycle import RecurrentCycle
from models.forecasting.forecaster import Forecaster, SeasonalNaive
from models.forecasting.sparsetsf import SparseTSF


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable[[int, int, int, int], nn.Module]  # (L, H, W, C) -> module
    lr: float
    explain: str
    has_cycle: bool = False
    trainable: bool = True
    needs_multiples: bool = False

    def lr_for(self, dataset: str) -> float:
        """SparseTSF/Linear used a larger lr on ETTh2 in its scripts; everything else is fixed."""
        return 0.03 if self.name == "SparseTSF/Linear" and dataset == "ETTh2" else self.lr


def _rcf(backbone: Callable[[int, int], nn.Module], revin: bool) -> Callable[..., nn.Module]:
    return lambda L, H, W, C: Forecaster(backbone(L, H), L, H, RecurrentCycle(W, C), revin=revin)


def _plain(backbone: Callable[[int, int], nn.Module], revin: bool) -> Callable[..., nn.Module]:
    return lambda L, H, W, C: Forecaster(backbone(L, H), L, H, None, revin=revin)


def _seasonal_naive(L: int, H: int, W: int, C: int) -> nn.Module:
    if W > L:
        raise InputError(f"Seasonal naive repeats the last period, so it needs L >= W (L={L}, W={W}).")
    return SeasonalNaive(L, H, W)


SPECS: dict[str, ModelSpec] = {s.name: s for s in (
    ModelSpec("CycleNet/Linear", _rcf(backbones.linear, revin=True), 0.01,
              "Learned cycle Q removed from the input and added to the output; a Linear(L->H) "
              "forecasts the residual. RevIN around it.", has_cycle=True),
    ModelSpec("CycleNet/MLP", _rcf(backbones.mlp, revin=True), 0.005,
              "Same as CycleNet/Linear with a Linear-ReLU-Linear (512 hidden) backbone.", has_cycle=True),
    ModelSpec("Linear", _plain(backbones.linear, revin=True), 0.01,
              "CycleNet/Linear without the cycle (RevIN + Linear, a.k.a. RLinear): the RCF ablation."),
    ModelSpec("DLinear", _plain(backbones.DLinear, revin=False), 0.005,
              "Moving-average trend + remainder, one Linear each (Zeng et al. 2023)."),
    ModelSpec("DLinear+RCF", _rcf(backbones.DLinear, revin=False), 0.005,
              "DLinear with CycleNet's cycle plugged around it: RCF as a plug-in.", has_cycle=True),
    ModelSpec("SparseTSF/Linear", lambda L, H, W, C: Forecaster(SparseTSF(L, H, W), L, H), 0.02,
              "Period-wise downsampling: one shared Linear(L/W -> H/W) for all phases.",
              needs_multiples=True),
    ModelSpec("SparseTSF/MLP", lambda L, H, W, C: Forecaster(SparseTSF(L, H, W, hidden=128), L, H), 0.002,
              "SparseTSF with a Linear-ReLU-Linear (128 hidden) in place of the shared linear map.",
              needs_multiples=True),
    ModelSpec("Seasonal naive", _seasonal_naive, 0.0,
              "Repeats the last W steps: no parameters, no training.", trainable=False),
)}

MODEL_NAMES = list(SPECS)


def spec(name: str) -> ModelSpec:
    if name not in SPECS:
        raise InputError(f"Unknown model '{name}'. Choose from {MODEL_NAMES}.")
    return SPECS[name]


def build(name: str, L: int, H: int, W: int, C: int) -> nn.Module:
    return spec(name).build(L, H, W, C)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# Published test MSE/MAE (scaled, multivariate), keyed (dataset, model, L, H).
# CycleNet: mean of 5 seeds in ACAT-SCUT/CycleNet result.txt. SparseTSF/Linear: the corrected
# (drop_last fixed) ETTh1 MSE from the SparseTSF README's full-results table, as quoted in issue 3.
PUBLISHED: dict[tuple[str, str, int, int], tuple[float, float | None]] = {
    ("ETTh1", "CycleNet/Linear", 96, 96): (0.3785, 0.3915),
    ("ETTh1", "CycleNet/Linear", 96, 192): (0.4266, 0.4195),
    ("ETTh1", "CycleNet/Linear", 96, 336): (0.4642, 0.4393),
    ("ETTh1", "CycleNet/Linear", 96, 720): (0.4619, 0.4609),
    ("ETTh2", "CycleNet/Linear", 96, 96): (0.2859, 0.3353),
    ("ETTh2", "CycleNet/Linear", 96, 192): (0.3730, 0.3917),
    ("ETTh2", "CycleNet/Linear", 96, 336): (0.4218, 0.4332),
    ("ETTh2", "CycleNet/Linear", 96, 720): (0.4540, 0.4583),
    ("ETTh1", "CycleNet/MLP", 96, 96): (0.3752, 0.3953),
    ("ETTh1", "CycleNet/MLP", 96, 192): (0.4367, 0.4280),
    ("ETTh1", "CycleNet/MLP", 96, 336): (0.4968, 0.4553),
    ("ETTh1", "CycleNet/MLP", 96, 720): (0.5205, 0.4842),
    ("ETTh2", "CycleNet/MLP", 96, 96): (0.2981, 0.3449),
    ("ETTh2", "CycleNet/MLP", 96, 192): (0.3726, 0.3962),
    ("ETTh2", "CycleNet/MLP", 96, 336): (0.4313, 0.4395),
    ("ETTh2", "CycleNet/MLP", 96, 720): (0.4510, 0.4585),
    ("ETTh1", "CycleNet/Linear", 720, 96): (0.3794, 0.4032),
    ("ETTh1", "CycleNet/Linear", 720, 192): (0.4161, 0.4257),
    ("ETTh1", "CycleNet/Linear", 720, 336): (0.4473, 0.4451),
    ("ETTh1", "CycleNet/Linear", 720, 720): (0.4778, 0.4835),
    ("ETTh2", "CycleNet/Linear", 720, 96): (0.2719, 0.3377),
    ("ETTh2", "CycleNet/Linear", 720, 192): (0.3328, 0.3803),
    ("ETTh2", "CycleNet/Linear", 720, 336): (0.3629, 0.4087),
    ("ETTh2", "CycleNet/Linear", 720, 720): (0.4156, 0.4493),
    ("ETTh1", "CycleNet/MLP", 720, 96): (0.3854, 0.4129),
    ("ETTh1", "CycleNet/MLP", 720, 192): (0.4249, 0.4383),
    ("ETTh1", "CycleNet/MLP", 720, 336): (0.4610, 0.4633),
    ("ETTh1", "CycleNet/MLP", 720, 720): (0.4870, 0.4872),
    ("ETTh2", "CycleNet/MLP", 720, 96): (0.2937, 0.3527),
    ("ETTh2", "CycleNet/MLP", 720, 192): (0.3600, 0.3956),
    ("ETTh2", "CycleNet/MLP", 720, 336): (0.3924, 0.4239),
    ("ETTh2", "CycleNet/MLP", 720, 720): (0.4254, 0.4514),
    ("ETTh1", "SparseTSF/Linear", 720, 96): (0.362, None),
    ("ETTh1", "SparseTSF/Linear", 720, 192): (0.403, None),
    ("ETTh1", "SparseTSF/Linear", 720, 336): (0.434, None),
    ("ETTh1", "SparseTSF/Linear", 720, 720): (0.426, None),
}


def published(dataset: str, model: str, L: int, H: int) -> tuple[float | None, float | None]:
    return PUBLISHED.get((dataset, model, L, H), (None, None))
