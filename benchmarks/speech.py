"""Speech benchmark: enhancement engines and the separator on held-out data; prints JSON lines
and writes benchmarks/results/speech.md.

    python benchmarks/speech.py                          # all tasks, 100 generated mixtures each
    python benchmarks/speech.py --tasks separation       # one task; other tasks' stored rows are kept
    python benchmarks/speech.py --n 10 --out /tmp/x.md   # quick look

Rows are stored in benchmarks/results/speech.jsonl (one line per result, replaced per task) and
the Markdown table is rebuilt from all stored rows, so tasks can run at different times or in
parallel processes (rtf, enhancement = generated set, real = recorded clips, separation).

Enhancement: (1) the generated test split (voices and sentences never seen in training; noise
white/pink/brown/babble/hum; SNR uniform -5..20 dB), (2) the real recorded speech clips shipped
in the gradio wheel mixed with white, pink and babble noise at 0, 5 and 10 dB.
Separation: held-out 2-speaker mixtures (4 s, -5..5 dB), SI-SDRi with 1 pass and with the engine's shift
averaging (its pass count chosen on validation mixtures: task `shifts`); seven 60 s mixtures checked for
speaker swaps between chunks. RTF: a 10 s clip, median of 3, with torch on 1 and on 2 threads
(on a machine shared with other jobs, 2 threads can be much slower than 1: oversubscription).
"""
from __future__ import annotations

import argparse
import functools
import itertools
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.speech import data, metrics  # noqa: E402
from models.speech.enhance import ENGINES  # noqa: E402
from models.speech.separate import tiger  # noqa: E402
from models.speech.separate.chunking import CHUNK_S, OVERLAP_S, best_order  # noqa: E402

SR = 16000
RESULTS = ROOT / "benchmarks" / "results" / "speech.md"
STORE = ROOT / "benchmarks" / "results" / "speech.jsonl"
SEPARATOR = "PaperLab TIGER-lite (separation)"
COLUMNS = ("si_sdr", "pesq", "stoi", "dnsmos_ovrl")


def emit(row: dict) -> dict:
    print(json.dumps(row), flush=True)
    return row


