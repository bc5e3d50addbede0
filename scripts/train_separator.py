"""Train PaperLab TIGER-lite on generated 2-speaker mixtures; writes assets/speech/tiger_lite.safetensors.

    python scripts/train_separator.py --minutes 35
    python scripts/train_separator.py --minutes 130 --resume --blocks 6 --speed 0.1 --lr 6e-4 --threads 2
    python scripts/train_separator.py --minutes 125 --resume --blocks 9 --speed 0.1 --lr 5e-4 --threads 2

Data: the cached pool of clean train utterances (models.speech.data; voices and sentences
disjoint from validation/test), two different utterances per mixture at -5..5 dB relative
level, optionally speed-perturbed, mixed on the fly. Loss: negative utterance-level
permutation-invariant SI-SDR. ``--resume --blocks N`` with N above the saved model's depth grows
it first (TigerLite.grow: new blocks start as the identity, so validation starts where it was).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.common.checkpoint import load_checkpoint, save_checkpoint
from models.speech.data import SR
from models.speech.losses import pit_si_sdr, si_sdr
from models.speech.separate.tiger_net import TigerLite
from models.speech.training import parse_training_args, prepare_training, mixture_batch, train_loop

OUT = Path(__file__).resolve().parents[1] / "assets" / "speech" / "tiger_lite.safetensors"
CONFIG = {"n_fft": 512, "hop": 256, "features": 32, "blocks": 3, "speakers": 2, "mask": "softmax", "compress": 0.3}


def separator_options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--blocks", type=int, default=CONFIG["blocks"], help="interleaved blocks (grows a resumed model)")
    ap.add_argument("--speed", type=float, default=0.0, help="speed perturbation of training sources, e.g. 0.1")


def grow_checkpoint(path: Path, blocks: int) -> None:
    """Rewrite a saved separator with ``blocks`` blocks, keeping its output, steps and score."""
    tensors, saved = load_checkpoint(path)
    if saved["blocks"] >= blocks:
        return
    model = TigerLite(**{k: saved[k] for k in CONFIG})
    model.load_state_dict(tensors)
    model.grow(blocks)
    save_checkpoint(path, dict(model.state_dict()), {**saved, "blocks": blocks})
    print(json.dumps({"grown_to_blocks": blocks, "from": saved["blocks"]}), flush=True)


def main() -> None:
    args = parse_training_args(default_minutes=35, out=OUT, extra=separator_options)
    config = {**CONFIG, "blocks": args.blocks}
    if args.resume and args.out.is_file():
        grow_checkpoint(args.out, args.blocks)
    train, val = prepare_training(args)
    n = int(args.seconds * SR)
    rng = np.random.default_rng(int(args.resume))  # fresh batches when resuming
    val_mix, val_ref = mixture_batch(val, 32, 3 * SR, np.random.default_rng(1))
    val_input = si_sdr(val_mix.unsqueeze(1).expand_as(val_ref), val_ref).mean()
    model = TigerLite(**config)
    print(json.dumps({"params": sum(p.numel() for p in model.parameters()),
                      "val_input_si_sdr": round(float(val_input), 3)}), flush=True)

    def step(_: int) -> torch.Tensor:
        mix, ref = mixture_batch(train, args.batch, n, rng, speed=args.speed)
        return -pit_si_sdr(model(mix), ref)[0].mean()

    def validate() -> float:
        return float(torch.cat([pit_si_sdr(model(val_mix[i:i + 8]), val_ref[i:i + 8])[0]
                                for i in range(0, 32, 8)]).mean())

    result = train_loop(model, {**config, "sr": SR}, step, validate, args.out, args.minutes, lr=args.lr,
                        eval_every=50, resume=args.resume)
    print(json.dumps({k: v for k, v in result.items() if k != "history"}), flush=True)


if __name__ == "__main__":
    main()
