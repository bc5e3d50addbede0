"""The STFT pair both trained models use (torch.stft; torchaudio does not import here).

A sqrt-Hann window at 50 % or 75 % overlap satisfies the constant-overlap-add condition, so
``istft(stft(x)) == x`` and a mask of ones is an exact identity.
"""
import torch


def _window(n_fft: int, device: torch.device) -> torch.Tensor:
    return torch.hann_window(n_fft, periodic=True, device=device).sqrt()


def stft(x: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """(B, n) waveform -> (B, F, T) complex spectrum with F = n_fft // 2 + 1."""
    return torch.stft(x, n_fft, hop, window=_window(n_fft, x.device), return_complex=True)


def istft(spec: torch.Tensor, n_fft: int, hop: int, length: int) -> torch.Tensor:
    """(B, F, T) complex spectrum -> (B, length) waveform."""
    return torch.istft(spec, n_fft, hop, window=_window(n_fft, spec.device), length=length)
