"""What the speech page runs: build examples, run engines, score them, prepare spectrograms.

Front ends only lay out widgets and plots; every number they show comes from here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from models.common.audio import check_audio, load_audio, resample
from models.common.errors import InputError
from models.common.progress import Progress, report
from models.speech import data, metrics

MAX_SECONDS = 120.0
"""Longest input accepted (a stated cap: DFN3 alone needs ~0.2-0.7 s per second on 2 shared cores)."""
DNSMOS_SECONDS = 30.0
"""DNSMOS is computed on at most the first 30 s (it scores 9 s windows at a 1 s hop)."""
METRIC_SR = 16000
CLIP_FRACTION = 0.01


@dataclass
class Signal:
    """Audio the page works on: mono float32 at the rate it arrived with (output keeps it)."""
    audio: np.ndarray
    sr: int
    clean: np.ndarray | None = None  # reference(s) when the example was generated
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.audio.size / self.sr


def load_upload(path: str, max_seconds: float = MAX_SECONDS) -> Signal:
    """Read an uploaded/recorded file into a :class:`Signal`; bad files raise InputError.

    Any rate and channel count is accepted (channels are averaged); rates are kept so the
    output plays back at the input's rate. Clipped input is processed but flagged.
    """
    audio, sr = load_audio(path, mono=True, max_seconds=max_seconds)
    notes = []
    if sr < 8000:
        raise InputError(f"The file's sample rate is {sr} Hz; at least 8000 Hz is needed for speech.")
    if np.mean(np.abs(audio) >= 0.999) > CLIP_FRACTION:
        notes.append("The input is clipped (more than 1 % of samples at full scale); results will keep the distortion.")
    if sr < METRIC_SR:
        notes.append(f"The input is {sr} Hz narrow-band audio; engines upsample it, "
                     f"so nothing above {sr // 2} Hz can be restored.")
    return Signal(audio, sr, notes=notes)


def from_microphone(sr: int, audio: np.ndarray, max_seconds: float = MAX_SECONDS) -> Signal:
    """A Gradio numpy recording (int16 or float, mono or (n, channels)) as a :class:`Signal`."""
    x = np.asarray(audio)
    if x.size == 0:
        raise InputError("The recording is empty. Record a few seconds and try again.")
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max)
    x = x.T if x.ndim == 2 else x  # (n, channels) -> channels first
    mono, sr = check_audio(x, int(sr), mono=True, max_seconds=max_seconds, name="The recording")
    return Signal(mono, sr)


def noisy_example(seed: int, noise_kind: str, snr_db: float, seconds: float = 4.0) -> Signal:
    """A held-out (test-split) voice reading an unseen sentence, with noise at the chosen SNR."""
    if noise_kind not in data.NOISE_KINDS:
        raise InputError(f"Unknown noise type '{noise_kind}'. Choose one of {', '.join(data.NOISE_KINDS)}.")
    ex = data.noisy_example(int(seed), "test", METRIC_SR, seconds=seconds, snr_db=float(snr_db), noise_kind=noise_kind)
    return Signal(ex["noisy"], METRIC_SR, clean=ex["clean"], notes=[f"Voice {ex['voice']}: \u201c{ex['text']}\u201d"])


def mixture_example(seed: int, level_db: float, seconds: float = 4.0) -> Signal:
    """Two held-out voices talking at once; speaker 2 at ``level_db`` relative to speaker 1."""
    ex = data.two_speaker_example(int(seed), "test", METRIC_SR, seconds=seconds, level_db=float(level_db))
    return Signal(ex["mixture"], METRIC_SR, clean=ex["sources"], notes=[f"Voices: {ex['voices'][0]} and {ex['voices'][1]}"])


def score(audio: np.ndarray, sr: int, clean: np.ndarray | None) -> dict[str, float]:
    """Reference metrics (if ``clean`` exists, at the example's rate) and DNSMOS, all at 16 kHz."""
    x16 = resample(audio, sr, METRIC_SR)
    row: dict[str, float] = {}
    if clean is not None:
        row.update(metrics.reference_metrics(x16, resample(clean, sr, METRIC_SR)))
    row.update(metrics.dnsmos(x16[: int(DNSMOS_SECONDS * METRIC_SR)]))
    return row


def fit_length(audio: np.ndarray, n: int) -> np.ndarray:
    """Trim or zero-pad to ``n`` samples: resampling round trips can be a sample off, and the A/B
    players and sample-wise metrics need every output aligned with the input."""
    return audio[:n] if audio.size >= n else np.pad(audio, (0, n - audio.size))


def run_enhancement(signal: Signal, engines: list[str], progress: Progress | None = None) -> list[dict]:
    """Run each chosen engine and score it; the first row is the unprocessed input.

    Each row: ``name``, ``audio`` (at signal.sr), ``seconds`` of processing, ``rtf`` and the
    metric columns; the FRCRN row also carries ``mask`` (|M|, freq x frames).
    """
    from models.speech.enhance import ENGINES, deepfilternet, frcrn

    if not engines:
        raise InputError("Choose at least one enhancement engine.")
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise InputError(f"Unknown engine(s): {', '.join(unknown)}.")
    rows = [{"name": "Input (noisy)", "audio": signal.audio, "seconds": 0.0, "rtf": 0.0,
             **score(signal.audio, signal.sr, signal.clean)}]
    for i, name in enumerate(engines):
        report(progress, i / len(engines), f"{name}: enhancing {signal.seconds:.1f} s")
        {"PaperLab FRCRN": frcrn.load_model, "DeepFilterNet3": deepfilternet.load}.get(name, lambda: None)()  # not timed
        if name == "PaperLab FRCRN":
            (out, mask), took, rtf = metrics.timed(frcrn.enhance_with_mask, signal.audio, signal.sr,
                                                   seconds_of_audio=signal.seconds)
        else:
            out, took, rtf = metrics.timed(ENGINES[name], signal.audio, signal.sr, seconds_of_audio=signal.seconds)
            mask = None
        out = fit_length(out, signal.audio.size)
        report(progress, (i + 0.7) / len(engines), f"{name}: scoring")
        rows.append({"name": name, "audio": out, "seconds": took, "rtf": rtf, "mask": mask,
                     **score(out, signal.sr, signal.clean)})
    report(progress, 1.0, "done")
    return rows


def run_separation(signal: Signal, progress: Progress | None = None) -> dict:
    """Separate into two speakers; with references, order outputs like them and report SI-SDRi.

    Returns ``sources`` (2, n) at signal.sr, ``seconds``, ``rtf`` and, with references,
    ``si_sdr`` and ``si_sdri`` per speaker (SI-SDR improvement over the unprocessed mixture).
    """
    from models.speech.separate import chunking, tiger

    tiger.load_model()  # loaded once per process, outside the timed call
    est, took, rtf = metrics.timed(tiger.separate, signal.audio, signal.sr, progress, seconds_of_audio=signal.seconds)
    out = {"sources": est, "seconds": took, "rtf": rtf}
    if signal.clean is not None:
        refs = signal.clean
        est = est[list(chunking.best_order(refs, est))]
        out["sources"] = est
        out["si_sdr"] = [metrics.si_sdr(e, r) for e, r in zip(est, refs)]
        out["si_sdri"] = [s - metrics.si_sdr(signal.audio, r) for s, r in zip(out["si_sdr"], refs)]
    return out


def log_spectrogram(audio: np.ndarray, sr: int, n_fft: int = 512, floor_db: float = -80.0,
                    max_frames: int = 1200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times s, freqs Hz, dB) of |STFT|^2 re full scale, clamped at ``floor_db``.

    Full-scale reference (not per-signal max) so several spectrograms share one colour scale;
    long signals use a larger hop so a plot never has more than ``max_frames`` columns.
    """
    hop = max(n_fft // 4, math.ceil(audio.size / max_frames))
    window = np.hanning(n_fft).astype(np.float32)
    x = np.pad(audio.astype(np.float32), (n_fft // 2, n_fft // 2))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop] * window
    power = np.abs(np.fft.rfft(frames, axis=-1)) ** 2 / (window.sum() ** 2 / 4)
    db = np.maximum(10 * np.log10(power.T + 1e-12), floor_db)
    return np.arange(db.shape[1]) * hop / sr, np.fft.rfftfreq(n_fft, 1 / sr), db.astype(np.float32)
