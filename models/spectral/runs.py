"""The built-in MiniLM fine-tuning runs shipped in assets/spectral/runs (made by scripts/finetune_spectral.py)."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import pandas as pd

from models.common.errors import InputError
from models.spectral.analysis import MatrixSpectrum, load_spectra
from models.spectral.intruders import DEFAULT_EPS, DEFAULT_K
from models.common.progress import Progress, report
from models.spectral.finetune import BUILTIN_RUNS

RUNS_DIR = Path(__file__).resolve().parents[2] / "assets" / "spectral" / "runs"
SHIPPED_ADAPTERS = ("lora_r1", "lora_r8")
"""Runs whose peft adapter folder and head are shipped (the rank-64 adapters are over the 5 MB file limit)."""
LABELS = {r.name: r.label for r in BUILTIN_RUNS}


def head_path(name: str) -> Path:
    """The trained classification head of a run whose adapter is shipped."""
    return RUNS_DIR / f"{name}.head.safetensors"


def available_runs() -> list[str]:
    """Names of the built-in runs whose artefacts are present, in recipe order."""
    return [r.name for r in BUILTIN_RUNS if (RUNS_DIR / f"{r.name}.spectra.safetensors").is_file()
            and (RUNS_DIR / f"{r.name}.json").is_file()]


@functools.cache
def run_spectra(name: str) -> tuple[MatrixSpectrum, ...]:
    """The spectral artefact of a built-in run (loaded once per process)."""
    path = RUNS_DIR / f"{name}.spectra.safetensors"
    if not path.is_file():
        raise InputError(f"The built-in run '{name}' is missing; regenerate it with scripts/finetune_spectral.py.")
    return tuple(load_spectra(path)[0])


@functools.cache
def run_metrics(name: str) -> dict:
    """Recipe, accuracy, forgetting and mitigation results of a built-in run."""
    path = RUNS_DIR / f"{name}.json"
    if not path.is_file():
        raise InputError(f"The built-in run '{name}' is missing; regenerate it with scripts/finetune_spectral.py.")
    return json.loads(path.read_text())


def base_metrics() -> dict:
    """Forgetting measures of pre-trained MiniLM itself (the reference every run is compared with)."""
    path = RUNS_DIR / "base.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def metrics_table(names: list[str], k: int = DEFAULT_K, eps: float = DEFAULT_EPS) -> pd.DataFrame:
    """Accuracy, forgetting and intruders (at k, eps, summed over all matrices) per run, plus the
    pre-trained model, as the page and README show them."""
    rows = []
    base = base_metrics()
    if base:
        rows.append({"run": "Pre-trained MiniLM", "accuracy": None, "drift": 0.0,
                     "topic_1nn": round(base["topic_1nn"], 3), "intruders": 0, "train_s": None})
    for name in names:
        r = run_metrics(name)
        rows.append({"run": LABELS[name], "accuracy": round(r["accuracy"], 3), "drift": round(r["drift"], 4),
                     "topic_1nn": round(r["topic_1nn"], 3),
                     "intruders": sum(s.intruders(k, eps) for s in run_spectra(name)), "train_s": r["train_seconds"]})
    return pd.DataFrame(rows)


def mitigation_table(names: list[str]) -> pd.DataFrame:
    """Accuracy and forgetting after scaling each run's intruders (k = 10, eps = 0.5) by lambda."""
    rows = [{"run": LABELS[n], **row} for n in names for row in run_metrics(n).get("mitigation", [])]
    return pd.DataFrame(rows, columns=["run", "lambda", "intruders", "accuracy", "drift", "topic_1nn"])


RETRAIN_TEST_TWEETS = 300
"""Test tweets scored after a re-run from the page (the shipped runs used 600), to keep it short."""


def retrain(name: str, steps: int, progress: Progress | None = None) -> pd.DataFrame:
    """Fine-tune one built-in recipe again (optionally with fewer steps) and measure it like the script does."""
    from dataclasses import replace

    from models.common.text import fortune_topics, load_minilm, tweets_sentiment
    from models.spectral.analysis import analyse_pair
    from models.spectral.finetune import evaluate, merged_encoder, target_weights, train

    if not 1 <= steps <= 500:
        raise InputError("Choose between 1 and 500 training steps.")
    cfg = replace(next(r for r in BUILTIN_RUNS if r.name == name), steps=steps)
    task, probe = tweets_sentiment(), fortune_topics()
    model = train(cfg, task, lambda f, msg: report(progress, 0.85 * f, msg))
    encoder = merged_encoder(model)
    W0, Wt = target_weights(load_minilm()[1]), target_weights(encoder)
    report(progress, 0.87, "SVD of the 36 tuned matrices")
    spectra = [analyse_pair(n, W0[n], Wt[n]) for n in Wt]
    report(progress, 0.9, f"Scoring {RETRAIN_TEST_TWEETS} test tweets and the forgetting probe")
    scores = evaluate(encoder, model.head, task, probe, RETRAIN_TEST_TWEETS)
    report(progress, 1.0, "Done")
    return pd.DataFrame([{"run": f"{cfg.label} ({steps} steps, re-run)", "accuracy": round(scores["accuracy"], 3),
                          "drift": round(scores["drift"], 4), "topic_1nn": round(scores["topic_1nn"], 3),
                          "intruders": sum(s.intruders() for s in spectra)}])
