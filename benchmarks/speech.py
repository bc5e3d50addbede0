"""Speech benchmark: enhancement engines and the separator on held-out data; prints JSON lines
and writes benchmarks/results/speech.md.

    python benchmarks/speech.py              # 100 generated mixtures per task (~30-60 min on 2 busy cores)
    python benchmarks/speech.py --n 10       # quick look

Enhancement: (1) the generated test split (voices and sentences never seen in training; noise
white/pink/brown/babble/hum; SNR uniform -5..20 dB), (2) the real recorded speech clips shipped
in the gradio wheel mixed with white, pink and babble noise at 0, 5 and 10 dB.
Separation: held-out 2-speaker mixtures (4 s, -5..5 dB), SI-SDRi; a 60 s mixture checked for
speaker swaps between chunks. RTF: a 10 s clip, torch on 2 threads (the machine's 2 cores).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.speech import data, metrics  # noqa: E402
from models.speech.enhance import ENGINES  # noqa: E402
from models.speech.separate import tiger  # noqa: E402

SR = 16000
RESULTS = ROOT / "benchmarks" / "results" / "speech.md"
COLUMNS = ("si_sdr", "pesq", "stoi", "dnsmos_ovrl")


def emit(row: dict) -> dict:
    print(json.dumps(row), flush=True)
    return row


def score(est: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    return {**metrics.reference_metrics(est, clean), "dnsmos_ovrl": metrics.dnsmos(est)["dnsmos_ovrl"]}


def evaluate_enhancement(cases: list[tuple[np.ndarray, np.ndarray]], dataset: str) -> list[dict]:
    """Mean metrics per engine (and for the unprocessed input) over ``cases`` of (noisy, clean)."""
    per: dict[str, list[dict]] = {"Input (noisy)": [], **{name: [] for name in ENGINES}}
    for i, (noisy, clean) in enumerate(cases):
        per["Input (noisy)"].append(score(noisy, clean))
        for name, fn in ENGINES.items():
            per[name].append(score(fn(noisy, SR), clean))
        if (i + 1) % 10 == 0:
            print(json.dumps({"progress": dataset, "done": i + 1, "of": len(cases)}), file=sys.stderr, flush=True)
    return [emit({"task": "enhancement", "dataset": dataset, "engine": name, "n": len(rows),
                  **{k: round(float(np.nanmean([r[k] for r in rows])), 3) for k in COLUMNS}})
            for name, rows in per.items()]


def generated_cases(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    cases = []
    for seed in range(n):
        ex = data.noisy_example(seed, "test", SR, noise_kind=data.NOISE_KINDS[seed % len(data.NOISE_KINDS)])
        cases.append((ex["noisy"], ex["clean"]))
    return cases


def real_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    cases = []
    for k, clean in enumerate(data.real_speech_clips(SR).values()):
        for kind in ("white", "pink", "babble"):
            noise = data.make_noise(kind, clean.size, seed=100 + k, split="test")
            for snr in (0.0, 5.0, 10.0):
                noisy = data.mix_at_snr(clean, noise, snr)
                scale = min(1.0, 0.9 / float(np.abs(noisy).max()))
                cases.append((noisy * scale, clean * scale))
    return cases


def rtf_rows() -> list[dict]:
    """Median-of-3 real-time factor on a 10 s clip for every engine and the separator."""
    clip = data.noisy_example(0, "test", SR, seconds=10.0, snr_db=5.0, noise_kind="pink")["noisy"]
    rows = []
    for name, fn in {**ENGINES, "PaperLab TIGER-lite (separation)": lambda x, sr: tiger.separate(x, sr)}.items():
        fn(clip[:SR], SR)  # warm-up: model loading is not part of the RTF
        times = [metrics.timed(fn, clip, SR, seconds_of_audio=10.0)[2] for _ in range(3)]
        rows.append(emit({"task": "rtf", "engine": name, "rtf_10s": round(float(np.median(times)), 3)}))
    return rows


def separation_rows(n: int) -> list[dict]:
    gains, outs = [], []
    for seed in range(n):
        ex = data.two_speaker_example(seed, "test", SR, seconds=4.0)
        est = tiger.separate(ex["mixture"], SR)
        from models.speech.separate.chunking import best_order

        est = est[list(best_order(ex["sources"], est))]
        sdr = [metrics.si_sdr(e, r) for e, r in zip(est, ex["sources"])]
        base = [metrics.si_sdr(ex["mixture"], r) for r in ex["sources"]]
        gains.append(np.mean(np.array(sdr) - np.array(base)))
        outs.append(np.mean(sdr))
    return [emit({"task": "separation", "dataset": "generated test split, 4 s, -5..5 dB", "n": n,
                  "si_sdri": round(float(np.mean(gains)), 2), "si_sdr": round(float(np.mean(outs)), 2),
                  "si_sdri_median": round(float(np.median(gains)), 2)})]


def swap_check(seconds: float = 60.0) -> dict:
    """Separate a long mixture; in each 4 s window, does estimate 1 still match speaker 1?"""
    ex = data.two_speaker_example(1234, "test", SR, seconds=seconds)
    est = tiger.separate(ex["mixture"], SR)
    win = 4 * SR
    orders = []
    for start in range(0, ex["mixture"].size - win + 1, win):
        from models.speech.separate.chunking import best_order

        orders.append(best_order(ex["sources"][:, start:start + win], est[:, start:start + win]))
    swaps = sum(a != b for a, b in zip(orders, orders[1:]))
    return emit({"task": "long_mixture", "seconds": seconds, "windows": len(orders), "speaker_swaps": int(swaps)})


def markdown(enh: list[dict], rtf: list[dict], sep: list[dict], swap: dict, took: float) -> str:
    rtf_of = {r["engine"]: r["rtf_10s"] for r in rtf}
    lines = ["# Speech benchmark", "",
             f"Produced by `python benchmarks/speech.py` in {took / 60:.0f} min on this machine (2 shared CPU cores).",
             "RTF = processing time / audio duration on a 10 s clip (median of 3, torch on 2 threads).", ""]
    for dataset in dict.fromkeys(r["dataset"] for r in enh):
        rows = [r for r in enh if r["dataset"] == dataset]
        lines += [f"## Enhancement: {dataset} (n = {rows[0]['n']})", "",
                  "| engine | SI-SDR (dB) | PESQ-WB | STOI | DNSMOS OVRL | RTF |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['engine']} | {r['si_sdr']:.2f} | {r['pesq']:.2f} | {r['stoi']:.3f} | {r['dnsmos_ovrl']:.2f} | "
                  f"{rtf_of.get(r['engine'], 0.0):.3f} |" for r in rows]
        base = next(r for r in rows if r["engine"] == "Input (noisy)")
        dfn = next(r for r in rows if r["engine"] == "DeepFilterNet3")
        ours = next(r for r in rows if r["engine"] == "PaperLab FRCRN")
        gain = (ours["pesq"] - base["pesq"]) / max(dfn["pesq"] - base["pesq"], 1e-9)
        lines += ["", f"PaperLab FRCRN's PESQ gain is {gain:.2f} x DeepFilterNet3's on this set.", ""]
    s = sep[0]
    lines += ["## Separation (PaperLab TIGER-lite)", "",
              f"| data | n | SI-SDRi (dB) | median SI-SDRi | output SI-SDR (dB) | RTF |", "|---|---|---|---|---|---|",
              f"| {s['dataset']} | {s['n']} | {s['si_sdri']:.2f} | {s['si_sdri_median']:.2f} | {s['si_sdr']:.2f} | "
              f"{rtf_of['PaperLab TIGER-lite (separation)']:.3f} |", "",
              f"A {swap['seconds']:.0f} s mixture, separated in 8 s chunks with 2 s overlap, had "
              f"{swap['speaker_swaps']} speaker swap(s) across {swap['windows']} windows of 4 s.", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100, help="generated mixtures per task")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    torch.set_num_threads(2)
    start = time.time()
    rtf = rtf_rows()
    sep = separation_rows(args.n)
    swap = swap_check()
    enh = evaluate_enhancement(generated_cases(args.n), "generated held-out test split (unseen voices and sentences)")
    enh += evaluate_enhancement(real_cases(), "real speech (gradio clips) + white/pink/babble at 0/5/10 dB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(enh, rtf, sep, swap, time.time() - start))
    print(json.dumps({"written": str(args.out.relative_to(ROOT)), "minutes": round((time.time() - start) / 60, 1)}))


if __name__ == "__main__":
    main()
