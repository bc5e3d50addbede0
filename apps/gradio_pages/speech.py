"""The speech page: enhancement (4 engines, A/B players, spectrograms, FRCRN mask, metrics) and
two-speaker separation (players, spectrograms, SI-SDRi). Layout and wiring only; the work is
in models.speech.pipeline and the figures in apps/figures/speech.py."""
from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

from apps.common import gradio_handler, gradio_progress, gradio_session_dir, write_download
from apps.figures import speech as plots
from models.common.audio import save_wav
from models.common.errors import InputError
from models.speech import pipeline
from models.speech.data import NOISE_KINDS
from models.speech.separate.chunking import CHUNK_S

ENGINE_NAMES = ["PaperLab FRCRN", "DeepFilterNet3", "RNNoise", "Spectral gating"]
EXAMPLE, UPLOAD, RECORD = "Built-in example", "Upload a file", "Record"
PLAYERS = 1 + len(ENGINE_NAMES)


def _signal(source: str, upload: str | None, recording: tuple | None) -> pipeline.Signal | None:
    """The user's own audio, or None when the built-in example is selected."""
    if source == UPLOAD:
        if not upload:
            raise InputError("No file uploaded. Choose a wav, flac, ogg or mp3 file, or pick the built-in example.")
        return pipeline.load_upload(upload)
    if source == RECORD:
        if recording is None:
            raise InputError("Nothing recorded yet. Press the microphone button, speak, stop, then run.")
        sr, audio = recording
        return pipeline.from_microphone(sr, audio)
    return None


def _wav(directory: Path, name: str, audio: np.ndarray, sr: int) -> str:
    return str(save_wav(directory / name, audio, sr))


@gradio_handler
def enhance(source: str, noise_kind: str, snr_db: float, seed: float, upload: str | None,
            recording: tuple | None, engines: list[str], request: gr.Request, progress=gr.Progress()):
    """Run the chosen engines; returns notes, table, players, spectrograms, mask and downloads."""
    signal = _signal(source, upload, recording) or pipeline.noisy_example(int(seed or 0), noise_kind, snr_db)
    rows = pipeline.run_enhancement(signal, list(engines or []), gradio_progress(progress))
    out_dir = gradio_session_dir(request) / "speech"
    players, files = [], []
    for i, row in enumerate(rows):
        path = _wav(out_dir, f"enhance_{i}_{row['name'].replace(' ', '_')}.wav", row["audio"], signal.sr)
        files.append(path)
        players.append(gr.update(value=path, label=row["name"], visible=True))
    players += [gr.update(value=None, visible=False)] * (PLAYERS - len(players))
    table = plots.metrics_table(rows, compact=True)
    files.append(str(write_download(out_dir, "enhancement_metrics.csv", plots.metrics_table(rows))))
    spec = plots.spectrograms([(r["name"], r["audio"]) for r in rows], signal.sr)
    mask = next((r["mask"] for r in rows if r.get("mask") is not None), None)
    ref_note = "" if signal.clean is not None else " No clean reference: only DNSMOS (non-intrusive) is shown."
    notes = " ".join(signal.notes) + ref_note
    return (notes, table, *players, spec,
            gr.update(value=plots.mask_image(mask) if mask is not None else None, visible=mask is not None), files)


@gradio_handler
def separate(source: str, level_db: float, seconds: float, seed: float, upload: str | None,
             recording: tuple | None, request: gr.Request, progress=gr.Progress()):
    """Separate into two speakers; returns notes, table, three players, spectrograms, downloads."""
    signal = _signal(source, upload, recording) or pipeline.mixture_example(int(seed or 0), level_db, seconds)
    result = pipeline.run_separation(signal, gradio_progress(progress))
    out_dir = gradio_session_dir(request) / "speech"
    mix = _wav(out_dir, "separation_mixture.wav", signal.audio, signal.sr)
    spk = [_wav(out_dir, f"separation_speaker_{i + 1}.wav", s, signal.sr) for i, s in enumerate(result["sources"])]
    rows = [{"output": f"Speaker {i + 1}", "time (s)": round(result["seconds"], 2), "RTF": round(result["rtf"], 3),
             **({"SI-SDR (dB)": round(result["si_sdr"][i], 2), "SI-SDRi (dB)": round(result["si_sdri"][i], 2)}
                if "si_sdr" in result else {})} for i in range(len(spk))]
    import pandas as pd

    table = pd.DataFrame(rows)
    files = [mix, *spk, str(write_download(out_dir, "separation_metrics.csv", table))]
    spec = plots.spectrograms([("Mixture", signal.audio)] + [(f"Speaker {i + 1}", s) for i, s in enumerate(result["sources"])],
                              signal.sr)
    notes = " ".join(signal.notes) + ("" if signal.clean is not None else " No references: SI-SDRi needs the built-in example.")
    return notes, table, mix, spk[0], spk[1], spec, files


