"""Train the iSTFTNet-style vocoder on the offline corpus and write assets/voice/istftnet.safetensors.

    python scripts/train_vocoder.py --minutes 30

Capped by CPU time rather than steps or wall time because the machine is shared: the same
budget then buys the same training however busy the other cores are (a wall-clock cap guards
against runaway runs). The learning rate follows a cosine over the budget, and the checkpoint
with the best validation mel distance is kept. One thread by default.
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
from models.common.checkpoint import load_checkpoint
from models.speech.data import make_noise, mix_at_snr, reverberate
from models.speech.voice.corpus import EVAL_VOICES, TRAIN_VOICES, speak_corpus
from models.speech.voice.features import MEL, log_mel
from models.speech.voice.istftnet import CHECKPOINT, ISTFTVocoder, parameter_count, save_vocoder, vocoder_loss


def roomify(piece: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A short room reverb and/or a noise floor at 15-45 dB SNR: TTS audio is anechoic and
    noiseless, real recordings are neither, and the vocoder must copy both."""
    seed = int(rng.integers(1 << 30))
    if rng.random() < 0.5:
        piece = reverberate(piece, float(rng.uniform(0.05, 0.3)), seed)
    if rng.random() < 0.7:
        noise = make_noise(str(rng.choice(("white", "pink", "brown", "hum"))), len(piece), seed)
        piece = mix_at_snr(piece, noise, float(rng.uniform(15, 45)))
    return piece


def random_batch(clips: list[np.ndarray], rng: np.random.Generator, batch: int, samples: int,
                 weights: np.ndarray | None = None, room_prob: float = 0.0) -> torch.Tensor:
    """Random crops (clips drawn with probability ``weights``) with a random gain of -12..0 dB,
    so the vocoder sees many loudness levels; a share ``room_prob`` goes through :func:`roomify`."""
    out = np.zeros((batch, samples), dtype=np.float32)
    for b in range(batch):
        clip = clips[rng.choice(len(clips), p=weights)]
        start = rng.integers(max(1, len(clip) - samples))
        piece = clip[start:start + samples]
        if rng.random() < room_prob:
            piece = roomify(piece, rng)
        out[b, : len(piece)] = piece * 10 ** (rng.uniform(-12, 0) / 20)
    return torch.from_numpy(out)


@torch.no_grad()
def validate(model: ISTFTVocoder, clips: list[np.ndarray]) -> float:
    """Mean L1 log-mel distance between each clip and its vocoded mel."""
    model.eval()
    dists = []
    for clip in clips:
        mel = log_mel(clip)
        wav = model(mel[None])[0]
        n = min(mel.shape[-1], log_mel(wav).shape[-1])
        dists.append(float((log_mel(wav)[:, :n] - mel[:, :n]).abs().mean()))
    model.train()
    return float(np.mean(dists))


def main() -> None:
    parser = budget_parser(__doc__, minutes=30.0, max_wall_minutes=90.0, lr=0.001, out=CHECKPOINT)
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--per-voice", type=int, default=90, help="training sentences per voice")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--frames", type=int, default=32, help="crop length in mel frames")
    parser.add_argument("--mel-weight", type=float, default=10.0, help="weight of the mel L1 loss")
    parser.add_argument("--flite-weight", type=float, default=1.0,
                        help="sampling weight of flite clips (its voices are built from real recordings) vs espeak-ng")
    parser.add_argument("--room-prob", type=float, default=0.0, help="share of crops given reverb and/or a noise floor")
    parser.add_argument("--init", type=Path, default=None, help="continue from this checkpoint (fine-tuning)")
    args = parser.parse_args()
    rng = start_run(args)
    t0 = time.time()

    utterances = speak_corpus("train", TRAIN_VOICES, args.per_voice)
    train = [u.audio for u in utterances]
    weights = np.array([args.flite_weight if u.voice.startswith("flite") else 1.0 for u in utterances])
    weights /= weights.sum()
    val = [u.audio for u in speak_corpus("val", EVAL_VOICES, 5)]
    hours = sum(len(a) for a in train) / MEL.sr / 3600
    print(json.dumps({"event": "data", "train_clips": len(train), "train_hours": round(hours, 3),
                      "val_clips": len(val), "seconds": round(time.time() - t0, 1)}), flush=True)

    model = ISTFTVocoder()
    history = []
    if args.init is not None:  # continue training: keep the earlier run's record in the new checkpoint
        tensors, config = load_checkpoint(args.init)
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
        history = [*config.get("history", []), {k: config.get(k) for k in ("steps", "train_cpu_minutes", "mel_weight")}]
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.8, 0.99))
    budget, step, best = CpuBudget(args.minutes, args.max_wall_minutes), 0, math.inf
    samples = args.frames * MEL.hop

    def out_of_time() -> bool:
        return budget.over() or (args.max_steps is not None and step >= args.max_steps)

    while not out_of_time():
        budget.cosine_lr(opt, args.lr)
        audio = random_batch(train, rng, args.batch, samples, weights, args.room_prob)
        loss, parts = vocoder_loss(model, log_mel(audio), audio, args.mel_weight)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 250 == 0 or out_of_time():
            dist = validate(model, val)
            if dist < best:
                best = dist
                save_vocoder(model, args.out, {"steps": step, "val_mel_l1": round(dist, 4),
                                               "train_cpu_minutes": round(budget.cpu_minutes(), 1),
                                               "train_hours_audio": round(hours, 3), "mel_weight": args.mel_weight,
                                               "flite_weight": args.flite_weight, "room_prob": args.room_prob,
                                               "history": history})
            losses = {k: round(v, 4) for k, v in parts.items()}
            print(json.dumps({"step": step, "cpu_minutes": round(budget.cpu_minutes(), 1),
                              "wall_minutes": round(budget.wall_minutes(), 1), **losses,
                              "val_mel_l1": round(dist, 4), "best": round(best, 4)}), flush=True)
    size_mb = round(args.out.stat().st_size / 2**20, 2) if args.out.exists() else None
    print(json.dumps({"event": "done", "steps": step, "best_val_mel_l1": round(best, 4),
                      "parameters": parameter_count(model), "total_minutes": round((time.time() - t0) / 60, 1),
                      "checkpoint_mb": size_mb}), flush=True)


if __name__ == "__main__":
    main()
