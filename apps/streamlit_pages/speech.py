"""The speech page in Streamlit: the enhancement and separation core flows (example or upload,
players, spectrograms, metrics, downloads). Work and figures come from models.speech."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import soundfile as sf
import streamlit as st

from apps.common import UPLOAD_LIMIT_MB, streamlit_errors, streamlit_progress, streamlit_session_dir
from apps.figures import speech as plots
from models.common.errors import InputError
from models.speech import pipeline
from models.speech.data import NOISE_KINDS

ENGINE_NAMES = ["PaperLab FRCRN", "DeepFilterNet3", "RNNoise", "Spectral gating"]


def _wav_bytes(audio: np.ndarray, sr: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.clip(audio, -1, 1), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _upload_signal(key: str) -> pipeline.Signal | None:
    """The uploaded file as a Signal, or None when the user keeps the built-in example."""
    use_upload = st.radio("Input", ["Built-in example", "Upload a file"], horizontal=True, key=f"{key}_src") != "Built-in example"
    if not use_upload:
        return None
    up = st.file_uploader(f"Audio file (wav, flac, ogg, mp3; max {UPLOAD_LIMIT_MB} MB, {pipeline.MAX_SECONDS:.0f} s)",
                          key=f"{key}_up")
    if up is None:
        raise InputError("Upload an audio file first, or switch to the built-in example.")
    path = streamlit_session_dir() / f"{key}_{up.name}"
    path.write_bytes(up.getvalue())
    return pipeline.load_upload(str(path))


def _enhancement() -> None:
    cols = st.columns(3)
    noise = cols[0].selectbox("Example noise", list(NOISE_KINDS), index=list(NOISE_KINDS).index("pink"))
    snr = cols[1].slider("Example SNR (dB)", -5, 20, 5)
    seed = cols[2].number_input("Example number", 0, 10_000, 1)
    engines = st.multiselect("Engines", ENGINE_NAMES, default=ENGINE_NAMES)
    signal = _upload_signal("enh")
    if not st.button("Enhance", type="primary"):
        return
    signal = signal or pipeline.noisy_example(int(seed), noise, snr)
    rows = pipeline.run_enhancement(signal, engines, streamlit_progress("Enhancing..."))
    for note in signal.notes:
        st.caption(note)
    table = plots.metrics_table(rows)
    st.dataframe(table, hide_index=True)
    st.download_button("Metrics (CSV)", table.to_csv(index=False), "enhancement_metrics.csv", "text/csv")
    for col, row in zip(st.columns(len(rows)), rows):
        col.caption(row["name"])
        col.audio(_wav_bytes(row["audio"], signal.sr), format="audio/wav")
    st.plotly_chart(plots.spectrograms([(r["name"], r["audio"]) for r in rows], signal.sr))
    mask = next((r["mask"] for r in rows if r.get("mask") is not None), None)
    if mask is not None:
        st.plotly_chart(plots.mask_image(mask))


def _separation() -> None:
    cols = st.columns(3)
    level = cols[0].slider("Example: speaker 2 level (dB)", -10, 10, 0)
    seconds = cols[1].slider("Example length (s)", 4, 60, 4)
    seed = cols[2].number_input("Example number", 0, 10_000, 1, key="sep_seed")
    signal = _upload_signal("sep")
    if not st.button("Separate", type="primary"):
        return
    signal = signal or pipeline.mixture_example(int(seed), level, seconds)
    result = pipeline.run_separation(signal, streamlit_progress("Separating..."))
    rows = [{"output": f"Speaker {i + 1}", "time (s)": round(result["seconds"], 2), "RTF": round(result["rtf"], 3),
             **({"SI-SDRi (dB)": round(result["si_sdri"][i], 2)} if "si_sdri" in result else {})}
            for i in range(2)]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    names = ["Mixture", "Speaker 1", "Speaker 2"]
    signals = [signal.audio, *result["sources"]]
    for col, name, audio in zip(st.columns(3), names, signals):
        col.caption(name)
        col.audio(_wav_bytes(audio, signal.sr), format="audio/wav")
    st.plotly_chart(plots.spectrograms(list(zip(names, signals)), signal.sr))


def render() -> None:
    st.title("Speech")
    st.write("Enhance noisy speech with four engines side by side, or separate two talkers; "
             "listen, compare spectrograms and metrics.")
    with streamlit_errors():
        enh, sep = st.tabs(["Enhancement", "Separation"])
        with enh:
            _enhancement()
        with sep:
            _separation()
