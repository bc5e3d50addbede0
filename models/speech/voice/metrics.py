"""Scores for generated speech: mel distance, PESQ, STOI, and a speaker-similarity proxy.

PESQ (ITU-T P.862, wide-band) and STOI come from the ``pesq`` and ``pystoi`` packages; they need
a time-aligned reference, which copy-synthesis and frame-wise kNN conversion both preserve.
No speaker-verification network can be downloaded here, so speaker similarity is the cosine
similarity of mean-and-spread cepstral statistics (a classic i-vector-free proxy). DNSMOS
(Microsoft's no-reference quality predictor; its ONNX models ship inside the ``speechmos``
wheel, run by ``onnxruntime``) rates outputs that have no aligned reference. MCD-DTW, the
standard voice-conversion measure, compares a conversion with the *target* speaker saying the
same words (TTS gives such parallel speech for free), so it rewards right voice *and* right words.
"""
from __future__ import annotations

import numpy as np
import torch

from models.speech.voice.features import MEL, cepstra, log_mel, speech_frames


def _aligned(reference: np.ndarray, degraded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = min(len(reference), len(degraded))
    return reference[:n].astype(np.float64), degraded[:n].astype(np.float64)


def mel_distance(reference: np.ndarray, degraded: np.ndarray) -> float:
    """Mean absolute log-mel difference (nats), the vocoder papers' "mel L1"; lower is better."""
    r, d = _aligned(reference, degraded)
    a, b = log_mel(r.astype(np.float32)), log_mel(d.astype(np.float32))
    return float((a - b).abs().mean())


def pesq_wb(reference: np.ndarray, degraded: np.ndarray) -> float:
    """Wide-band PESQ (MOS-LQO, about 1.0-4.6); higher is better."""
    from pesq import pesq

    r, d = _aligned(reference, degraded)
    return float(pesq(MEL.sr, r, d, "wb"))


def stoi(reference: np.ndarray, degraded: np.ndarray) -> float:
    """Short-time objective intelligibility (0-1); higher is better."""
    from pystoi import stoi as _stoi

    r, d = _aligned(reference, degraded)
    return float(_stoi(r, d, MEL.sr, extended=False))


def dnsmos_overall(audio: np.ndarray) -> float:
    """DNSMOS P.835 overall quality (about 1-5, higher is better), no reference needed."""
    from speechmos import dnsmos

    clipped = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)  # as the saved WAV would be
    return float(dnsmos.run(clipped, MEL.sr)["ovrl_mos"])


def _speech_cepstra(audio: np.ndarray) -> np.ndarray:
    """(frames, 19) cepstra c1..c19 of the speech frames (pauses dropped)."""
    logmel = log_mel(audio)
    return cepstra(logmel)[1:, speech_frames(logmel)].T.numpy().astype(np.float64)


def mcd_dtw(target: np.ndarray, converted: np.ndarray) -> float:
    """Mel-cepstral distortion (dB) after DTW alignment; lower is better.

    MCD = (10 / ln 10) * sqrt(2 * sum_d (c_d - c'_d)^2), averaged over the DTW path (Kubichek
    1993; c0 excluded). Our cepstra are the DCT of the 80-band log-mel rather than SPTK
    mel-cepstra; rescaled from the orthonormal DCT to SPTK's convention (log|H(w)| = c0 +
    sum_d c_d cos(d w), natural log of amplitude) the values land in the usual few-dB range, but
    they rank systems here and are not comparable with figures in papers.
    """
    import librosa

    scale = (2.0 / MEL.n_mels) ** 0.5  # orthonormal DCT-II -> coefficients of the cosine series
    a, b = scale * _speech_cepstra(target), scale * _speech_cepstra(converted)
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    _, path = librosa.sequence.dtw(X=a.T, Y=b.T, metric="euclidean", backtrack=True)
    diff = a[path[:, 0]] - b[path[:, 1]]
    return float(np.mean(10.0 / np.log(10.0) * np.sqrt(2.0 * (diff ** 2).sum(axis=1))))


def speaker_vector(audio: np.ndarray) -> np.ndarray:
    """Mean and standard deviation of cepstra c1..c19 over voiced (loud) frames."""
    logmel = log_mel(audio)
    ceps = cepstra(logmel)[1:]
    energy = logmel.mean(dim=0)
    loud = energy > energy.max() - 4.0  # within ~35 dB of the loudest frame: skips pauses
    ceps = ceps[:, loud] if int(loud.sum()) > 2 else ceps
    return torch.cat([ceps.mean(dim=1), ceps.std(dim=1)]).numpy()


def speaker_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of :func:`speaker_vector`s (1 = same cepstral statistics)."""
    u, v = speaker_vector(a), speaker_vector(b)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9))


def conversion_scores(source: np.ndarray, converted: np.ndarray, target: np.ndarray, aligned: bool = True) -> dict:
    """Did the voice move toward the target (similarities) while the words survived (STOI)?

    STOI compares the output with the source frame by frame, so it is only reported when the
    conversion kept the timing (``aligned``: no speed change or pitch shift).
    """
    scores = {
        "speaker similarity to target": round(speaker_similarity(converted, target), 3),
        "speaker similarity to source": round(speaker_similarity(converted, source), 3),
    }
    if aligned:
        scores["STOI vs source"] = round(stoi(source, converted), 3)
    return scores
