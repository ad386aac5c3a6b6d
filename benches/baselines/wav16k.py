"""Reading a PCM WAV file as 16 kHz mono float32 samples, with numpy only (no PyAV, no ffmpeg)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000


class WavError(Exception):
    """The file is not a WAV file this module reads: names the file."""


def read_wav_16k(path: Path) -> np.ndarray:
    """Samples of a 16-bit PCM WAV file scaled to [-1, 1), channels averaged, at 16 kHz (resampling
    may overshoot that range slightly, as any band-limited resampler does)."""
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as err:
        raise WavError(f"cannot read {path} as a WAV file: {err}") from err
    if width != 2:
        raise WavError(f"{path} has {8 * width}-bit samples; only 16-bit PCM is read")
    pcm = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    mono = pcm.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    if mono.size == 0:
        raise WavError(f"{path} holds no samples")
    return resample(mono, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else mono


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Band-limited resampling through the spectrum: the rfft of the whole clip is cut (or
    zero-padded) to the new length's bins and transformed back. Exact for a clip's band below both
    Nyquist rates; fine for benchmark inputs of a few minutes at most."""
    count = round(samples.size * target / rate)
    spectrum = np.fft.rfft(samples.astype(np.float64))
    bins = count // 2 + 1
    if spectrum.size >= bins:
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - spectrum.size, spectrum.dtype)])
    out = np.fft.irfft(spectrum, n=count) * (count / samples.size)
    return out.astype(np.float32)
