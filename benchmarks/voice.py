"""Voice generation benchmark: vocoders on held-out speech, kNN conversion vs blend, TTS latency.

Prints JSON lines and writes benchmarks/results/voice.md.
Run: ``python -m benchmarks.voice [--sentences 5] [--threads 1]`` (about 15 min on the shared 2-core CPU).

- Vocoders: copy synthesis of test-split sentences (never trained on) spoken by four voices,
  and of the real recordings in the gradio wheel (speakers never trained on).
- Conversion: espeak-ng en-us test sentences converted toward each built-in target. Speaker
  similarity is measured against a *different* utterance of the target (another test sentence,
  or cate_blanch_2 for the cate_blanch reference), so copying the reference itself scores nothing.
- TTS: wall time from text to the finished waveform for the 20-word default sentence (the whole
  waveform, so it upper-bounds the time to first audio), median of several warm runs.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.speech.synth import synthesize  # noqa: E402
from models.speech.voice import knn_vc, lab, metrics, tts, voices  # noqa: E402
from models.speech.voice.corpus import EVAL_VOICES, sentences  # noqa: E402
from models.speech.voice.features import MEL, peak_normalise  # noqa: E402
from models.speech.voice.istftnet import CHECKPOINT  # noqa: E402
from models.speech.voice.vocoders import DEFAULT_VOCODER, VOCODERS, resynthesise  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
BLENDS = (0.0, 0.25, 0.5, 0.75, 1.0)
VC_SOURCE_VOICE = "espeak:en-us"


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def held_out_clips(n_sentences: int) -> dict[str, list[np.ndarray]]:
    """Test-split sentences per evaluation voice, plus the real recordings."""
    from models.speech.data import real_speech_clips

    texts = sentences("test")[:n_sentences]
    synthetic = [peak_normalise(synthesize(t, v, sr=MEL.sr)) for v in EVAL_VOICES for t in texts]
    real = [peak_normalise(a) for a in real_speech_clips(MEL.sr).values()]
    return {f"held-out sentences, {len(EVAL_VOICES)} synthetic voices": synthetic,
            "real recordings (gradio wheel)": real}


def bench_vocoders(sets: dict[str, list[np.ndarray]]) -> list[dict]:
    resynthesise(sets[next(iter(sets))][0][: MEL.sr], DEFAULT_VOCODER)  # warm-up: imports, numba, weights
    resynthesise(sets[next(iter(sets))][0][: MEL.sr], "Griffin-Lim")
    rows = []
    for set_name, clips in sets.items():
        for name in VOCODERS:
            scores = []
            for clip in clips:
                result = resynthesise(clip, name)
                # the fastest of three runs: other jobs on the shared CPU only ever add time
                rtf = min(result.rtf, *(resynthesise(clip, name).rtf for _ in range(2)))
                scores.append({**lab.score(clip, result), "RTF": rtf, "DNSMOS": metrics.dnsmos_overall(result.audio)})
            row = {"part": "vocoder", "set": set_name, "clips": len(clips), "vocoder": name,
                   **{k: round(float(np.mean([s[k] for s in scores])), 4)
                      for k in ("mel distance", "PESQ", "STOI", "DNSMOS", "RTF")}}
            emit(row)
            rows.append(row)
    return rows


def conversion_targets() -> dict[str, np.ndarray]:
    """Per built-in target: a held-out utterance of that voice (not the reference passage)."""
    from models.speech.data import real_speech_clips

    held_text = " ".join(sentences("test")[-2:])
    out = {name: peak_normalise(synthesize(held_text, voice, sr=MEL.sr))
           for name, voice in voices.SYNTHETIC_TARGETS.items()}
    real = real_speech_clips(MEL.sr)
    if "cate_blanch_2" in real:
        out["Recorded: cate_blanch (real speech, 8 s)"] = peak_normalise(real["cate_blanch_2"])
    return out


def bench_conversion(n_sentences: int) -> list[dict]:
    sources = [peak_normalise(synthesize(t, VC_SOURCE_VOICE, sr=MEL.sr)) for t in sentences("test")[:n_sentences]]
    rows = []
    for target, held_out in conversion_targets().items():
        bank = voices.target_bank(target)
        for blend in BLENDS:
            scores = []
            for src in sources:
                out = peak_normalise(knn_vc.convert(src, bank, blend=blend).audio)
                scores.append({**metrics.conversion_scores(src, out, held_out), "DNSMOS": metrics.dnsmos_overall(out)})
            row = {"part": "conversion", "target": target, "blend": blend, "utterances": len(sources),
                   **{k: round(float(np.mean([s[k] for s in scores])), 3) for k in scores[0]}}
            emit(row)
            rows.append(row)
    return rows


def bench_tts(runs: int) -> list[dict]:
    bank = voices.target_bank(voices.DEFAULT_TARGET)
    words = len(tts.DEFAULT_TEXT.split())
    rows = []
    for label, target in (("engine voice only", None), (f"converted to {voices.DEFAULT_TARGET}", bank)):
        tts.speak(tts.DEFAULT_TEXT, tts.DEFAULT_VOICE, target=target)  # warm-up
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            speech = tts.speak(tts.DEFAULT_TEXT, tts.DEFAULT_VOICE, target=target)
            times.append(time.perf_counter() - start)
        row = {"part": "tts", "pipeline": label, "words": words, "audio_s": round(len(speech.audio) / MEL.sr, 2),
               "median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3), "runs": runs}
        emit(row)
        rows.append(row)
    return rows


def markdown(voc: list[dict], conv: list[dict], tts_rows: list[dict], threads: int, checkpoint: dict) -> str:
    lines = ["**Vocoders** (copy synthesis of held-out speech; mel distance lower is better, PESQ/STOI "
             "higher; DNSMOS = no-reference overall quality 1-5; RTF = compute time / audio time)", "",
             "| clips | vocoder | mel distance | PESQ | STOI | DNSMOS | RTF |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['set']} ({r['clips']}) | {r['vocoder']} | {r['mel distance']:.3f} | {r['PESQ']:.2f} | "
              f"{r['STOI']:.3f} | {r['DNSMOS']:.2f} | {r['RTF']:.4f} |" for r in voc]
    lines += ["", f"**kNN voice conversion** (source: espeak-ng en-us test sentences; vocoder: {DEFAULT_VOCODER}; "
              "similarity = cosine of cepstral mean/std statistics against a different utterance of the target)", "",
              "| target | blend | similarity to target | similarity to source | STOI vs source | DNSMOS |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {r['target']} | {r['blend']:.2f} | {r['speaker similarity to target']:.3f} | "
              f"{r['speaker similarity to source']:.3f} | {r['STOI vs source']:.3f} | {r['DNSMOS']:.2f} |"
              for r in conv]
    lines += ["", f"**Text to speech** (20-word sentence, whole waveform, {threads} torch threads on a 2-core CPU "
              "shared with other jobs; target < 1 s)", "",
              "| pipeline | words | audio (s) | median time (s) | worst (s) |", "|---|---|---|---|---|"]
    lines += [f"| {r['pipeline']} | {r['words']} | {r['audio_s']:.1f} | {r['median_s']:.3f} | {r['max_s']:.3f} |"
              for r in tts_rows]
    lines += ["", f"Vocoder checkpoint: {checkpoint}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=5, help="test sentences per voice")
    parser.add_argument("--runs", type=int, default=5, help="timed TTS runs")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on a shared 2-core CPU, 2 threads stall each other)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from models.common.checkpoint import load_checkpoint

    config = load_checkpoint(CHECKPOINT)[1]
    keys = ("steps", "val_mel_l1", "train_cpu_minutes", "train_hours_audio")
    checkpoint = {k: config[k] for k in keys if k in config}
    voc = bench_vocoders(held_out_clips(args.sentences))
    conv = bench_conversion(args.sentences)
    tts_rows = bench_tts(args.runs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "voice.md").write_text(markdown(voc, conv, tts_rows, args.threads, checkpoint))


if __name__ == "__main__":
    main()