def score(est: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    return {**metrics.reference_metrics(est, clean), "dnsmos_ovrl": metrics.dnsmos(est)["dnsmos_ovrl"]}


def _score_case(spec: tuple) -> dict[str, dict[str, float]]:
    """Build one (noisy, clean) case from its spec and score the input and every engine on it."""
    noisy, clean = generated_case(spec[1]) if spec[0] == "generated" else real_case(*spec[1:])
    return {"Input (noisy)": score(noisy, clean), **{name: score(fn(noisy, SR), clean) for name, fn in ENGINES.items()}}


def _means(per: dict[str, list[dict]], dataset: str) -> list[dict]:
    return [{"task": "enhancement", "dataset": dataset, "engine": name, "n": len(rows),
             **{k: round(float(np.nanmean([r[k] for r in rows])), 3) for k in COLUMNS}} for name, rows in per.items()]


def evaluate_enhancement(specs: list[tuple], dataset: str, workers: int,
                         partial: Callable[[list[dict]], None] | None = None) -> list[dict]:
    """Mean metrics per engine (and for the unprocessed input) over the cases in ``specs``.

    Cases are independent, so ``workers`` forked processes (1 torch thread each) share them.
    Every 5 cases the means so far go to ``partial`` (stored with their n), so a run cut short
    on a busy machine still leaves honest numbers behind.
    """
    per: dict[str, list[dict]] = {}
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for i, result in enumerate(pool.imap_unordered(_score_case, specs)):
            for name, row in result.items():
                per.setdefault(name, []).append(row)
            if partial is not None and (i + 1) % 5 == 0:
                partial(_means(per, dataset))
                print(json.dumps({"progress": dataset, "done": i + 1, "of": len(specs)}), file=sys.stderr, flush=True)
    return [emit(row) for row in _means(per, dataset)]


def generated_case(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Held-out test split; the noise kind cycles so every kind gets n/5 cases."""
    ex = data.noisy_example(seed, "test", SR, noise_kind=data.NOISE_KINDS[seed % len(data.NOISE_KINDS)])
    return ex["noisy"], ex["clean"]


REAL_SPECS = [("real", k, kind, snr) for k in range(len(data.GRADIO_SPEECH))
              for kind in ("white", "pink", "babble") for snr in (0.0, 5.0, 10.0)]


REAL_DATASET = "real speech (gradio clips) + white/pink/babble at 0/5/10 dB"


def reference_quality() -> dict:
    """DNSMOS of the recordings used as 'clean' references: they carry their own background,
    which an engine that removes it is charged for in SI-SDR/PESQ/STOI."""
    scores = [metrics.dnsmos(clip) for clip in data.real_speech_clips(SR).values()]
    return emit({"task": "reference_quality", "dataset": REAL_DATASET, "clips": len(scores),
                 **{k: round(float(np.mean([s[k] for s in scores])), 2) for k in ("dnsmos_ovrl", "dnsmos_bak")}})


def real_case(k: int, kind: str, snr: float) -> tuple[np.ndarray, np.ndarray]:
    """Recorded clip k of the gradio wheel with ``kind`` noise at ``snr`` dB."""
    clean = list(data.real_speech_clips(SR).values())[k]
    noisy = data.mix_at_snr(clean, data.make_noise(kind, clean.size, seed=100 + k, split="test"), snr)
    scale = min(1.0, 0.9 / float(np.abs(noisy).max()))
    return noisy * scale, clean * scale


def rtf_rows(engines: dict) -> list[dict]:
    """Median-of-3 real-time factor on a 10 s clip, torch on 1 and on 2 threads."""
    clip = data.noisy_example(0, "test", SR, seconds=10.0, snr_db=5.0, noise_kind="pink")["noisy"]
    rows = []
    for name, fn in engines.items():
        fn(clip[:SR], SR)  # warm-up: model loading is not part of the RTF
        row = {"task": "rtf", "engine": name}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            times = [metrics.timed(fn, clip, SR, seconds_of_audio=10.0)[2] for _ in range(3)]
            row[f"rtf_{threads}t"] = round(float(np.median(times)), 3)
        rows.append(emit(row))
    torch.set_num_threads(1)
    return rows


def separation_rows(n: int, split: str = "test", shifts: int = tiger.SHIFTS) -> list[dict]:
    """Mean SI-SDR improvement over ``n`` generated 2-speaker mixtures of ``split``."""
    gains, outs = [], []
    for seed in range(n):
        ex = data.two_speaker_example(seed, split, SR, seconds=4.0)
        est = tiger.separate(ex["mixture"], SR, shifts=shifts)
        est = est[list(best_order(ex["sources"], est))]
        sdr = [metrics.si_sdr(e, r) for e, r in zip(est, ex["sources"])]
        base = [metrics.si_sdr(ex["mixture"], r) for r in ex["sources"]]
        gains.append(np.mean(np.array(sdr) - np.array(base)))
        outs.append(np.mean(sdr))
    task = "separation" if split == "test" else "separation_shifts"
    return [emit({"task": task, "dataset": f"generated {split} split, 4 s, -5..5 dB", "n": n, "shifts": shifts,
                  "si_sdri": round(float(np.mean(gains)), 2), "si_sdr": round(float(np.mean(outs)), 2),
                  "si_sdri_median": round(float(np.median(gains)), 2)})]


SWAP_SEEDS = (*range(6), 1234)


def swap_check(seconds: float = 60.0) -> dict:
    """Separate long test mixtures; in each 4 s window, does estimate 1 still match speaker 1?

    Several mixtures, because a swap depends on where each talker starts relative to the chunks."""
    win, swaps, windows = 4 * SR, 0, 0
    for seed in SWAP_SEEDS:
        ex = data.two_speaker_example(seed, "test", SR, seconds=seconds)
        est = tiger.separate(ex["mixture"], SR)
        orders = [best_order(ex["sources"][:, start:start + win], est[:, start:start + win])
                  for start in range(0, ex["mixture"].size - win + 1, win)]
        swaps += sum(a != b for a, b in itertools.pairwise(orders))
        windows += len(orders)
    return emit({"task": "long_mixture", "seconds": seconds, "mixtures": len(SWAP_SEEDS), "windows": windows,
                 "speaker_swaps": int(swaps)})


def markdown(rows: list[dict]) -> str:
    """The README tables, rebuilt from every stored row."""
    enh = [r for r in rows if r["task"] == "enhancement"]
    rtf_of = {r["engine"]: f"{r['rtf_1t']:.3f} / {r['rtf_2t']:.3f}" for r in rows if r["task"] == "rtf"}
    runs = [r for r in rows if r["task"] == "run"]
    lines = ["# Speech benchmark", "", "Produced by `python benchmarks/speech.py` on this machine (2 CPU cores shared with "
             "other jobs; load average during each run is given below).",
             "RTF = processing time / audio duration on a 10 s clip, median of 3, torch on 1 / 2 threads.", ""]
    lines += [f"- task `{r['tasks']}` (n = {r['n']}): {r['minutes']} min, load average at the end {r['load']}"
              for r in runs] + [""]
    for dataset in dict.fromkeys(r["dataset"] for r in enh):
        ds = [r for r in enh if r["dataset"] == dataset]
        lines += [f"## Enhancement: {dataset} (n = {ds[0]['n']})", "",
                  "| engine | SI-SDR (dB) | PESQ-WB | STOI | DNSMOS OVRL | RTF (1 / 2 threads) |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {r['engine']} | {r['si_sdr']:.2f} | {r['pesq']:.2f} | {r['stoi']:.3f} | {r['dnsmos_ovrl']:.2f} | "
                  f"{rtf_of.get(r['engine'], '-')} |" for r in ds]
        base = next(r for r in ds if r["engine"] == "Input (noisy)")
        dfn = next(r for r in ds if r["engine"] == "DeepFilterNet3")
        ours = next(r for r in ds if r["engine"] == "PaperLab FRCRN")
        ours_gain, dfn_gain = ours["pesq"] - base["pesq"], dfn["pesq"] - base["pesq"]
        ratio = f"{ours_gain / dfn_gain:.2f} x" if dfn_gain > 0.01 else "not defined (DeepFilterNet3 did not raise PESQ)"
        lines += ["", f"PESQ gain over the input: PaperLab FRCRN {ours_gain:+.2f}, DeepFilterNet3 {dfn_gain:+.2f}; "
                  f"ratio {ratio}.", ""]
        for q in (q for q in rows if q["task"] == "reference_quality" and q["dataset"] == dataset):
            lines += [f"The {q['clips']} recordings used as references are not clean themselves (DNSMOS OVRL "
                      f"{q['dnsmos_ovrl']:.2f}, background {q['dnsmos_bak']:.2f}): an engine that also removes their "
                      "own background loses SI-SDR/PESQ/STOI for it, so DNSMOS is the fairer column here.", ""]
    sep = [r for r in rows if r["task"] == "separation"]
    swap = [r for r in rows if r["task"] == "long_mixture"]
    if sep:
        lines += ["## Separation (PaperLab TIGER-lite)", "",
                  "| data | n | passes averaged | SI-SDRi (dB) | median SI-SDRi | output SI-SDR (dB) | RTF (1 / 2 threads) |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {s['dataset']} | {s['n']} | {s['shifts']} | {s['si_sdri']:.2f} | {s['si_sdri_median']:.2f} | "
                  f"{s['si_sdr']:.2f} | {rtf_of.get(SEPARATOR, '-') if s['shifts'] == tiger.SHIFTS else '-'} |"
                  for s in sep]
        lines += [""]
    choice = [r for r in rows if r["task"] == "separation_shifts"]
    if choice:
        lines += [f"Shift averaging (passes on STFT grids offset by hop/shifts), chosen on {choice[0]['n']} "
                  "validation mixtures: " + ", ".join(f"{r['shifts']} pass(es) {r['si_sdri']:.2f} dB"
                                                       for r in choice) + f"; the engine uses {tiger.SHIFTS}.", ""]
    if swap:
        w = swap[0]
        lines += [f"{w.get('mixtures', 1)} mixture(s) of {w['seconds']:.0f} s, separated in {CHUNK_S:.0f} s chunks with "
                  f"{OVERLAP_S:.0f} s overlap, had {w['speaker_swaps']} speaker swap(s) across {w['windows']} windows "
                  "of 4 s.", ""]
    return "\n".join(lines)


TASKS = ("rtf", "enhancement", "real", "separation", "shifts")


def save(task: str, rows: list[dict], out: Path) -> None:
    """Replace ``task``'s rows in the store and rebuild the Markdown from every stored row.

    The store is re-read just before writing: tasks may run in parallel processes.
    """
    store = STORE if out == RESULTS else out.with_suffix(".jsonl")
    stored = [json.loads(line) for line in store.read_text().splitlines()] if store.is_file() else []
    stored = [r for r in stored if r.get("group") != task] + [{**r, "group": task} for r in rows]
    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text("".join(json.dumps(r) + "\n" for r in stored))
    out.write_text(markdown(stored))


def run_task(task: str, n: int, workers: int, out: Path) -> list[dict]:
    """All rows of one task, each tagged with ``group`` = task so a re-run replaces exactly them."""
    start = time.time()
    partial = functools.partial(save, task, out=out)
    if task == "rtf":
        rows = rtf_rows(ENGINES)
    elif task == "enhancement":
        rows = evaluate_enhancement([("generated", seed) for seed in range(n)],
                                    "generated held-out test split (unseen voices and sentences)", workers, partial)
    elif task == "real":
        rows = [*evaluate_enhancement(REAL_SPECS[:n], REAL_DATASET, workers, partial), reference_quality()]
    elif task == "separation":
        rows = [*rtf_rows({SEPARATOR: lambda x, sr: tiger.separate(x, sr)}), *separation_rows(n, shifts=1),
                *separation_rows(n), swap_check()]
    elif task == "shifts":  # chosen on validation mixtures, so the test split stays unseen
        rows = [row for shifts in (1, 2, 4) for row in separation_rows(n, "val", shifts)]
    else:
        raise SystemExit(f"unknown task {task!r}; choose from {TASKS}")
    rows.append(emit({"task": "run", "tasks": task, "n": n, "minutes": round((time.time() - start) / 60, 1),
                      "load": " / ".join(f"{x:.1f}" for x in os.getloadavg())}))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100, help="generated mixtures per task (also caps the 27 real cases)")
    ap.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated subset of {TASKS}, or 'report'")
    ap.add_argument("--workers", type=int, default=3, help="processes scoring enhancement cases in parallel")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    torch.set_num_threads(1)
    for task in args.tasks.split(","):
        if task == "report":  # only rebuild the Markdown from the stored rows
            stored = [json.loads(line) for line in STORE.read_text().splitlines()] if STORE.is_file() else []
            args.out.write_text(markdown(stored))
        else:
            save(task, run_task(task, args.n, args.workers, args.out), args.out)
    print(json.dumps({"written": str(args.out)}))


if __name__ == "__main__":
    main()
