"""Voice generation benchmark: vocoders on held-out speech, voice conversion vs blend (kNN and flow matching), TTS latency.

Prints JSON lines and writes benchmarks/results/voice.md.
Run: ``python -m benchmarks.voice [--sentences 8] [--threads 1]`` (about 25 min wall, under nice, on the 2-core CPU
shared with one training job).

- Vocoders: copy synthesis of test-split sentences (never trained on) spoken by four voices,
  and of the real recordings in the gradio wheel (speakers never trained on).
- Conversion: flite rms test sentences converted toward each other built-in target by kNN matching in
  the trained content-encoder space and in the cepstral baseline space, and by the flow-matching
  generator. The source is flite rms
  (a voice built from recordings) rather than the page's default espeak voice because the offline
  recogniser that measures intelligibility (WER, ``models.speech.asr``) understands it (11% WER
  unconverted) and not espeak (about 90%). Speaker similarity is
  measured against a *different* utterance of the target (another test sentence, or
  cate_blanch_2 for the cate_blanch reference), so copying the reference itself scores nothing;
  MCD-DTW against the target voice reading the *same* sentence scores voice and words together.
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

from models.speech.asr import transcribe, word_error_rate  # noqa: E402
from models.speech.synth import synthesize  # noqa: E402
from models.speech.voice import content, flow_vc, knn_vc, lab, metrics, tts, voices  # noqa: E402
from models.speech.voice.corpus import EVAL_VOICES, sentences  # noqa: E402
from models.speech.voice.features import MEL, peak_normalise  # noqa: E402
from models.speech.voice.istftnet import CHECKPOINT  # noqa: E402
from models.speech.voice.vocoders import DEFAULT_VOCODER, VOCODERS, resynthesise  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
BLENDS = (0.0, 0.25, 0.5, 0.75, 1.0)
VC_SOURCE_VOICE = "flite:rms"
SOURCE_ITSELF = "(source) flite rms itself, unconverted"
TARGET_ITSELF = "(reference) the target voice reading the sentence, vocoded"
CONV_COLUMNS = ("speaker similarity to target", "speaker similarity to source", "STOI vs source", "MCD-DTW", "WER",
                "DNSMOS")


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
           for name, voice in voices.SYNTHETIC_TARGETS.items() if voice != VC_SOURCE_VOICE}
    real = real_speech_clips(MEL.sr)
    if "cate_blanch_2" in real:
        out["Recorded: cate_blanch (real speech, 8 s)"] = peak_normalise(real["cate_blanch_2"])
    return out


def _mean_row(target: str, space: str, blend: float, scores: list[dict]) -> dict:
    row = {"part": "conversion", "target": target, "space": space, "blend": blend, "utterances": len(scores),
           **{k: round(float(np.mean([s[k] for s in scores])), 3) for k in scores[0]}}
    emit(row)
    return row


def bench_conversion(n_sentences: int) -> list[dict]:
    """Every target x converter x blend, averaged over the test sentences. MCD-DTW needs
    the target voice saying the same sentence, so only synthetic targets have it; for them a
    reference row scores that parallel sentence itself through the same vocoder (the best a
    conversion could do, and the vocoder's own DNSMOS on that voice)."""
    texts = sentences("test")[:n_sentences]
    sources = [peak_normalise(synthesize(t, VC_SOURCE_VOICE, sr=MEL.sr)) for t in texts]
    rows = [{"part": "conversion", "target": SOURCE_ITSELF, "space": SOURCE_ITSELF, "blend": float("nan"),
             "utterances": len(texts), "WER": float(np.mean([word_error_rate(t, transcribe(a, MEL.sr))
                                                            for t, a in zip(texts, sources)]))}]
    emit(rows[0])
    for target, held_out in conversion_targets().items():
        voice = voices.SYNTHETIC_TARGETS.get(target)
        parallel = [peak_normalise(synthesize(t, voice, sr=MEL.sr)) for t in texts] if voice else None
        unconverted = None  # blend 0 is the vocoded source whatever the converter: scored once
        for space in knn_vc.MATCHING_SPACES:
            bank = voices.target_bank(target, space=space)
            for blend in BLENDS:
                if blend == 0 and unconverted is not None:
                    rows.append(_mean_row(target, space, blend, unconverted))
                    continue
                scores = []
                for i, src in enumerate(sources):
                    out = peak_normalise(knn_vc.convert(src, bank, blend=blend).audio)
                    mcd = metrics.mcd_dtw(parallel[i], out) if parallel else float("nan")
                    scores.append({**metrics.conversion_scores(src, out, held_out), "MCD-DTW": mcd,
                                   "WER": word_error_rate(texts[i], transcribe(out, MEL.sr)),
                                   "DNSMOS": metrics.dnsmos_overall(out)})
                unconverted = scores if blend == 0 else unconverted
                rows.append(_mean_row(target, space, blend, scores))
        if parallel:
            scores = []
            for text, src, said in zip(texts, sources, parallel):
                out = peak_normalise(resynthesise(said, DEFAULT_VOCODER).audio)
                scores.append({**metrics.conversion_scores(src, out, held_out, aligned=False),
                               "STOI vs source": float("nan"),  # not time-aligned with the source
                               "MCD-DTW": metrics.mcd_dtw(said, out),
                               "WER": word_error_rate(text, transcribe(out, MEL.sr)),
                               "DNSMOS": metrics.dnsmos_overall(out)})
            rows.append(_mean_row(target, TARGET_ITSELF, float("nan"), scores))
    return rows


def conversion_summary(conv: list[dict]) -> list[dict]:
    """Mean over the synthetic targets (the ones with MCD) for each matching space and blend."""
    out = []
    for space in [*knn_vc.MATCHING_SPACES, TARGET_ITSELF]:
        for blend in BLENDS if space != TARGET_ITSELF else (float("nan"),):
            rows = [r for r in conv if r["space"] == space and r["target"] in voices.SYNTHETIC_TARGETS
                    and (r["blend"] == blend or space == TARGET_ITSELF)]
            out.append({"space": space, "blend": blend, **{k: float(np.mean([r[k] for r in rows])) for k in CONV_COLUMNS}})
    return out


def _cell(value: float, digits: int) -> str:
    return "n/a" if np.isnan(value) else f"{value:.{digits}f}"


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


def checkpoint_records() -> dict[str, dict]:
    """The training record stored in each shipped checkpoint, for the results footer."""
    from models.common.checkpoint import load_checkpoint

    keys = ("steps", "val_mel_l1", "val_retrieval", "val_retrieval_cepstra", "val_loss", "train_cpu_minutes",
            "train_hours_audio")
    records = {}
    for name, path in (("Vocoder", CHECKPOINT), ("Content encoder", content.CHECKPOINT),
                       ("Flow converter", flow_vc.CHECKPOINT)):
        config = load_checkpoint(path)[1]
        records[name] = {k: config[k] for k in keys if k in config}
    return records


def markdown(voc: list[dict], conv: list[dict], tts_rows: list[dict], threads: int,
             checkpoints: dict[str, dict]) -> str:
    lines = ["**Vocoders** (copy synthesis of held-out speech; mel distance lower is better, PESQ/STOI "
             "higher; DNSMOS = no-reference overall quality 1-5; RTF = compute time / audio time)", "",
             "| clips | vocoder | mel distance | PESQ | STOI | DNSMOS | RTF |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['set']} ({r['clips']}) | {r['vocoder']} | {r['mel distance']:.3f} | {r['PESQ']:.2f} | "
              f"{r['STOI']:.3f} | {r['DNSMOS']:.2f} | {r['RTF']:.4f} |" for r in voc]
    source_row, conv = conv[0], conv[1:]
    smoothing = (f"then a {knn_vc.SMOOTHING_FRAMES}-frame moving average" if knn_vc.SMOOTHING_FRAMES > 1
                 else "no smoothing")
    lines += ["", f"**Voice conversion** (source: flite rms reading {conv[0]['utterances']} test sentences, "
              f"recogniser WER {source_row['WER']:.3f} unconverted; vocoder: {DEFAULT_VOCODER}; references: the "
              f"Rainbow Passage plus {voices.REFERENCE_TRAIN_SENTENCES} training sentences in each synthetic voice "
              f"(at most {knn_vc.MAX_REFERENCE_SECONDS:.0f} s), or a real recording; the content encoder was trained "
              "on other sentences spoken by the four flite voices, espeak en-us and five other espeak voices, and "
              "never heard espeak en-gb f4 or the recordings). Columns: *converter* = the space in which source "
              f"frames find their k={knn_vc.DEFAULT_K} nearest reference frames ({smoothing}), or the flow-matching "
              "generator (trained on the same ten voices' parallel speech, prompted by the reference's mel "
              f"statistics, {flow_vc.SAMPLING_STEPS} Euler steps); "
              "*sim. target / sim. source* = speaker-similarity proxy, cosine of cepstral "
              "mean/std statistics against a *different* utterance of the target, or against the source "
              "(higher = closer); *STOI vs source* = kept relative to the source (0-1; it also "
              "penalises the voice change itself); *MCD-DTW* = mel-cepstral distortion in dB after DTW "
              "against the *target voice saying the same sentence* (lower = closer in voice and words; "
              "cepstra c1-c19 of our 80-band log-mel, so not comparable with papers' SPTK values; "
              "recorded targets have no parallel sentence); *WER* = word error rate of the offline recogniser "
              "(PocketSphinx) against the sentence's text, the intelligibility measure (lower is better; "
              "it is also thrown by unnatural voices, see the target-itself rows); "
              "*DNSMOS* = no-reference overall quality 1-5.", "",
              f"Mean over the {len(voices.SYNTHETIC_TARGETS) - 1} synthetic targets:", "",
              "| converter | blend | sim. target | sim. source | STOI vs source | MCD-DTW (dB) | WER | DNSMOS |",
              "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['space']} | {_cell(r['blend'], 2)} | {r['speaker similarity to target']:.3f} | "
              f"{r['speaker similarity to source']:.3f} | {_cell(r['STOI vs source'], 3)} | {r['MCD-DTW']:.2f} | "
              f"{r['WER']:.3f} | {r['DNSMOS']:.2f} |" for r in conversion_summary(conv)]
    lines += ["", "Per target:", "",
              "| target | converter | blend | sim. target | sim. source | STOI vs source | MCD-DTW (dB) | WER | DNSMOS |",
              "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['target']} | {r['space']} | {_cell(r['blend'], 2)} | {r['speaker similarity to target']:.3f} | "
              f"{r['speaker similarity to source']:.3f} | {_cell(r['STOI vs source'], 3)} | "
              f"{_cell(r['MCD-DTW'], 2)} | {r['WER']:.3f} | {r['DNSMOS']:.2f} |" for r in conv]
    lines += ["", f"**Text to speech** (20-word sentence, whole waveform, {threads} torch threads on a 2-core CPU "
              "shared with other jobs; target < 1 s)", "",
              "| pipeline | words | audio (s) | median time (s) | worst (s) |", "|---|---|---|---|---|"]
    lines += [f"| {r['pipeline']} | {r['words']} | {r['audio_s']:.1f} | {r['median_s']:.3f} | {r['max_s']:.3f} |"
              for r in tts_rows]
    lines += [""] + [f"{name} checkpoint: {record}  " for name, record in checkpoints.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=8, help="test sentences per voice")
    parser.add_argument("--runs", type=int, default=5, help="timed TTS runs")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on a shared 2-core CPU, 2 threads stall each other)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    checkpoints = checkpoint_records()
    voc = bench_vocoders(held_out_clips(args.sentences))
    conv = bench_conversion(args.sentences)
    tts_rows = bench_tts(args.runs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "voice.md").write_text(markdown(voc, conv, tts_rows, args.threads, checkpoints))


if __name__ == "__main__":
    main()
