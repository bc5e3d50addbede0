"""Shared pieces of the two training scripts: on-the-fly mixing from cached speech pools and a
wall-clock-limited training loop with best-validation checkpointing.

Why on-the-fly mixing: synthesis costs ~0.1 s per utterance, mixing costs microseconds, so a
cached pool of clean utterances plus fresh noise/speaker/SNR draws at every step gives far more
variety per CPU-second than a fixed pre-mixed set.
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from models.common.audio import resample
from models.common.checkpoint import load_checkpoint, save_checkpoint
from models.speech.data import NOISE_KINDS, SR, make_noise, mix_at_snr, speech_pool

CACHE_DIR = Path("/tmp/paperlab_speech_cache")


def crop(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """A random length-``n`` window of ``x`` (zero-padded at a random offset if shorter)."""
    if x.size >= n:
        start = int(rng.integers(0, x.size - n + 1))
        return x[start:start + n]
    out = np.zeros(n, np.float32)
    start = int(rng.integers(0, n - x.size + 1))
    out[start:start + x.size] = x
    return out


def noisy_batch(pool: list[np.ndarray], batch: int, n: int, rng: np.random.Generator,
                snr_range: tuple[float, float] = (-5.0, 20.0)) -> tuple[torch.Tensor, torch.Tensor]:
    """(noisy, clean) tensors (batch, n); babble is made of other pool utterances (cheap)."""
    noisy, clean = [], []
    for _ in range(batch):
        s = crop(pool[int(rng.integers(len(pool)))], n, rng)
        kind = str(rng.choice(NOISE_KINDS))
        if kind == "babble":
            noise = sum(crop(pool[int(rng.integers(len(pool)))], n, rng) for _ in range(4))
        else:
            noise = make_noise(kind, n, int(rng.integers(1 << 30)))
        x = mix_at_snr(s, noise, float(rng.uniform(*snr_range)))
        gain = float(rng.uniform(0.2, 0.9)) / max(float(np.abs(x).max()), 1e-6)  # level augmentation
        noisy.append(x * gain)
        clean.append(s * gain)
    return torch.from_numpy(np.stack(noisy)), torch.from_numpy(np.stack(clean))


def speed_crop(x: np.ndarray, n: int, rng: np.random.Generator, speed: float) -> np.ndarray:
    """A length-``n`` window of ``x`` played faster or slower by a random factor in 1 +- ``speed``.

    Speed perturbation shifts pitch and formants together, so each pool utterance also yields
    new "speakers" — the separator must generalise to unseen voices, and the pool has few.
    """
    m = round(n * rng.uniform(1 - speed, 1 + speed))
    return resample(crop(x, m, rng), m, n)[:n]


def mixture_batch(pool: list[np.ndarray], batch: int, n: int, rng: np.random.Generator,
                  level_range: tuple[float, float] = (-5.0, 5.0),
                  speed: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(mixture (batch, n), sources (batch, 2, n)) of two different pool utterances, each sped
    up or slowed down by up to ``speed`` (0: unchanged, as for validation)."""
    mixes, refs = [], []
    for _ in range(batch):
        i, j = rng.choice(len(pool), size=2, replace=False)
        if speed > 0:
            s1, s2 = speed_crop(pool[int(i)], n, rng, speed), speed_crop(pool[int(j)], n, rng, speed)
        else:
            s1, s2 = crop(pool[int(i)], n, rng), crop(pool[int(j)], n, rng)
        s2 = s2 * np.sqrt(np.mean(s1 ** 2) / (np.mean(s2 ** 2) + 1e-9)) * 10 ** (rng.uniform(*level_range) / 20)
        src = np.stack([s1, s2])
        src = src * (float(rng.uniform(0.3, 0.9)) / max(float(np.abs(src.sum(0)).max()), 1e-6))
        mixes.append(src.sum(0))
        refs.append(src)
    return torch.from_numpy(np.stack(mixes).astype(np.float32)), torch.from_numpy(np.stack(refs).astype(np.float32))


def train_loop(model: torch.nn.Module, config: dict, step_fn: Callable[[int], torch.Tensor],
               val_fn: Callable[[], float], out: Path, minutes: float, lr: float = 1e-3,
               eval_every: int = 50, resume: bool = False) -> dict:
    """Adam until ``minutes`` of wall-clock have passed; keep the checkpoint with best ``val_fn``.

    ``step_fn(step)`` returns the loss of one batch; ``val_fn()`` returns a score to maximise
    (validation SI-SDR in dB). The learning rate decays by cosine over the time budget.
    ``resume`` continues from the weights in ``out`` (a second session of the same run); the
    checkpoint then records the summed steps and minutes of both sessions.
    """
    done_steps, done_minutes, best = 0, 0.0, -float("inf")
    if resume and out.is_file():
        tensors, saved = load_checkpoint(out)
        model.load_state_dict(tensors)
        done_steps, done_minutes = int(saved.get("steps", 0)), float(saved.get("train_minutes", 0.0))
        best = float(saved.get("val_si_sdr", best))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    start, step, history = time.time(), 0, []
    budget = minutes * 60
    while time.time() - start < budget:
        frac = (time.time() - start) / budget
        for g in opt.param_groups:
            g["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
        model.train()
        loss = step_fn(step)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        if step % eval_every == 0:
            model.eval()
            with torch.no_grad():
                score = float(val_fn())
            row = {"step": done_steps + step, "minutes": round(done_minutes + (time.time() - start) / 60, 2),
                   "loss": round(float(loss.detach()), 3),
                   "val_si_sdr": round(score, 3)}
            history.append(row)
            print(json.dumps(row), flush=True)
            if score > best:
                best = score
                save_checkpoint(out, dict(model.state_dict()), {**config, "steps": row["step"], "val_si_sdr": round(score, 3),
                                                                "train_minutes": row["minutes"]})
    return {"steps": step, "best_val_si_sdr": best, "minutes": (time.time() - start) / 60, "history": history}


def parse_training_args(default_minutes: float, out: Path,
                        extra: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """The command line both speech training scripts share: a wall-clock budget (training stops
    on time, keeping the best validation checkpoint), data pool and batch shape, threads;
    ``extra`` adds a script's own options."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=default_minutes)
    ap.add_argument("--pool", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (lower it to fine-tune with --resume)")
    ap.add_argument("--out", type=Path, default=out)
    ap.add_argument("--resume", action="store_true", help="continue from the weights in --out")
    if extra is not None:
        extra(ap)
    return ap.parse_args()


def prepare_training(args: argparse.Namespace) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Seed, set threads, and build (or read from the cache) the clean-speech train/val pools."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    t0 = time.time()
    train = speech_pool("train", args.pool, SR, CACHE_DIR)
    val = speech_pool("val", 200, SR, CACHE_DIR)
    print(json.dumps({"pool_minutes": round((time.time() - t0) / 60, 2)}), flush=True)
    return train, val