def _input_widgets(example_label: str) -> tuple:
    source = gr.Radio([EXAMPLE, UPLOAD, RECORD], value=EXAMPLE, label="Input", info=example_label)
    upload = gr.File(label="Audio file (wav, flac, ogg, mp3; any rate; max 120 s)", type="filepath")
    recording = gr.Audio(sources=["microphone"], type="numpy", label="Microphone")
    return source, upload, recording


def build(page: gr.Blocks) -> None:
    gr.Markdown("# Speech\nClean up noisy speech with four engines side by side, or split two talkers "
                "apart, then listen A/B and compare spectrograms and quality metrics. Inputs up to "
                f"{pipeline.MAX_SECONDS:.0f} s.")
    with gr.Tab("Enhancement"):
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                source, upload, recording = _input_widgets("The example is an unseen voice reading an unseen sentence.")
                noise = gr.Dropdown(list(NOISE_KINDS), value="pink", label="Example noise")
                snr = gr.Slider(-5, 20, value=5, step=1, label="Example SNR (dB)")
                seed = gr.Number(value=1, precision=0, label="Example number (voice and sentence)")
                engines = gr.CheckboxGroup(ENGINE_NAMES, value=ENGINE_NAMES, label="Engines")
                run = gr.Button("Enhance", variant="primary")
            with gr.Column(scale=2):
                notes = gr.Markdown()
                table = gr.Dataframe(label="Metrics (higher is better; RTF = processing time / duration)",
                                     elem_id="speech-metrics", interactive=False)
                with gr.Row():
                    players = [gr.Audio(label=f"Output {i}", type="filepath", interactive=False, visible=i == 0,
                                        elem_id=f"speech-player-{i}", min_width=150) for i in range(PLAYERS)]
                spec = gr.Plot(label="Spectrograms (one colour scale)")
                mask = gr.Plot(label="FRCRN mask", visible=False)
                files = gr.File(label="Downloads (WAV, CSV)", file_count="multiple", interactive=False)
        run.click(enhance, [source, noise, snr, seed, upload, recording, engines],
                  [notes, table, *players, spec, mask, files])
    with gr.Tab("Separation"):
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                s_source, s_upload, s_recording = _input_widgets("The example mixes two unseen voices.")
                level = gr.Slider(-10, 10, value=0, step=1, label="Example: speaker 2 level (dB)")
                length = gr.Slider(4, 60, value=4, step=1,
                                   label=f"Example length (s); > {CHUNK_S:.0f} s is processed in aligned chunks")
                s_seed = gr.Number(value=1, precision=0, label="Example number")
                s_run = gr.Button("Separate", variant="primary")
            with gr.Column(scale=2):
                s_notes = gr.Markdown()
                s_table = gr.Dataframe(label="Separation metrics", interactive=False, elem_id="speech-sep-metrics")
                with gr.Row():
                    mix_player = gr.Audio(label="Mixture", type="filepath", interactive=False)
                    spk1 = gr.Audio(label="Speaker 1", type="filepath", interactive=False)
                    spk2 = gr.Audio(label="Speaker 2", type="filepath", interactive=False)
                s_spec = gr.Plot(label="Spectrograms (one colour scale)")
                s_files = gr.File(label="Downloads (WAV, CSV)", file_count="multiple", interactive=False)
        s_run.click(separate, [s_source, level, length, s_seed, s_upload, s_recording],
                    [s_notes, s_table, mix_player, spk1, spk2, s_spec, s_files])
