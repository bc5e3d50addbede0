"""Train PaperLab TIGER-lite on generated 2-speaker mixtures; writes assets/speech/tiger_lite.safetensors.

    python scripts/train_separator.py --minutes 35

Data: the cached pool of clean train utterances (models.speech.data; voices and sentences
disjoint from validation/test), two different utterances per mixture at -5..5 dB relative
level, mixed on the fly. Loss: negative utterance-level permutation-invariant SI-SDR.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.speech.data import SR
from models.speech.losses import pit_si_sdr, si_sdr
from models.speech.separate.tiger_net import TigerLite
from models.speech.training import parse_training_args, prepare_training, mixture_batch, train_loop

OUT = Path(__file__).resolve().parents[1] / "assets" / "speech" / "tiger_lite.safetensors"
CONFIG = {"n_fft": 512, "hop": 256, "features": 32, "blocks": 3, "speakers": 2, "mask": "softmax", "compress": 0.3}


def main() -> None:
    args = parse_training_args(default_minutes=35, out=OUT)
    train, val = prepare_training(args)
    n = int(args.seconds * SR)
    rng = np.random.default_rng(int(args.resume))  # fresh batches when resuming
    val_mix, val_ref = mixture_batch(val, 32, 3 * SR, np.random.default_rng(1))
    val_input = si_sdr(val_mix.unsqueeze(1).expand_as(val_ref), val_ref).mean()
    model = TigerLite(**CONFIG)
    print(json.dumps({"params": sum(p.numel() for p in model.parameters()),
                      "val_input_si_sdr": round(float(val_input), 3)}), flush=True)

    def step(_: int) -> torch.Tensor:
        mix, ref = mixture_batch(train, args.batch, n, rng)
        return -pit_si_sdr(model(mix), ref)[0].mean()

    def validate() -> float:
        return float(torch.cat([pit_si_sdr(model(val_mix[i:i + 8]), val_ref[i:i + 8])[0]
                                for i in range(0, 32, 8)]).mean())

    result = train_loop(model, {**CONFIG, "sr": SR}, step, validate, args.out, args.minutes, lr=args.lr,
                        eval_every=50, resume=args.resume)
    print(json.dumps({k: v for k, v in result.items() if k != "history"}), flush=True)


if __name__ == "__main__":
    main()
