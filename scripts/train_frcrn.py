"""Train PaperLab FRCRN on generated noisy speech; writes assets/speech/frcrn_lite.safetensors.

    python scripts/train_frcrn.py --minutes 32

Data: cached pools of clean train/val utterances (models.speech.data, disjoint voices and
sentences), mixed on the fly with white/pink/brown/hum/babble noise at -5..20 dB SNR.
Loss (FRCRN Sec. 3): -SI-SDR(y, s) + 10 * MSE between power-compressed complex spectra.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.speech.data import SR
from models.speech.enhance.frcrn_net import FRCRNLite
from models.speech.losses import si_sdr
from models.speech.stft import stft
from models.speech.training import parse_training_args, prepare_training, noisy_batch, train_loop

OUT = Path(__file__).resolve().parents[1] / "assets" / "speech" / "frcrn_lite.safetensors"
CONFIG = {"n_fft": 320, "hop": 160, "channels": [8, 16, 32], "fsmn_kernel": 7, "time_kernel": 5,
          "time_layers": 3, "compress": 0.3}


def compressed(spec: torch.Tensor, power: float = 0.3) -> torch.Tensor:
    return spec * spec.abs().clamp_min(1e-8).pow(power - 1)


def main() -> None:
    args = parse_training_args(default_minutes=32, out=OUT)
    train, val = prepare_training(args)
    n = int(args.seconds * SR)
    rng = np.random.default_rng(int(args.resume))  # fresh batches when resuming
    val_noisy, val_clean = noisy_batch(val, 48, 3 * SR, np.random.default_rng(1))
    model = FRCRNLite(**{**CONFIG, "channels": tuple(CONFIG["channels"])})

    def step(_: int) -> torch.Tensor:
        noisy, clean = noisy_batch(train, args.batch, n, rng)
        est, _ = model(noisy)
        tf = (compressed(stft(est, CONFIG["n_fft"], CONFIG["hop"]))
              - compressed(stft(clean, CONFIG["n_fft"], CONFIG["hop"]))).abs().pow(2).mean()
        return -si_sdr(est, clean).mean() + 10 * tf

    def validate() -> float:
        return float(torch.cat([si_sdr(model(val_noisy[i:i + 16])[0], val_clean[i:i + 16])
                                for i in range(0, 48, 16)]).mean())

    result = train_loop(model, {**CONFIG, "sr": SR}, step, validate, args.out, args.minutes, lr=args.lr,
                        resume=args.resume)
    print(json.dumps({k: v for k, v in result.items() if k != "history"}), flush=True)


if __name__ == "__main__":
    main()
