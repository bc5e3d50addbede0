"""Train the flow-matching voice converter (StableVC-lite) on parallel TTS speech and write
assets/voice/flow_vc.safetensors.

    python scripts/train_flow_vc.py --minutes 30

Data, made here in a few minutes: train-split fortune sentences, each spoken by the ten voices
of ``PARALLEL_VOICES`` at random rates (``parallel_logmels``). For voices A and B saying the same
sentence, B's frames are DTW-aligned to A's in the content encoder's space (the shipped encoder,
frozen); the network learns to generate B's log-mel frames from A's content features laid out
on B's timeline, given a speaker prompt from a *different* sentence of B. Validation: the
flow-matching loss on val-split sentences with seeded noise and times; the best checkpoint is
kept. Budgeted in CPU minutes, like the other voice scripts.
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
from models.speech.voice.content import content_features
from models.speech.voice.corpus import PARALLEL_VOICES, parallel_logmels
from models.speech.voice.features import MEL
from models.speech.voice.flow_vc import CHECKPOINT, FlowVC, flow_matching_loss, save_flow, speaker_prompt

Item = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # (target log-mel, aligned content, prompt)


def aligned_content(content_a: torch.Tensor, content_b: torch.Tensor) -> torch.Tensor:
    """A's content vectors (T_a, d) laid out on B's timeline: (d, T_b), by DTW in content space."""
    import librosa

    _, path = librosa.sequence.dtw(C=(1.0 - content_a @ content_b.T).numpy(), backtrack=True)
    a_for_b = np.zeros(content_b.shape[0], dtype=np.int64)
    a_for_b[path[:, 1]] = path[:, 0]  # several a frames per b frame: any one says the same sound
    return content_a[torch.from_numpy(a_for_b)].T


def make_items(corpus: list[list[torch.Tensor]], partners: int, rng: np.random.Generator) -> list[Item]:
    """For every sentence and voice B: B's log-mel with ``partners`` other voices' aligned content,
    each with B's prompt taken from another sentence."""
    contents = [[content_features(mel) for mel in mels] for mels in corpus]
    items = []
    for s, mels in enumerate(corpus):
        for b, mel_b in enumerate(mels):
            for a in rng.choice([v for v in range(len(mels)) if v != b], size=partners, replace=False):
                other = int(rng.choice([i for i in range(len(corpus)) if i != s]))
                items.append((mel_b, aligned_content(contents[s][int(a)], contents[s][b]),
                              speaker_prompt(corpus[other][b])))
    return items


def batch(items: list[Item], size: int, frames: int, rng: np.random.Generator) -> Item:
    """``size`` random crops of ``frames`` frames (utterances are longer: 6+ words)."""
    mels, contents, prompts = [], [], []
    for i in rng.choice(len(items), size=size, replace=False):
        mel, content, prompt = items[int(i)]
        start = int(rng.integers(0, max(1, mel.shape[1] - frames)))
        mels.append(mel[:, start:start + frames])
        contents.append(content[:, start:start + frames])
        prompts.append(prompt)
    n = min(m.shape[1] for m in mels)
    return (torch.stack([m[:, :n] for m in mels]), torch.stack([c[:, :n] for c in contents]), torch.stack(prompts))


@torch.no_grad()
def validation_loss(model: FlowVC, items: list[Item]) -> float:
    """Mean flow-matching loss over whole validation utterances, same noise every time."""
    torch.manual_seed(1234)
    model.eval()
    losses = [float(flow_matching_loss(model, model.normalise(mel)[None], content[None], prompt[None]))
              for mel, content, prompt in items]
    model.train()
    return float(np.mean(losses))


def main() -> None:
    parser = budget_parser(__doc__, minutes=30.0, max_wall_minutes=60.0, lr=0.001, out=CHECKPOINT)
    parser.add_argument("--sentences", type=int, default=200, help="train sentences (each in every voice)")
    parser.add_argument("--partners", type=int, default=2, help="source voices per target utterance")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--frames", type=int, default=96, help="frames per crop (1.5 s)")
    args = parser.parse_args()
    rng = start_run(args)
    t0 = time.time()

    corpus = parallel_logmels("train", args.sentences, PARALLEL_VOICES, rng)
    train = make_items(corpus, args.partners, rng)
    val = make_items(parallel_logmels("val", 8, PARALLEL_VOICES, rng), 1, rng)
    every = torch.cat([mel.flatten() for mels in corpus for mel in mels])
    mean, std = float(every.mean()), float(every.std())
    hours = sum(mel.shape[1] for mels in corpus for mel in mels) * MEL.hop / MEL.sr / 3600
    print(json.dumps({"event": "data", "train_items": len(train), "val_items": len(val), "hours": round(hours, 3),
                      "mel_mean": round(mean, 3), "mel_std": round(std, 3), "seconds": round(time.time() - t0, 1)}),
          flush=True)

    model = FlowVC(mel_mean=mean, mel_std=std)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    budget, step, best = CpuBudget(args.minutes, args.max_wall_minutes), 0, math.inf
    while not budget.over():
        budget.cosine_lr(opt, args.lr)
        mel, content, prompt = batch(train, args.batch, args.frames, rng)
        loss = flow_matching_loss(model, model.normalise(mel), content, prompt)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 250 == 0 or budget.over():
            val_loss = validation_loss(model, val)
            if val_loss < best:
                best = val_loss
                save_flow(model, args.out, {"steps": step, "val_loss": round(val_loss, 4),
                                            "train_cpu_minutes": round(budget.cpu_minutes(), 1),
                                            "train_hours_audio": round(hours, 3), "voices": list(PARALLEL_VOICES)})
            print(json.dumps({"step": step, "cpu_minutes": round(budget.cpu_minutes(), 1),
                              "wall_minutes": round(budget.wall_minutes(), 1),
                              "loss": round(loss.item(), 4), "val_loss": round(val_loss, 4), "best": round(best, 4)}),
                  flush=True)
    print(json.dumps({"event": "done", "steps": step, "best_val_loss": round(best, 4),
                      "parameters": sum(p.numel() for p in model.parameters()),
                      "total_minutes": round((time.time() - t0) / 60, 1),
                      "checkpoint_mb": round(args.out.stat().st_size / 2**20, 2) if args.out.exists() else None}),
          flush=True)


if __name__ == "__main__":
    main()
