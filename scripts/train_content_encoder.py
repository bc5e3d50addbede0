"""Train the content encoder (kNN-VC's matching space) on parallel TTS speech and write
assets/voice/content_encoder.safetensors.

    python scripts/train_content_encoder.py --minutes 8

Data, made here in a minute: train-split fortune sentences, each spoken by every voice of
``VOICES`` at a random speaking rate (and, for espeak-ng, a random pitch), so one sentence
exists in many voices and tempos. Pairs of voices saying the same sentence are aligned by DTW
on mean-normalised cepstra; the encoder learns to map aligned frames together (InfoNCE).
Validation: frame retrieval on val-split sentences (the nearest frame of the other voice must
lie within +-2 frames of the DTW-aligned one), reported for the cepstral baseline too; the
checkpoint with the best retrieval is kept. Capped by CPU minutes, like train_vocoder.py.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.common.budget import CpuBudget, budget_parser, start_run
from models.speech.voice.content import (CHECKPOINT, ContentEncoder, alignment_pairs, cepstral_features, info_nce,
                                         retrieval_accuracy, save_encoder)
from models.speech.voice.corpus import PARALLEL_VOICES as VOICES
from models.speech.voice.corpus import parallel_logmels
from models.speech.voice.features import MEL

def aligned_pairs(corpus: list[list[torch.Tensor]], partners: int,
                  rng: np.random.Generator) -> list[tuple[torch.Tensor, torch.Tensor, np.ndarray]]:
    """(mel_a, mel_b, aligned frame pairs) for each voice and ``partners`` other voices of the same sentence."""
    out = []
    for mels in corpus:
        for a in range(len(mels)):
            for b in rng.choice([v for v in range(len(mels)) if v != a], size=partners, replace=False):
                out.append((mels[a], mels[int(b)], alignment_pairs(mels[a], mels[int(b)])))
    return out


def main() -> None:
    parser = budget_parser(__doc__, minutes=8.0, max_wall_minutes=40.0, lr=0.002, out=CHECKPOINT)
    parser.add_argument("--sentences", type=int, default=120, help="train sentences (each in every voice)")
    parser.add_argument("--partners", type=int, default=3, help="aligned partner voices per utterance")
    parser.add_argument("--batch", type=int, default=8, help="utterance pairs per step")
    parser.add_argument("--frames", type=int, default=32, help="aligned frame pairs drawn per utterance pair")
    parser.add_argument("--temperature", type=float, default=0.1)
    args = parser.parse_args()
    rng = start_run(args)
    t0 = time.time()

    train = aligned_pairs(parallel_logmels("train", args.sentences, VOICES, rng), args.partners, rng)
    val = aligned_pairs(parallel_logmels("val", 12, VOICES, rng), 1, rng)
    hours = sum(m.shape[1] for m, _, _ in train) * MEL.hop / MEL.sr / 3600 / args.partners
    baseline = retrieval_accuracy(cepstral_features, val)
    print(json.dumps({"event": "data", "train_pairs": len(train), "train_hours": round(hours, 3),
                      "val_pairs": len(val), "val_retrieval_cepstra": round(baseline, 4),
                      "seconds": round(time.time() - t0, 1)}), flush=True)

    model = ContentEncoder()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    budget, step, best = CpuBudget(args.minutes, args.max_wall_minutes), 0, -math.inf
    while not budget.over():
        budget.cosine_lr(opt, args.lr)
        za, zb = [], []
        for i in rng.choice(len(train), size=args.batch, replace=False):
            mel_a, mel_b, path = train[int(i)]
            rows = path[rng.choice(len(path), size=min(args.frames, len(path)), replace=False)]
            za.append(model(mel_a[None])[0][rows[:, 0]])
            zb.append(model(mel_b[None])[0][rows[:, 1]])
        loss = info_nce(torch.cat(za), torch.cat(zb), args.temperature)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 200 == 0 or budget.over():
            model.eval()
            acc = retrieval_accuracy(lambda m: model(m[None])[0], val)
            model.train()
            if acc > best:
                best = acc
                save_encoder(model, args.out, {"steps": step, "val_retrieval": round(acc, 4),
                                               "val_retrieval_cepstra": round(baseline, 4),
                                               "train_cpu_minutes": round(budget.cpu_minutes(), 1),
                                               "train_hours_audio": round(hours, 3), "voices": list(VOICES)})
            print(json.dumps({"step": step, "cpu_minutes": round(budget.cpu_minutes(), 1),
                              "wall_minutes": round(budget.wall_minutes(), 1),
                              "loss": round(loss.item(), 4), "val_retrieval": round(acc, 4),
                              "best": round(best, 4)}), flush=True)
    size_mb = round(args.out.stat().st_size / 2**20, 2) if args.out.exists() else None
    print(json.dumps({"event": "done", "steps": step, "best_val_retrieval": round(best, 4),
                      "val_retrieval_cepstra": round(baseline, 4),
                      "parameters": sum(p.numel() for p in model.parameters()),
                      "total_minutes": round((time.time() - t0) / 60, 1), "checkpoint_mb": size_mb}), flush=True)


if __name__ == "__main__":
    main()
