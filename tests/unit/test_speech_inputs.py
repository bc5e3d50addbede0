"""The page's loader on every kind of bad (or unusual) file a user can upload."""
import numpy as np
import pytest
import soundfile as sf

from models.common.errors import InputError
from models.speech import pipeline

SR = 16000


def tone(seconds: float, sr: int = SR, channels: int = 1, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = amp * np.sin(2 * np.pi * 220 * t).astype(np.float32)
    return np.stack([x] * channels, 1) if channels > 1 else x


@pytest.mark.parametrize("name,make,message", [
    ("notes.wav", lambda p: p.write_text("this is not audio"), "could not be decoded"),
    ("empty.wav", lambda p: p.write_bytes(b""), "empty"),
    ("corrupt.wav", lambda p: p.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt \x10\x00"), "could not be decoded"),
    ("silent.wav", lambda p: sf.write(p, np.zeros(SR, np.float32), SR), "silent"),
    ("short.wav", lambda p: sf.write(p, tone(0.05), SR), "at least 100 ms"),
    ("nan.wav", lambda p: sf.write(p, np.where(np.arange(SR) == 50, np.nan, tone(1.0)).astype(np.float32), SR,
                                   subtype="FLOAT"), "NaN"),
    ("long.wav", lambda p: sf.write(p, tone(pipeline.MAX_SECONDS + 5, sr=8000), 8000), "at most"),
    ("zero_frames.wav", lambda p: sf.write(p, np.zeros(0, np.float32), SR), "no samples"),
])
def test_bad_files_get_clear_messages(tmp_path, name, make, message):
    path = tmp_path / name
    make(path)
    with pytest.raises(InputError, match=message):
        pipeline.load_upload(str(path))


@pytest.mark.parametrize("sr,channels", [(8000, 1), (96000, 1), (48000, 6), (44100, 2)])
def test_unusual_rates_and_channels_are_handled(tmp_path, sr, channels):
    path = tmp_path / "x.flac"
    sf.write(path, tone(1.0, sr, channels), sr)
    signal = pipeline.load_upload(str(path))
    assert signal.sr == sr and signal.audio.ndim == 1 and signal.audio.size == sr
    assert any("narrow-band" in n for n in signal.notes) == (sr < 16000)


def test_clipped_input_is_flagged(tmp_path):
    path = tmp_path / "clipped.wav"
    sf.write(path, np.clip(tone(1.0, amp=3.0), -1, 1), SR)
    assert any("clipped" in n for n in pipeline.load_upload(str(path)).notes)


def test_microphone_int16_stereo():
    audio = (tone(1.0, SR, 2) * 32767).astype(np.int16)
    signal = pipeline.from_microphone(SR, audio)
    assert signal.audio.shape == (SR,) and np.abs(signal.audio).max() == pytest.approx(0.3, abs=0.01)
    with pytest.raises(InputError):
        pipeline.from_microphone(SR, np.zeros(0, np.int16))
