"""models/common: device choice, checkpoints, audio I/O and its validation."""
import numpy as np
import pytest
import soundfile as sf
import torch

from models.common import device
from models.common.audio import check_audio, load_audio, resample, save_wav
from models.common.checkpoint import load_checkpoint, save_checkpoint
from models.common.errors import InputError


def test_device_defaults_to_cpu_here_and_env_overrides(monkeypatch):
    monkeypatch.delenv(device.ENV_VAR, raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device.get_device().type == expected
    monkeypatch.setenv(device.ENV_VAR, "cpu")
    assert device.get_device() == torch.device("cpu")
    if not torch.cuda.is_available():
        monkeypatch.setenv(device.ENV_VAR, "cuda")
        with pytest.raises(RuntimeError, match="no CUDA"):
            device.get_device()


def test_checkpoint_round_trip_keeps_config(tmp_path):
    tensors = {"Q": torch.randn(24, 7), "w": torch.arange(6.0).reshape(2, 3).t()}  # non-contiguous
    path = save_checkpoint(tmp_path / "m.safetensors", tensors, {"W": 24, "name": "cyclenet"})
    loaded, config = load_checkpoint(path)
    assert config == {"W": 24, "name": "cyclenet"}
    assert torch.equal(loaded["Q"], tensors["Q"]) and torch.equal(loaded["w"], tensors["w"])


def test_checkpoint_errors_are_user_messages(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_checkpoint(tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"definitely not safetensors")
    with pytest.raises(InputError, match="not a readable safetensors"):
        load_checkpoint(bad)


def tone(sr: int, seconds: float, channels: int = 1) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return np.stack([0.3 * np.sin(2 * np.pi * 440 * (c + 1) * t) for c in range(channels)]).astype(np.float32)


@pytest.mark.parametrize("sr,channels", [(8000, 1), (48000, 2), (96000, 6)])
def test_load_audio_downmixes_and_resamples(tmp_path, sr, channels):
    path = tmp_path / "in.wav"
    sf.write(path, tone(sr, 0.5, channels).T, sr)
    audio, out_sr = load_audio(path, target_sr=16000)
    assert out_sr == 16000 and audio.ndim == 1
    assert abs(len(audio) - 8000) <= 2
    multi, native = load_audio(path, mono=False)
    assert native == sr and multi.shape[0] == channels


def test_save_wav_round_trip_clips(tmp_path):
    x = np.array([0.0, 0.5, 2.0, -3.0] * 1000, dtype=np.float32)
    path = save_wav(tmp_path / "o.wav", x, 16000)
    y, sr = sf.read(path, dtype="float32")
    assert sr == 16000 and y.max() <= 1.0 and y.min() >= -1.0 and abs(y[1] - 0.5) < 1e-3


@pytest.mark.parametrize("samples,message", [
    (np.zeros(0), "no samples"),
    (np.full(800, 0.1), "at least 100 ms"),
    (np.zeros(16000), "silent"),
    (np.r_[np.full(8000, 0.1), [np.nan]], "NaN"),
])
def test_check_audio_rejects_bad_signals(samples, message):
    with pytest.raises(InputError, match=message):
        check_audio(samples, 16000)


def test_check_audio_enforces_duration_cap():
    with pytest.raises(InputError, match="at most 1 s"):
        check_audio(tone(16000, 2.0), 16000, max_seconds=1)


def test_load_audio_rejects_non_audio(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio at all" * 10)
    with pytest.raises(InputError, match="could not be decoded"):
        load_audio(text)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        load_audio(empty)


def test_resample_preserves_frequency():
    x = tone(48000, 1.0)[0]
    y = resample(x, 48000, 16000)
    peak_hz = np.argmax(np.abs(np.fft.rfft(y))) * 16000 / len(y)
    assert abs(peak_hz - 440) < 2


def test_load_model_rebuilds_architecture_and_weights(tmp_path):
    from models.common.checkpoint import load_model

    net = torch.nn.Linear(3, 2)
    path = save_checkpoint(tmp_path / "lin.safetensors", net.state_dict(), {"in_features": 3, "out_features": 2})
    loaded = load_model(path, torch.nn.Linear, ("in_features", "out_features"))
    assert not loaded.training and torch.equal(loaded.weight, net.weight)
    with pytest.raises(InputError, match="missing bias"):
        load_model(path, torch.nn.Linear, ("in_features", "bias"))


def test_cpu_budget_runs_out_and_decays_the_learning_rate_by_cosine():
    import torch

    from models.common.budget import CpuBudget

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.0)
    budget = CpuBudget(minutes=0.005, max_wall_minutes=1.0)  # 0.3 CPU-seconds
    budget.cosine_lr(opt, 1.0)
    assert opt.param_groups[0]["lr"] > 0.95 and not budget.over()
    x = 0.0
    while not budget.over():
        x += sum(i * i for i in range(1000))  # burn CPU time
    budget.cosine_lr(opt, 1.0)
    assert opt.param_groups[0]["lr"] < 1e-6 and budget.cpu_minutes() >= 0.005
    assert CpuBudget(minutes=10, max_wall_minutes=0).over()  # the wall cap also ends a run
